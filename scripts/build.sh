#!/usr/bin/env bash
# Configures and builds relmoe (Release) against one of two libtorches, each in its own directory:
#   scripts/build.sh                   Debian's libtorch 1.13 (CPU)                 -> build/
#   scripts/build.sh --torch pip       PyTorch 2.x from .venv (scripts/python_env.sh),
#                                      CUDA-enabled when nvcc is present            -> build-pip/
#   scripts/build.sh --torch PREFIX    the libtorch (or PyTorch) installed at PREFIX -> build-prefix/
# Further arguments go to cmake; RELMOE_TARGETS="a b" builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
torch=debian
if [[ ${1:-} == --torch ]]; then
  torch=${2:?--torch needs debian, pip or a prefix}
  shift 2
fi
case $torch in
  debian) dir=build prefix=() ;;
  pip)
    python=$(bash scripts/python_env.sh)
    dir=build-pip prefix=(-DCMAKE_PREFIX_PATH="$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')")
    ;;
  *) dir=build-prefix prefix=(-DCMAKE_PREFIX_PATH="$(realpath "$torch")") ;;
esac
dir=${RELMOE_BUILD_DIR:-$dir}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "${prefix[@]}" "$@" | { grep '^-- relmoe:' || true; }
targets=()
for t in ${RELMOE_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
echo "$dir"
