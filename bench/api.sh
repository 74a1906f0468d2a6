#!/usr/bin/env bash
# The HTTP side against the workshop's Node.js API (Express + cassandra-driver, bench/api_express)
# reading the same demo.leaves rows from eddy's CQL port, in the same run:
#   1. wrk GET /api/leaves/{id} (random ids of N loaded leaves) and POST /api/leaves (new urls),
#      eddy's Leaves API vs the Express service, requests/s and latency percentiles;
#   2. POST-to-visible: a tag added through the API is in demo.leaves_by_tag when the POST answers;
#   3. eddy up: time from exec to listening, and idle RSS.
# Each wrk line also gives the CPU that eddy and node spent per request; GET /health first, as the
# HTTP core's ceiling on this machine.
# Usage: bench/api.sh [N_LEAVES] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
secs=${2:-10}
conns=${3:-64}
EDDY=${EDDY:-build/eddy} # another build to compare: EDDY=path bench/api.sh
tmp=$(mktemp -d /tmp/eddy-bench-api-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# 3. start-to-listening and idle RSS (a fresh data directory each time; best of 5)
best=999999
for i in 1 2 3 4 5; do
  rm -rf "$tmp/start"
  : > "$tmp/start.log" # emptied here: the previous run's "eddy: ready" must not count
  t0=$(date +%s%N)
  $EDDY up --data "$tmp/start" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --enrich=false 2>"$tmp/start.log" &
  p=$!
  until grep -q '^eddy: ready' "$tmp/start.log"; do sleep 0.001; done
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  [ "$ms" -lt "$best" ] && best=$ms
  if [ $i -eq 5 ]; then sleep 3; rss=$(awk '/VmRSS/ {print $2}' /proc/$p/status); fi
  kill -TERM $p; wait $p || true
done
echo "eddy up: start to ready ${best} ms (best of 5, fresh data directory); idle RSS $((rss / 1024)) MB"

# eddy with the stream job, loaded with N leaves through Kafka (kcat)
: > "$tmp/eddy.log"
$EDDY up --data "$tmp/data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --enrich=false --pipeline examples/leaves_by_tag.sql 2>"$tmp/eddy.log" &
pids+=($!)
eddy_pid=$!
until grep -q '^eddy: ready' "$tmp/eddy.log"; do sleep 0.05; done
HTTP=$(sed -n 's/^eddy: http listening on //p' "$tmp/eddy.log" | head -1)
CQL=$(sed -n 's/^eddy: cql listening on //p' "$tmp/eddy.log" | head -1)
KAFKA=$(sed -n 's/^eddy: kafka listening on //p' "$tmp/eddy.log" | head -1)
$EDDY gen leaves --count "$n" --seed 11 --keyed > "$tmp/leaves.tsv"
kcat -P -b "$KAFKA" -t leaves -K$'\t' -z none < "$tmp/leaves.tsv"
cut -f1 "$tmp/leaves.tsv" > "$tmp/ids"
for _ in $(seq 1 600); do
  got=$(curl -s "http://$HTTP/api/leaves" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  [ "$got" -ge "$n" ] && break
  sleep 0.1
done
echo "loaded $got leaves into demo.leaves through kcat -> topic leaves -> projection"

# the Express peer on eddy's CQL port
(cd bench/api_express && [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error >/dev/null)
: > "$tmp/express.log"
CQL_HOST=${CQL%:*} CQL_PORT=${CQL##*:} PORT=8100 node bench/api_express/server.js >"$tmp/express.log" 2>&1 &
pids+=($!)
node_pid=$!
until grep -q 'listening' "$tmp/express.log"; do sleep 0.1; grep -q 'cannot' "$tmp/express.log" && { cat "$tmp/express.log"; exit 1; }; done

# CPU time (user + system, clock ticks) of a process so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Requests/s and latency, and the CPU each process spent per request (microseconds): a figure
# that holds better than requests/s on a machine shared with other work. The Express service's
# requests cost node's CPU plus eddy's CQL server's.
run_wrk() { # name url script
  local e0 n0 e1 n1 hz
  hz=$(getconf CLK_TCK)
  e0=$(ticks "$eddy_pid"); n0=$(ticks "$node_pid")
  IDS="$tmp/ids" RUN="$1-$RANDOM" wrk -t2 -c"$conns" -d"${secs}s" --latency -s "bench/api/$3" "$2" > "$tmp/wrk.txt" 2>&1
  e1=$(ticks "$eddy_pid"); n1=$(ticks "$node_pid")
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  n=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")
  errs=$(grep -E 'Non-2xx|Socket errors' "$tmp/wrk.txt" | tr '\n' ' ' || true)
  cpu=$(awk -v e=$((e1 - e0)) -v nd=$((n1 - n0)) -v n="$n" -v hz="$hz" \
    'BEGIN {printf "cpu/req eddy %5.1f us node %5.1f us", e * 1e6 / hz / n, nd * 1e6 / hz / n}')
  printf '%-28s %12s req/s   p50 %9s   p99 %9s   %s   %s\n' "$1" "$rps" "$p50" "$p99" "$cpu" "$errs"
}
echo "wrk: 2 threads, $conns connections, ${secs}s each; the machine is shared (see bench/RESULTS.md)"
run_wrk "eddy GET /health" "http://$HTTP" health.lua
run_wrk "eddy GET /api/leaves/{id}" "http://$HTTP" get.lua
run_wrk "express GET /api/leaves/{id}" "http://127.0.0.1:8100" get.lua
run_wrk "eddy POST /api/leaves" "http://$HTTP" post.lua
run_wrk "express POST /api/leaves" "http://127.0.0.1:8100" post.lua
/usr/bin/python3 bench/api/visible.py "$HTTP" "$CQL" 1000
