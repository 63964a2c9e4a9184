#!/usr/bin/env bash
# The test command: install dependencies (Debian packages, and PyTorch 2.x into .venv), build
# against both libtorches (Debian's 1.13 in build/, PyTorch's CUDA-enabled 2.x in build-pip/),
# run the unit/integration tests on each, the same tests (less the minutes-long end-to-end runs)
# under ASan + UBSan, a bounded run of every fuzz target, and the GPU script's CPU dry run.
set -euo pipefail
cd "$(dirname "$0")/.."
# A half-resolved merge leaves conflict markers that still build when they sit in docs.
if git grep -nE '^(<<<<<<<|>>>>>>>) ' -- . 2>/dev/null; then
  echo "scripts/test.sh: merge conflict markers in the tracked files above" >&2
  exit 1
fi
# Each stage prints its wall time, and the total at the end.
started=$SECONDS
stage() {
  local name=$1 t=$SECONDS
  shift
  "$@"
  echo "test.sh: stage '$name' took $((SECONDS - t)) s (total $((SECONDS - started)) s)"
}
stage setup bash scripts/setup.sh
stage python-env bash scripts/python_env.sh
stage build bash scripts/build.sh
stage build-pip bash scripts/build.sh --torch pip
stage ctest bash -c 'cd build && ctest --output-on-failure -j"$(nproc)"'
stage ctest-pip bash -c 'cd build-pip && ctest --output-on-failure -j"$(nproc)"'
stage sanitize bash scripts/sanitize.sh
stage fuzz bash scripts/fuzz.sh "${RELMOE_FUZZ_SECONDS:-30}"
stage gpu-dry-run bash scripts/gpu.sh --dry-run
command -v ccache > /dev/null && ccache --show-stats | grep -iE "hits|misses" | head -3 || true
