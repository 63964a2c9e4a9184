#!/usr/bin/env bash
# CPU forward throughput of the two builds side by side in one run: bench_forward (Qwen2-0.5B
# shape, 16 x 64 tokens, 2 threads) from build/ (Debian's libtorch 1.13) and build-pip/
# (PyTorch 2.x), alternated round by round, f32 and bf16. Prints one line per run and the
# median tokens/s of each. Usage: scripts/compare_torch.sh [rounds=3] [extra bench_forward args]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
declare -A runs
for ((r = 1; r <= rounds; ++r)); do
  for dtype in f32 bf16; do
    for dir in build build-pip; do
      line=$("$dir/bench_forward" --threads 2 --dtype "$dtype" --json "$@" | tail -n 1)
      tps=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["tokens_per_s"], 1))' "$line")
      echo "round $r $dtype $dir: $tps tokens/s  $line"
      runs[$dtype/$dir]+="$tps "
    done
  done
done
for key in "${!runs[@]}"; do
  echo "median $key: $(printf '%s\n' ${runs[$key]} | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') tokens/s"
done | sort
