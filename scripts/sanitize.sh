#!/usr/bin/env bash
# Builds the CLI and the test suite with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ and runs the tests that fit CI's time under instrumentation (the list below:
# everything except the end-to-end runs that train experts, which take minutes under ASan).
# Usage: scripts/sanitize.sh [extra gtest filter]
set -euo pipefail
cd "$(dirname "$0")/.."
# -O1 -g1: line tables are all ASan's reports need, and they compile faster than -O2 -g.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DRELMOE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" --target relmoe relmoe_tests
# libtorch and OpenBLAS are not instrumented; their allocations are invisible to LeakSanitizer's
# bookkeeping (one-time pools), so leaks are not reported, every other ASan/UBSan finding is fatal.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_WAIT_POLICY=PASSIVE
filter=${1:-"-ExperimentCli.*:ExpertTrain*.*:EvalCli.*:ReportHtml.*"}
# One gtest shard per core, at once (the tests are safe in parallel, as ctest -j runs them), each
# shard's output printed whole when it ends; any shard's failure fails the stage.
shards=$(nproc)
logs=$(mktemp -d)
pids=()
for ((i = 0; i < shards; ++i)); do
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i build-asan/relmoe_tests --gtest_filter="$filter" --gtest_brief=1 \
    > "$logs/$i.log" 2>&1 &
  pids+=($!)
done
failed=0
for ((i = 0; i < shards; ++i)); do
  wait "${pids[$i]}" || failed=1
  echo "sanitize: shard $((i + 1)) of $shards"
  cat "$logs/$i.log"
done
rm -rf "$logs"
exit $failed
