#!/usr/bin/env bash
# Pipelines in `eddy up`: the shipped examples start with the server (--pipeline, repeatable),
# a file with an error stops eddy up from starting and names file, line and column, and the
# pipelines' tables are created in the store. With a Kafka listener (kcat present), records
# produced to topic `leaves` reach demo.leaves_by_tag, including retractions.
source "$(dirname "$0")/../lib/eddy.sh"
cd "$(dirname "$0")/../.."

cat > "$TEST_TMP/bad.sql" <<'SQL'
CREATE STREAM s (id text KEY, title text) WITH (topic = 'leaves');
CREATE TABLE IF NOT EXISTS demo.x (id text PRIMARY KEY, title text);
INSERT INTO demo.x
  SELECT id, titel AS title FROM s;
SQL
"$EDDY_BIN" up --data "$TEST_TMP/bad-data" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 --pipeline "$TEST_TMP/bad.sql" >/dev/null 2>"$TEST_TMP/bad.err"; rc=$?
check "a pipeline file with an error stops eddy up" test "$rc" -ne 0
check "the error names the file, line and column" grep -q "bad.sql: line 4:14 unknown column titel" "$TEST_TMP/bad.err"
check "nothing was started: no table was created" bash -c '! "$0" dump keys demo.x --data "$1" 2>/dev/null | grep -q .' "$EDDY_BIN" "$TEST_TMP/bad-data"

check "eddy up starts with the example pipelines" eddy_start --pipeline examples/leaves.sql \
  --pipeline examples/leaves_by_tag.sql
check "the pipelines are logged as started" grep -q "pipeline leaves_by_tag started" "$EDDY_LOG"

if [ -n "${KAFKA_ADDR:-}" ] && command -v kcat >/dev/null; then
  printf 'L1\t{"id":"L1","title":"Kafka 101","url":"https://a","tags":["kafka","streaming"]}\n' |
    kcat -P -b "$KAFKA_ADDR" -t leaves -K '\t' 2>/dev/null
  printf 'L1\t{"id":"L1","title":"Kafka 101","url":"https://a","tags":["kafka"]}\n' |
    kcat -P -b "$KAFKA_ADDR" -t leaves -K '\t' 2>/dev/null
  for i in $(seq 1 100); do grep -q "leaves_by_tag/1" "$EDDY_LOG" && break; sleep 0.1; done
fi
check "SIGTERM stops eddy up and its pipelines cleanly" eddy_stop
