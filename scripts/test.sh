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
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
bash scripts/sanitize.sh
bash scripts/fuzz.sh "${RELMOE_FUZZ_SECONDS:-30}"
