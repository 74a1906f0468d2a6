#!/usr/bin/env bash
# Runs the benchmarks: every bench/NAME.sh but this one, or those whose NAME contains FILTER. Each
# script builds what it runs, starts its peers, prints its figures and leaves nothing running.
# Usage: bench/run.sh [FILTER]      (make bench B=FILTER)
set -uo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
status=0
for script in bench/*.sh; do
  name=$(basename "$script" .sh)
  [ "$name" = run ] && continue
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  echo "== bench/$name ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  bash "$script" || { echo "bench/$name failed"; status=1; }
done
exit $status
