#!/usr/bin/env bash
# An independent Parquet writer for the tests: npm's hyparquet-writer (pure JavaScript, pinned;
# ZSTD pages through zstd-codec, zstd compiled to JavaScript by Emscripten),
# installed into OUT_DIR/node_modules beside jsonl2parquet.mjs, which converts a JSONL dataset to
# Parquet with it. Kept there between builds; `npm install` runs none of the package's scripts.
set -euo pipefail
out="${1:?usage: setup.sh OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
VERSION=0.17.0
mkdir -p "$out"
cp "$here/jsonl2parquet.mjs" "$out/"
if [[ "$(cat "$out/node_modules/hyparquet-writer/package.json" 2>/dev/null \
      | sed -n 's/.*"version": "\(.*\)".*/\1/p' | head -1)" == "$VERSION" ]]; then
  exit 0
fi
echo '{"name":"anneal-parquet-fixtures","private":true,"type":"module"}' > "$out/package.json"
(cd "$out" && npm install --silent --prefer-offline --ignore-scripts --no-audit --no-fund \
  "hyparquet-writer@$VERSION" zstd-codec@0.1.5 >/dev/null)
