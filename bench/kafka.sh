#!/usr/bin/env bash
# kafka: kcat produce and consume of N records of 100 bytes (acks=all) against `eddy up` (durable:
# group-commit fsync) and the librdkafka mock cluster (in memory) in the same run; then produce
# latency at a steady rate (bench/kafka_latency.c) against both; eddy's peak RSS.
#   bench/kafka.sh [RECORDS] [RATE] [SECONDS]      (defaults 1000000 100000 10; ROUNDS=3 CROUNDS=5)
# Produce goes to a topic of 4 partitions ("bench") and, for the consume comparison, to one of 64
# ("bench64"): the mock keeps only about 5 MB per partition, so on 4 partitions it keeps ~17% of
# the records and a consume of them lasts ~0.1 s (process start and round trips); on 64 it keeps
# ~94%. Consumers are compared on equal record counts (what the mock kept), output to /dev/null
# (counts are checked once, untimed), best of CROUNDS, eddy and the mock interleaved. Each consume
# also reports the CPU time the broker process and kcat used (mean over the rounds): on a shared
# machine wall times swing with the load, CPU times much less.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RATE="${2:-100000}"
SECS="${3:-10}"
ROUNDS="${ROUNDS:-3}"
CROUNDS="${CROUNDS:-5}"
make --no-print-directory build/eddy build/bench/kafka_mock build/bench/kafka_latency >/dev/null
TMP=$(mktemp -d /tmp/eddy-bench-XXXXXX)
EDDY_PID=; MOCK_PID=; RSS_PID=; HOLD_PID=
cleanup() {
  for p in $RSS_PID $EDDY_PID $MOCK_PID $HOLD_PID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at start: $(load)"

awk -v n="$N" 'BEGIN { s = sprintf("%0100d", 0); for (i = 0; i < n; i++) print s }' > "$TMP/records"

# eddy (optimised build), its data on the same disk as /tmp.
build/eddy up --data "$TMP/data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --default-partitions 4 2> "$TMP/eddy.log" &
EDDY_PID=$!
for _ in $(seq 1 100); do grep -q '^eddy: ready' "$TMP/eddy.log" && break; sleep 0.1; done
EDDY=$(sed -n 's/^eddy: kafka listening on //p' "$TMP/eddy.log" | head -1)
/usr/bin/python3 -c "
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers='$EDDY').create_topics([NewTopic('bench64', 64, 1), NewTopic('bench64_eq', 64, 1)])"
# The mock: one broker, the topics pre-created like eddy's.
exec 3< <(sleep infinity)  # the mock's stdin: it serves until this closes
HOLD_PID=$!
build/bench/kafka_mock 1 bench 4 bench64 64 <&3 > "$TMP/mock.out" 2>&1 &
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
CONSUME_OPTS=(-X fetch.wait.max.ms=10 -X queued.min.messages=10000000 -X queued.max.messages.kbytes=2097151)
produce() { # produce ADDR TOPIC -> seconds
  local t0 t1; t0=$(now)
  kcat -b "$1" -P -t "$2" "${PRODUCE_OPTS[@]}" < "$TMP/records"
  t1=$(now); echo "$t1 - $t0" | bc -l
}
count() { # count ADDR TOPIC [COUNT] -> records read (untimed)
  kcat -b "$1" -C -t "$2" -o beginning -e -q "${CONSUME_OPTS[@]}" ${3:+-c "$3"} | wc -l
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU of a process, in 1/100 s
consume() { # consume ADDR TOPIC COUNT BROKER_PID -> "seconds broker_cpu_s kcat_cpu_s"
  local b0 b1 t wall u s
  b0=$(ticks "$4")
  t=$( { TIMEFORMAT='%R %U %S'; time kcat -b "$1" -C -t "$2" -o beginning -e -q "${CONSUME_OPTS[@]}" -c "$3" > /dev/null; } 2>&1 )
  b1=$(ticks "$4")
  read -r wall u s <<< "$t"
  echo "$wall $(echo "($b1 - $b0) / $(getconf CLK_TCK)" | bc -l) $(echo "$u + $s" | bc -l)"
}
mean() { awk -v f="$1" '{ s += $f } END { printf "%.3f", s / NR }'; }
rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }
best() { sort -g | head -1; }

echo "records: $N x 100 B, acks=all; $(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\).*/kcat \1, librdkafka \2/p' | head -1)"
for r in $(seq 1 "$ROUNDS"); do produce "$EDDY" bench >> "$TMP/pe"; produce "$MOCK" bench >> "$TMP/pm"; done
te=$(best < "$TMP/pe"); tm=$(best < "$TMP/pm")
pe=$(rate "$N" "$te"); pm=$(rate "$N" "$tm")
printf 'produce, 4 partitions    eddy %6.2f s %9s rec/s   mock %6.2f s %9s rec/s   ratio %.2f   (best of %s)\n' \
  "$te" "$pe" "$tm" "$pm" "$(echo "$pe / $pm" | bc -l)" "$ROUNDS"
te=$(produce "$EDDY" bench64); tm=$(produce "$MOCK" bench64)
printf 'produce, 64 partitions   eddy %6.2f s %9s rec/s   mock %6.2f s %9s rec/s   ratio %.2f   (once)\n' \
  "$te" "$(rate "$N" "$te")" "$tm" "$(rate "$N" "$tm")" "$(echo "$(rate "$N" "$te") / $(rate "$N" "$tm")" | bc -l)"

# Equal counts: what the mock kept of each topic, produced again to a topic of eddy's that holds
# just as many ("<topic>_eq"), so that both consumers read to the end of their logs. (Reading the
# first records of a longer log costs the client more than the records: librdkafka keeps fetching
# and parsing past them until kcat stops, up to queued.min.messages.)
for topic in bench bench64; do
  nm=$(count "$MOCK" "$topic")
  head -n "$nm" "$TMP/records" | kcat -b "$EDDY" -P -t "${topic}_eq" "${PRODUCE_OPTS[@]}"
  ne=$(count "$EDDY" "${topic}_eq")
  [ "$ne" = "$nm" ] || echo "eddy returned $ne of $nm records of ${topic}_eq"
  : > "$TMP/ce"; : > "$TMP/cm"
  for r in $(seq 1 "$CROUNDS"); do
    consume "$EDDY" "${topic}_eq" "$nm" "$EDDY_PID" >> "$TMP/ce"; consume "$MOCK" "$topic" "$nm" "$MOCK_PID" >> "$TMP/cm"
  done
  ce=$(cut -d' ' -f1 "$TMP/ce" | best); cm=$(cut -d' ' -f1 "$TMP/cm" | best)
  re=$(rate "$nm" "$ce"); rm_=$(rate "$nm" "$cm")
  printf 'consume %-8s %7s records   eddy %6.2f s %9s rec/s   mock %6.2f s %9s rec/s   ratio %.2f   (best of %s)\n' \
    "$topic," "$nm" "$ce" "$re" "$cm" "$rm_" "$(echo "$re / $rm_" | bc -l)" "$CROUNDS"
  printf '        CPU per consume: broker eddy %s s, mock %s s; kcat against eddy %s s, against the mock %s s\n' \
    "$(mean 2 < "$TMP/ce")" "$(mean 2 < "$TMP/cm")" "$(mean 3 < "$TMP/ce")" "$(mean 3 < "$TMP/cm")"
done
na=$(count "$EDDY" bench)
: > "$TMP/ca"
for r in $(seq 1 "$ROUNDS"); do consume "$EDDY" bench "$na" "$EDDY_PID" >> "$TMP/ca"; done
ca=$(cut -d' ' -f1 "$TMP/ca" | best)
printf 'consume bench, eddy alone, %s records: %.2f s %s rec/s\n' "$na" "$ca" "$(rate "$na" "$ca")"
echo "latency at $RATE rec/s for $SECS s (acks=all, linger.ms=1):"
printf '  eddy: '; build/bench/kafka_latency "$EDDY" lat "$RATE" "$SECS"
printf '  mock: '; build/bench/kafka_latency "$MOCK" lat "$RATE" "$SECS"
echo "eddy peak RSS: $(( $(cat "$TMP/rss" 2>/dev/null || echo 0) / 1024 )) MiB"
echo "load average at end: $(load)"
grep -E "WARN|ERROR" "$TMP/eddy.log" | head -5 || true
