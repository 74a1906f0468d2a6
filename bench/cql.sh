#!/usr/bin/env bash
# cql: eddy's CQL server under load, in the same run:
#   1. the DataStax Python driver (execute_concurrent, prepared statements) against eddy up, vs
#      psycopg2 against PostgreSQL 15, same rows and concurrency (bench/cql_drivers.py);
#   2. eddy's C client in `eddy bench cql` (cassandra-stress's standard1 table): peak writes/s and
#      point reads/s, then p99 latency paced at half of each peak.
# Usage: bench/cql.sh [ROWS] [CONCURRENCY] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50000}
conc=${2:-64}
secs=${3:-10}
make --no-print-directory MODE=release build/release/eddy >/dev/null
cp build/release/eddy build/eddy
EDDY=build/eddy
tmp=$(mktemp -d /tmp/eddy-bench-cql-XXXXXX)
chmod 755 "$tmp"
pids=()
pg_started=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$pg_started" = 1 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

$EDDY up --data "$tmp/data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --io-threads 2 --enrich=false 2>"$tmp/eddy.log" &
pids+=($!)
until grep -q '^eddy: ready' "$tmp/eddy.log"; do sleep 0.05; done
CQL=$(sed -n 's/^eddy: cql listening on //p' "$tmp/eddy.log" | head -1)

# PostgreSQL: initdb refuses root, so it runs as postgres on a socket in the temp dir; durable
# commits (fsync, synchronous_commit on: its defaults), as eddy's group commit.
mkdir -p "$tmp/pg" && chown postgres "$tmp/pg"
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$tmp/pg" -A trust >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -o "-k $tmp/pg -c listen_addresses='' -c shared_buffers=512MB -c max_connections=300" -l "$tmp/pg/log" start >/dev/null
pg_started=1

echo "drivers: $n rows, concurrency $conc (machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
/usr/bin/python3 bench/cql_drivers.py "$CQL" "$tmp/pg" "$n" "$conc"

echo "eddy bench cql: ${secs}s per run, 2 connections, 512 in flight"
w=$($EDDY bench cql "$CQL" --mode write --duration "$secs" --concurrency 512 --keys 1000000)
echo "$w" | sed 's/^/  /'
r=$($EDDY bench cql "$CQL" --mode read --duration "$secs" --concurrency 512 --keys 1000000)
echo "$r" | sed 's/^/  /'
wrate=$(echo "$w" | awk '/ops\/s/ {for (i=1;i<=NF;i++) if ($i=="ops/s") print int($(i+1))}')
rrate=$(echo "$r" | awk '/ops\/s/ {for (i=1;i<=NF;i++) if ($i=="ops/s") print int($(i+1))}')
echo "paced at half of each peak ($((wrate / 2)) writes/s, $((rrate / 2)) reads/s):"
$EDDY bench cql "$CQL" --mode write --duration "$secs" --concurrency 512 --keys 1000000 --rate $((wrate / 2)) | sed 's/^/  /'
$EDDY bench cql "$CQL" --mode read --duration "$secs" --concurrency 512 --keys 1000000 --rate $((rrate / 2)) | sed 's/^/  /'
