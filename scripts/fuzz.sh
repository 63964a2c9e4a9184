#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [seconds-per-target]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
if ! ls fuzz/*.cpp >/dev/null 2>&1; then echo "fuzz: no targets"; exit 0; fi
CXX=clang++ cmake -S . -B build-fuzz -DRELMOE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"
for src in fuzz/*.cpp; do
  name=$(basename "$src" .cpp)
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  seeds=fuzz/seeds/$name
  echo "fuzz: $name for ${seconds}s"
  build-fuzz/"$name" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
    "$corpus" $( [[ -d $seeds ]] && echo "$seeds" ) 2>&1 | tail -n 12
done
