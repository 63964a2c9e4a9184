#!/usr/bin/env bash
# The test command: install dependencies, build from scratch, run the unit/integration tests,
# the same tests (less the minutes-long end-to-end runs) under ASan + UBSan, and a bounded run
# of every fuzz target.
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
stage build bash scripts/build.sh
stage ctest bash -c 'cd build && ctest --output-on-failure -j"$(nproc)"'
stage sanitize bash scripts/sanitize.sh
stage fuzz bash scripts/fuzz.sh "${RELMOE_FUZZ_SECONDS:-30}"
command -v ccache > /dev/null && ccache --show-stats | grep -iE "hits|misses" | head -3 || true
