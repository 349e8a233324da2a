#!/usr/bin/env bash
# `./anneal bench engines [STEPS]`: the reference distributed engine (gpu-runner/torch) bare, under
# `anneal-runner exec`, on two DDP ranks, and the built-in engine on the same model and batch, in
# one run (scripts/bench_engines.py). Installs Debian's python3-torch and OpenBLAS when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/gpu-runner/engine/target/anneal-runner.jar"

if ! dpkg -s python3-torch libopenblas0-pthread >/dev/null 2>&1; then
  echo "bench: installing python3-torch and libopenblas0-pthread ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
if [[ ! -f "$JAR" ]]; then
  (cd "$ROOT" && ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -pl gpu-runner/engine -am install)
fi
# shellcheck source=openblas-core.sh
source "$ROOT/scripts/openblas-core.sh"
openblas_core
exec /usr/bin/python3 "$ROOT/scripts/bench_engines.py" "$ROOT/gpu-runner/torch" "$JAR" "${1:-30}"
