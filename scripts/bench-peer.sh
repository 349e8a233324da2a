# Sourced by the engine benchmarks: what they need before measuring. Debian's python3-torch and
# OpenBLAS (the PyTorch peer; without OpenBLAS Debian's torch runs on the reference BLAS) are
# installed when missing, the runner jar is built when absent, and OpenBLAS's core is checked
# (openblas-core.sh). Expects ROOT; sets JAR.
JAR="$ROOT/gpu-runner/engine/target/anneal-runner.jar"
if ! dpkg -s python3-torch libopenblas0-pthread >/dev/null 2>&1; then
  echo "bench: installing python3-torch and libopenblas0-pthread (the PyTorch peer) ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
if [[ ! -f "$JAR" ]]; then
  (cd "$ROOT" && ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -pl gpu-runner/engine -am install)
fi
# shellcheck source=openblas-core.sh
source "$ROOT/scripts/openblas-core.sh"
openblas_core
