#!/usr/bin/env bash
# kcat (Debian's, librdkafka 2.0.2) against eddy up: metadata, produce with acks=all, keys,
# headers, every codec and the idempotent producer; consume from the beginning, the end, an
# offset and a timestamp; offsets for times (-Q).
source "$(dirname "$0")/../lib/eddy.sh"

eddy_start --default-partitions 1 || { not_ok "eddy up starts"; exit 1; }
B="$KAFKA_ADDR"
K() { timeout 60 kcat -b "$B" -X socket.timeout.ms=20000 "$@"; }

# -L: the broker and an auto-created topic.
K -P -t meta -X acks=all <<< "hello" >/dev/null 2>&1
out=$(K -L 2>&1)
if grep -q "1 brokers:" <<< "$out" && grep -q "broker 1 at $B" <<< "$out" && grep -q 'topic "meta" with 1 partitions' <<< "$out"; then
  ok "kcat -L lists the broker and topics"
else
  not_ok "kcat -L lists the broker and topics"; echo "$out" | sed 's/^/# /'
fi

# -P with keys and headers, acks=all, each codec, then read back exactly.
for codec in none gzip snappy lz4 zstd; do
  seq 1 50 | sed "s/.*/k&:$codec-value-&/" | K -P -t "codec-$codec" -K: -H "h1=v1" -H "codec=$codec" \
      -X acks=all -z "$codec" 2>"$TEST_TMP/p.err"
  rc=$?
  got=$(K -C -t "codec-$codec" -o beginning -e -q -f '%k|%s|%h\n' 2>"$TEST_TMP/c.err")
  want=$(seq 1 50 | sed "s/.*/k&|$codec-value-&|h1=v1,codec=$codec/")
  if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
    ok "kcat produce and consume with $codec, keys and headers"
  else
    not_ok "kcat produce and consume with $codec, keys and headers"
    diff <(echo "$want") <(echo "$got") | head -5 | sed 's/^/# /'; sed 's/^/# /' "$TEST_TMP/p.err" "$TEST_TMP/c.err" | head
  fi
done

# Offsets: 50 records in codec-none are offsets 0..49.
got=$(K -C -t codec-none -o 10 -c 3 -q -f '%o:%s\n')
check "kcat consumes from an offset" test "$got" = $'10:none-value-11\n11:none-value-12\n12:none-value-13'
got=$(K -C -t codec-none -o -2 -e -q -f '%o\n')
check "kcat consumes from a relative end offset" test "$got" = $'48\n49'

# From the end: only what is produced after the consumer started.
K -C -t codec-none -o end -c 1 -q -f '%s\n' > "$TEST_TMP/end.out" 2>/dev/null &
cpid=$!
for i in $(seq 1 100); do
  # The consumer is positioned once it has fetched; produce until it has seen one record.
  [ -s "$TEST_TMP/end.out" ] && break
  echo "after-start-$i" | K -P -t codec-none -X acks=all
  sleep 0.2
done
wait $cpid
check "kcat consumes from the end" grep -q '^after-start-' "$TEST_TMP/end.out"

# Timestamps: records with explicit times, consumed from a time and found by -Q.
for i in 1 2 3 4 5; do
  echo "ts-$i" | K -P -t times -X acks=all 2>/dev/null
done
got=$(K -C -t times -o beginning -e -q -f '%T %s\n')
t3=$(sed -n '3p' <<< "$got" | cut -d' ' -f1)
got_from=$(K -C -t times -o "s@$t3" -e -q -f '%s\n' | head -1)
check "kcat consumes from a timestamp" test "$got_from" = "ts-3"
q=$(K -Q -t "times:0:$t3" 2>&1)
check "kcat -Q finds the offset for a time" grep -q "offset 2" <<< "$q"
q=$(K -Q -t "times:0:-1" 2>&1)
check "kcat -Q latest is the high watermark" grep -q "offset 5" <<< "$q"

# The idempotent producer (InitProducerId, sequence checks) with acks=all.
seq 1 200 | K -P -t idem -X enable.idempotence=true -X acks=all 2>"$TEST_TMP/idem.err"
rc=$?
n=$(K -C -t idem -o beginning -e -q | wc -l)
check "kcat idempotent producer delivers each record once" test $rc -eq 0 -a "$n" -eq 200

# Acknowledged means durable: every record kcat saw acknowledged (acks=all; kcat exits 0 only
# when all were) is there after kill -9 and a restart.
seq 1 20000 | K -P -t durable -X acks=all -X linger.ms=2
rc=$?
kill -9 "$EDDY_PID"; wait "$EDDY_PID" 2>/dev/null; EDDY_PID=
eddy_start --default-partitions 1 || { not_ok "eddy restarts after kill -9"; exit 1; }
B="$KAFKA_ADDR"
got=$(K -C -t durable -o beginning -e -q | sort -n | uniq | wc -l)
check "records acknowledged with acks=all survive kill -9 (got $got of 20000)" test $rc -eq 0 -a "$got" -eq 20000

eddy_stop || not_ok "eddy stops cleanly"
