#!/usr/bin/env bash
# The test command: install dependencies, build from scratch, run the unit/integration tests
# and a bounded run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
bash scripts/fuzz.sh "${RELMOE_FUZZ_SECONDS:-30}"
