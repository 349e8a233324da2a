#!/usr/bin/env bash
# `./anneal bench engines [STEPS]`: the reference distributed engine (gpu-runner/torch) bare, under
# `anneal-runner exec`, on two DDP ranks, and the built-in engine on the same model and batch, in
# one run (scripts/bench_engines.py). Installs Debian's python3-torch and OpenBLAS when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench-peer.sh
source "$ROOT/scripts/bench-peer.sh"
exec /usr/bin/python3 "$ROOT/scripts/bench_engines.py" "$ROOT/gpu-runner/torch" "$JAR" "${1:-30}"
