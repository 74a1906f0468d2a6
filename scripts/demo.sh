#!/usr/bin/env bash
# make demo: eddy's main job on a fresh machine. Starts `eddy up` on a temporary data directory
# with the workshop's stream job, creates the workshop's keyspace and tables, loads the project's
# sample leaves (Kafka REST proxy), a few thousand generated ones (kcat) and more through the
# Leaves REST API, runs the Avro importer flow and the batch job, prints counts, the top tags,
# throughput and latency, and stops cleanly (scripts/demo.py does the talking).
#   scripts/demo.sh [--keep] [N]   --keep leaves eddy running and says where to point clients;
#                                  N generated leaves (default 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
n=3000
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    [0-9]*) n=$a ;;
    *) echo "usage: scripts/demo.sh [--keep] [N]" >&2; exit 2 ;;
  esac
done
EDDY="$PWD/build/eddy"
tmp=$(mktemp -d /tmp/eddy-demo-XXXXXX)
log="$tmp/eddy.log"
pid=
stop() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" || rc=$?
  pid=
  return $rc
}
trap 'stop || true; [ $keep -eq 1 ] || rm -rf "$tmp"' EXIT

t0=$(date +%s%N)
"$EDDY" up --data "$tmp/data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --enrich=false --pipeline examples/leaves_by_tag.sql 2>"$log" &
pid=$!
for _ in $(seq 1 600); do
  grep -q '^eddy: ready' "$log" && break
  kill -0 "$pid" 2>/dev/null || { echo "eddy up failed:"; cat "$log"; exit 1; }
  sleep 0.01
done
ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
addr() { sed -n "s/^eddy: $1 listening on //p" "$log" | head -1; }
HTTP=$(addr http)
CQL=$(addr cql)
KAFKA=$(addr kafka)
echo "eddy $("$EDDY" version | cut -d' ' -f2) is up in ${ready_ms} ms (data in $tmp/data), one process:"
grep '^eddy: .* listening on' "$log" | sed 's/^eddy: /  /'
echo "  enrichment is off (--enrich=false): no network needed"

/usr/bin/python3 scripts/demo.py "$EDDY" "$HTTP" "$CQL" "$KAFKA" "$n"

rss=$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$pid/status")
echo
echo "eddy's memory now: ${rss} MB resident"
if [ $keep -eq 1 ]; then
  cat <<EOT

eddy keeps running (pid $pid, data in $tmp/data). Point clients at it:
  curl http://$HTTP/api/leaves/\$(curl -s http://$HTTP/api/leaves?limit=1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  curl -X POST -H 'Content-Type: application/json' -d '{"url":"https://cassandra.apache.org/"}' http://$HTTP/api/leaves
  curl http://$HTTP/subjects                       (schema registry)
  curl http://$HTTP/topics                         (Kafka REST proxy)
  curl http://$HTTP/pipelines                      (pipelines and their progress)
  kcat -C -b $KAFKA -t leaves -o beginning -e      (Kafka)
  /usr/bin/python3 -c "from cassandra.cluster import Cluster; print(Cluster(['${CQL%:*}'], port=${CQL##*:}).connect().execute('SELECT count(*) FROM demo.leaves').one())"
Stop it with: kill $pid
EOT
  trap - EXIT
  wait "$pid"
  exit 0
fi
if stop; then echo "eddy stopped cleanly"; else echo "eddy did not stop cleanly; its log:"; tail -20 "$log"; exit 1; fi
