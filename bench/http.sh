#!/usr/bin/env bash
# eddy's HTTP server core against Node.js's `http` module, same run, same wrk settings:
# wrk GET /health (eddy: the built-in route; Node: a server answering the same body with the
# same headers), requests/s and p50/p99 latency. Rounds alternate between the two (best of
# ROUNDS each), so that load from others on a shared machine hits both alike.
# Usage: bench/http.sh [SECONDS] [CONNECTIONS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-64}
rounds=${3:-3}
EDDY=build/eddy
tmp=$(mktemp -d /tmp/eddy-bench-http-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

start_eddy() { # name, extra flags; sets ADDR
  $EDDY up --data "$tmp/$1" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --enrich=false --log-level warn "${@:2}" >/dev/null 2>"$tmp/$1.log" &
  pids+=($!)
  until grep -q '^eddy: ready' "$tmp/$1.log"; do sleep 0.05; done
  ADDR=$(sed -n 's/^eddy: http listening on //p' "$tmp/$1.log" | head -1)
}
start_eddy eddy1
E1=$ADDR
start_eddy eddy2 --io-threads 2
E2=$ADDR
BODY=$(curl -s "http://$E1/health") PORT=0 node bench/http/server.js > "$tmp/node.log" 2>&1 &
pids+=($!)
until grep -q listening "$tmp/node.log"; do sleep 0.05; done
N=$(sed -n 's/^listening on //p' "$tmp/node.log")
echo "eddy body:  $(curl -s "http://$E1/health")"
echo "node body:  $(curl -s "http://$N/health")"

declare -A best_rps best_p50 best_p99
run() { # name addr
  wrk -t2 -c"$conns" -d"${secs}s" --latency "http://$2/health" > "$tmp/wrk.txt" 2>&1
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")
  if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk.txt"; then grep -E 'Non-2xx|Socket errors' "$tmp/wrk.txt"; fi
  printf '  %-26s %12s req/s   p50 %9s   p99 %9s\n' "$1" "$rps" "$p50" "$p99"
  if [ -z "${best_rps[$1]:-}" ] || awk -v a="$rps" -v b="${best_rps[$1]}" 'BEGIN{exit !(a>b)}'; then
    best_rps[$1]=$rps; best_p50[$1]=$p50; best_p99[$1]=$p99
  fi
}
echo "wrk -t2 -c$conns -d${secs}s --latency GET /health; $rounds rounds, alternating; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  echo "round $r"
  run "eddy (1 loop thread)" "$E1"
  run "node http" "$N"
  run "eddy (--io-threads 2)" "$E2"
done
# Pinned: each server on CPU 0 (taskset on the running process), wrk alone on CPU 1, so the
# figure is what one core of server does rather than how the scheduler shares two.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  for p in "${pids[@]}"; do taskset -a -p -c 0 "$p" >/dev/null; done
  run1() {
    taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "http://$2/health" > "$tmp/wrk.txt" 2>&1
    printf '  %-26s %12s req/s   p50 %9s   p99 %9s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")" \
      "$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")" "$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")"
  }
  echo "pinned: server on CPU 0, wrk -t1 -c$conns on CPU 1"
  run1 "eddy (1 loop thread)" "$E1"
  run1 "node http" "$N"
fi
echo "best of $rounds:"
for k in "eddy (1 loop thread)" "eddy (--io-threads 2)" "node http"; do
  printf '  %-26s %12s req/s   p50 %9s   p99 %9s\n' "$k" "${best_rps[$k]}" "${best_p50[$k]}" "${best_p99[$k]}"
done
awk -v e="${best_rps[eddy (1 loop thread)]}" -v n="${best_rps[node http]}" \
  'BEGIN { printf "ratio eddy (1 loop thread) / node: %.2fx requests/s\n", e / n }'
