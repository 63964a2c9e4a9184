#!/usr/bin/env bash
# The test command: install dependencies and, beside the first build, the real GGUF models with
# their references (scripts/models.sh); build against Debian's libtorch 1.13 (build/) and run the
# unit/integration tests; build against PyTorch 2.x's CUDA-enabled libtorch (.venv, build-pip/),
# run the same tests on it and the GPU script's CPU dry run; run the tests (less the
# minutes-long end-to-end runs) under ASan + UBSan, and every fuzz target for a bounded time.
# RELMOE_TORCH_PIP=0 leaves out the 2.x stages (a quicker local loop; CI runs them).
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
# Real pretrained GGUF models and the references made from them with transformers and gguf
# (.models/, .venv/): the GGUF tests read them. On a new machine this is mostly downloading, so
# it runs beside the first build; its output is printed when both are done.
models_log=$(mktemp)
stage models bash scripts/models.sh > "$models_log" 2>&1 &
models=$!
stage build bash scripts/build.sh
models_status=0
wait $models || models_status=$?
cat "$models_log"
rm -f "$models_log"
if ((models_status != 0)); then
  echo "test.sh: the models stage failed (its output is above)" >&2
  exit "$models_status"
fi
stage ctest bash -c 'cd build && ctest --output-on-failure -j"$(nproc)"'
if [[ ${RELMOE_TORCH_PIP:-1} == 1 ]]; then
  # What its tests and the dry run run (the benchmarks all compile in the 1.13 build).
  RELMOE_TARGETS="relmoe relmoe_tests bench_forward bench_pipeline" stage build-pip bash scripts/build.sh --torch pip
  stage ctest-pip bash -c 'cd build-pip && ctest --output-on-failure -j"$(nproc)"'
  stage gpu-dry-run bash scripts/gpu.sh --dry-run
fi
stage sanitize bash scripts/sanitize.sh
stage fuzz bash scripts/fuzz.sh "${RELMOE_FUZZ_SECONDS:-30}"
command -v ccache > /dev/null && ccache --show-stats | grep -iE "hits|misses" | head -3 || true
