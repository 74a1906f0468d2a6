#!/usr/bin/env bash
# kcat -G (librdkafka's balanced consumer group) against eddy up: members join and leave and the
# partitions move between them; committed offsets are resumed after eddy restarts.
source "$(dirname "$0")/../lib/eddy.sh"

eddy_start --default-partitions 4 || { not_ok "eddy up starts"; exit 1; }
B="$KAFKA_ADDR"
GOPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=300 -X auto.commit.interval.ms=200
       -X topic.metadata.refresh.interval.ms=1000 -X fetch.wait.max.ms=200 -X auto.offset.reset=earliest)

produce() { # produce TOPIC PARTITION PREFIX COUNT
  seq 1 "$4" | sed "s/^/$3-/" | timeout 60 kcat -b "$B" -P -t "$1" -p "$2" -X acks=all
}
member() { # member NAME: a kcat -G consumer in the background, output in NAME.out/.err
  timeout 300 kcat -b "$B" -G grp "${GOPTS[@]}" -f '%p %s\n' -u groups > "$TEST_TMP/$1.out" 2> "$TEST_TMP/$1.err" &
  eval "PID_$1=$!"
}
wait_for() { # wait_for SECONDS 'SHELL CONDITION': re-evaluates the condition until it holds
  local end=$(( $(date +%s) + $1 ))
  until eval "$2"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2; done
}
count() { local n; n=$(grep -c "$2" "$TEST_TMP/$1.out" 2>/dev/null); echo "${n:-0}"; }
assigned() { grep -c "assigned:" "$TEST_TMP/$1.err" 2>/dev/null | grep -qv '^0$'; }

for p in 0 1 2 3; do produce groups $p first 5; done
member A
wait_for 60 '[ "$(count A first)" -eq 20 ]'
check "one member gets every partition" test "$(count A first)" -eq 20

member B
# B's arrival makes A rejoin; range assignment splits the 4 partitions 2 and 2.
wait_for 60 'assigned B'
wait_for 60 '[ "$(grep -c "assigned:" "$TEST_TMP/A.err")" -ge 2 ]'
for p in 0 1 2 3; do produce groups $p second 5; done
wait_for 60 '[ $(( $(count A second) + $(count B second) )) -eq 20 ]'
a=$(count A second); b=$(count B second)
check "two members share the partitions (A=$a, B=$b)" test "$a" -eq 10 -a "$b" -eq 10 ||
  { tail -5 "$TEST_TMP/A.err" "$TEST_TMP/B.err" | sed 's/^/# /'; }

# B leaves (SIGTERM: kcat leaves the group); A takes every partition back.
kill -TERM "$PID_B"; wait "$PID_B" 2>/dev/null
for p in 0 1 2 3; do produce groups $p third 5; done
wait_for 60 '[ "$(count A third)" -eq 20 ]'
check "after a member leaves, the other consumes everything" test "$(count A third)" -eq 20
check "no record is read twice by the survivor" test "$(count A first)" -eq 20
kill -TERM "$PID_A"; wait "$PID_A" 2>/dev/null

# Committed offsets survive a restart: a new member resumes after what was consumed.
eddy_stop || not_ok "eddy stops cleanly"
eddy_start --default-partitions 4 || { not_ok "eddy restarts"; exit 1; }
B="$KAFKA_ADDR"
for p in 0 1 2 3; do produce groups $p fourth 5; done
member C
wait_for 60 '[ "$(count C fourth)" -eq 20 ]'
sleep 1
check "a restarted group resumes from its committed offsets" \
  test "$(count C fourth)" -eq 20 -a "$(count C first)" -eq 0 -a "$(count C third)" -eq 0
kill -TERM "$PID_C"; wait "$PID_C" 2>/dev/null

eddy_stop || not_ok "eddy stops cleanly"
