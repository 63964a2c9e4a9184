#!/usr/bin/env bash
# The main job on the embedded default: install dependencies, build, then run
# `relmoe quickstart` (synthetic markets, small self-made experts, router + fusion, report).
# Usage: scripts/quickstart.sh [relmoe quickstart flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec build/relmoe quickstart "$@"
