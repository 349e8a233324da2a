#!/usr/bin/env bash
# `./anneal bench engine [--quick] [--presets tiny,small] [--steps N]`
# Engine training throughput against PyTorch eager on the same model and batch. Installs Debian's
# python3-torch and OpenBLAS (without it Debian's torch runs on the reference BLAS) when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench-peer.sh
source "$ROOT/scripts/bench-peer.sh"

STEPS=20
ARGS=()
while (($#)); do
  case "$1" in
    --steps) STEPS="$2"; ARGS+=("$1" "$2"); shift 2 ;;
    --quick) STEPS=4; ARGS+=("$1"); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

OUT="$(mktemp -d)"
java -jar "$JAR" bench ${ARGS[@]+"${ARGS[@]}"} --json "$OUT/anneal.json" 2> "$OUT/anneal.log"
echo
for blas in 2 1; do
  OPENBLAS_NUM_THREADS=$blas /usr/bin/python3 "$ROOT/scripts/bench_engine_peer.py" measure "$OUT/anneal.json" "$STEPS" \
    > "$OUT/peer-$blas.json"
done
/usr/bin/python3 "$ROOT/scripts/bench_engine_peer.py" report "$OUT/anneal.json" "$OUT/peer-2.json" "$OUT/peer-1.json"
echo "(raw results: $OUT)"
