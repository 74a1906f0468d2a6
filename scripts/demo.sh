#!/usr/bin/env bash
# make demo: eddy's main job on the embedded default. Starts `eddy up` on a temporary data
# directory, exercises what exists, prints what a person wants to see, and stops cleanly.
#   scripts/demo.sh [--keep]   --keep leaves eddy running and says where to point clients
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep" ] && keep=1
data=$(mktemp -d /tmp/eddy-demo-XXXXXX)
log="$data/eddy.log"
build/eddy up --data "$data/data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; [ $keep -eq 1 ] || rm -rf "$data"' EXIT
for _ in $(seq 1 100); do grep -q '^eddy: ready' "$log" && break; sleep 0.05; done
echo "eddy $(build/eddy version | cut -d' ' -f2) is up (data in $data/data):"
grep '^eddy: ' "$log" | sed 's/^eddy: /  /'
echo
echo "This build has the foundation only: the broker, the store, the pipelines and the HTTP"
echo "APIs arrive with their issues, and this demo grows with them."
if [ $keep -eq 1 ]; then
  echo "eddy keeps running (pid $pid); stop it with: kill $pid"
  trap - EXIT
  wait $pid
fi
