#!/usr/bin/env bash
# `relmoe serve` under `relmoe loadtest` for two relmoe binaries side by side in one run (say, the
# build before a change to serve/ and after it), alternated round by round on one student and
# index: requests/s, p50 and p99 per concurrency, and the server's peak RSS. Each binary serves
# the index it built (an index records the student's fingerprint as its builder computes it); the
# load generator is always the second binary's.
# Usage: scripts/serve_compare.sh BIN_A INDEX_A BIN_B INDEX_B STUDENT QUERIES [rounds=2] [concurrency=1,8,64]
set -euo pipefail
a=$1 index_a=$2 b=$3 index_b=$4 student=$5 queries=$6 rounds=${7:-2} concurrency=${8:-1,8,64}
port=18190
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 1; r <= rounds; ++r)); do
  for bin in "$a" "$b"; do
    name=$([[ $bin == "$a" ]] && echo A || echo B)
    index=$([[ $bin == "$a" ]] && echo "$index_a" || echo "$index_b")
    /usr/bin/time -f "%M" -o "$out/rss" "$bin" serve --student "$student" --index "$index" --port $port --threads 2 \
      > "$out/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 300); do
      curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
      sleep 0.1
    done
    "$b" loadtest --port $port --index "$index_b" --queries "$queries" --concurrency "$concurrency" --requests 3000 \
      --out "$out/load.json" > /dev/null
    pkill -TERM -P $server  # the server itself, under /usr/bin/time
    wait $server || true
    python3 - "$out/load.json" "$name" "$r" "$(cat "$out/rss")" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))
runs = runs["runs"] if isinstance(runs, dict) and "runs" in runs else runs
for x in runs:
    print(f"round {sys.argv[3]} {sys.argv[2]}: c={x['concurrency']:>3}  {x['ok_per_second']:8.1f} req/s  "
          f"p50 {x['p50_ms']:6.1f} ms  p99 {x['p99_ms']:6.1f} ms  statuses {x['statuses']}  "
          f"transport errors {x['transport_errors']}  server peak RSS {int(sys.argv[4]) // 1024} MB")
PY
  done
done
