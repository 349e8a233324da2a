# Sourced by the engine benchmarks. Debian's OpenBLAS 0.3.21 takes some newer CPUs for an old core
# ("Prescott") and then runs a 1024^3 fp32 matmul at a tenth of its speed, which would make the
# PyTorch peer look slow for no fault of PyTorch's. So: read the core OpenBLAS detects, and when it
# is one without AVX2 on a CPU that has AVX2 (or AVX-512), set OPENBLAS_CORETYPE to the CPU's
# class; say which core the peer runs on either way.
openblas_core() {
  local detected flags want
  detected=$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c \
    'import torch; (torch.ones(64, 64) @ torch.ones(64, 64)).sum()' 2>&1 | sed -n 's/^Core: *//p' | head -1)
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  want=""
  case "$detected" in
    Prescott|Core2|Penryn|Dunnington|Nehalem|Sandybridge|Atom|Nano|Katmai|Coppermine|Northwood|Banias|Opteron|Opteron_SSE3|Barcelona|Bobcat|Bulldozer|Piledriver|Steamroller|"")
      if [[ "$flags" == *" avx512f"* ]]; then want=SkylakeX
      elif [[ "$flags" == *" avx2"* ]]; then want=Haswell
      fi ;;
  esac
  if [[ -n "$want" ]]; then
    export OPENBLAS_CORETYPE="$want"
    echo "bench: OpenBLAS detected core '${detected:-none}' on a CPU with $([[ $want == SkylakeX ]] && echo AVX-512 || echo AVX2); the peer runs with OPENBLAS_CORETYPE=$want" >&2
  else
    echo "bench: OpenBLAS core: $detected (as detected)" >&2
  fi
}
