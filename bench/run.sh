#!/usr/bin/env bash
# Runs the benchmarks: every bench/NAME.sh, or those whose name contains FILTER. Each script builds
# what it runs, starts its peers, prints its figures and leaves nothing running.
# Usage: bench/run.sh [FILTER]      (make bench B=FILTER)
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
for b in bench/*.sh; do
  [ -f "$b" ] || continue
  name=$(basename "$b" .sh)
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  echo "== bench $name"
  bash "$b"
done
