#!/usr/bin/env bash
# kafka: kcat produce and consume of N records of 100 bytes (acks=all, 4 partitions) against
# `eddy up` (durable: group-commit fsync) and the librdkafka mock cluster (in memory) in the same
# run; then produce latency at a steady rate (bench/kafka_latency.c) against both; eddy's peak RSS.
#   bench/kafka.sh [RECORDS] [RATE] [SECONDS]      (defaults 1000000 100000 10)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RATE="${2:-100000}"
SECS="${3:-10}"
make --no-print-directory build/eddy build/bench/kafka_mock build/bench/kafka_latency >/dev/null
TMP=$(mktemp -d /tmp/eddy-bench-XXXXXX)
EDDY_PID=; MOCK_PID=; RSS_PID=; HOLD_PID=
cleanup() {
  for p in $RSS_PID $EDDY_PID $MOCK_PID $HOLD_PID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

awk -v n="$N" 'BEGIN { s = sprintf("%0100d", 0); for (i = 0; i < n; i++) print s }' > "$TMP/records"

# eddy (optimised build), its data on the same disk as /tmp.
build/eddy up --data "$TMP/data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --default-partitions 4 2> "$TMP/eddy.log" &
EDDY_PID=$!
for _ in $(seq 1 100); do grep -q '^eddy: ready' "$TMP/eddy.log" && break; sleep 0.1; done
EDDY=$(sed -n 's/^eddy: kafka listening on //p' "$TMP/eddy.log" | head -1)
# The mock: one broker, the topics pre-created with 4 partitions like eddy's auto-created ones.
exec 3< <(sleep infinity)  # the mock's stdin: it serves until this closes
HOLD_PID=$!
build/bench/kafka_mock 1 bench 4 <&3 > "$TMP/mock.out" 2>&1 &
MOCK_PID=$!
for _ in $(seq 1 100); do grep -q '^mock: ' "$TMP/mock.out" && break; sleep 0.1; done
MOCK=$(sed -n 's/^mock: //p' "$TMP/mock.out")

# Peak RSS of eddy, sampled every 100 ms.
( peak=0; while kill -0 "$EDDY_PID" 2>/dev/null; do
    r=$(awk '/VmRSS/ {print $2}' /proc/"$EDDY_PID"/status 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" > "$TMP/rss"
    sleep 0.1; done ) &
RSS_PID=$!

now() { date +%s.%N; }
PRODUCE_OPTS=(-X acks=all -X linger.ms=5 -X batch.num.messages=10000 -X queue.buffering.max.messages=2000000
              -X queue.buffering.max.kbytes=2097151)
produce() { # produce ADDR TOPIC -> seconds
  local t0 t1; t0=$(now)
  kcat -b "$1" -P -t "$2" "${PRODUCE_OPTS[@]}" < "$TMP/records"
  t1=$(now); echo "$t1 - $t0" | bc -l
}
consume() { # consume ADDR TOPIC [COUNT] -> "seconds records"
  local t0 t1 n; t0=$(now)
  n=$(kcat -b "$1" -C -t "$2" -o beginning -e -q -X fetch.wait.max.ms=10 -X queued.min.messages=10000000 \
      -X queued.max.messages.kbytes=2097151 ${3:+-c "$3"} | wc -l)
  t1=$(now); echo "$(echo "$t1 - $t0" | bc -l) $n"
}
rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }

echo "records: $N x 100 B, acks=all, 4 partitions; kcat $(kcat -V 2>&1 | sed -n 's/.*librdkafka version \([^ ]*\).*/librdkafka \1/p' | head -1)"
# Best of ROUNDS, eddy and the mock interleaved so that both see the same machine load.
ROUNDS="${ROUNDS:-3}"
best() { sort -g | head -1; }
for r in $(seq 1 "$ROUNDS"); do produce "$EDDY" bench >> "$TMP/pe"; produce "$MOCK" bench >> "$TMP/pm"; done
te=$(best < "$TMP/pe"); tm=$(best < "$TMP/pm")
pe=$(rate "$N" "$te"); pm=$(rate "$N" "$tm")
printf 'produce  eddy %8.2f s %10s rec/s   mock %8.2f s %10s rec/s   ratio %.2f   (best of %s)\n' "$te" "$pe" "$tm" \
  "$pm" "$(echo "$pe / $pm" | bc -l)" "$ROUNDS"
# The mock keeps only 5 MB per partition: compare equal counts (what it kept), then eddy's whole log.
read -r _ nm <<< "$(consume "$MOCK" bench)"
for r in $(seq 1 "$ROUNDS"); do
  consume "$EDDY" bench "$nm" | cut -d' ' -f1 >> "$TMP/ce"; consume "$MOCK" bench "$nm" | cut -d' ' -f1 >> "$TMP/cm"
done
ce=$(best < "$TMP/ce"); cm=$(best < "$TMP/cm")
re=$(rate "$nm" "$ce"); rm_=$(rate "$nm" "$cm")
printf 'consume  eddy %8.2f s %10s rec/s   mock %8.2f s %10s rec/s   (%s records each)   ratio %.2f   (best of %s)\n' \
  "$ce" "$re" "$cm" "$rm_" "$nm" "$(echo "$re / $rm_" | bc -l)" "$ROUNDS"
read -r ca na <<< "$(consume "$EDDY" bench "$N")"
printf 'consume  eddy, %s records: %.2f s %s rec/s\n' "$na" "$ca" "$(rate "$na" "$ca")"
echo "latency at $RATE rec/s for $SECS s (acks=all, linger.ms=1):"
printf '  eddy: '; build/bench/kafka_latency "$EDDY" lat "$RATE" "$SECS"
printf '  mock: '; build/bench/kafka_latency "$MOCK" lat "$RATE" "$SECS"
echo "eddy peak RSS: $(( $(cat "$TMP/rss" 2>/dev/null || echo 0) / 1024 )) MiB"
grep -E "WARN|ERROR" "$TMP/eddy.log" | head -5 || true
