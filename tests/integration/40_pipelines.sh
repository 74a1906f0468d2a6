#!/usr/bin/env bash
# Pipelines in `eddy up`: the shipped examples start with the server (--pipeline, repeatable),
# a file with an error stops eddy up from starting and names file, line and column; the
# workshop's sample leaves produced with kcat reach demo.leaves_by_tag, a leaf that loses a tag
# leaves that tag's partition, a deleted leaf leaves every one, and after a restart the rows are
# still there (checked with `eddy dump keys` once eddy up has stopped).
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

EDDY_LOG_LEVEL=debug
export EDDY_LOG_LEVEL
check "eddy up starts with the example pipelines" eddy_start --pipeline examples/leaves_by_tag.sql
check "the pipeline is logged as started" grep -q "pipeline leaves_by_tag started" "$EDDY_LOG"

# applied N: waits until leaves_by_tag/1 has applied offset N of topic leaves.
applied() {
  local i
  for i in $(seq 1 300); do
    grep -q "leaves_by_tag/1: applied leaves/0 up to offset $1\$" "$EDDY_LOG" && return 0
    sleep 0.1
  done
  return 1
}

# live_rows FILE: the rows of a `dump keys` listing that are live (a deleted row is listed with
# its tombstone), one "row ... (tag=...) (title=...)" line each.
live_rows() {
  awk '/^row /{if (h && live) print h; h=$0; live=0; next} /^  liveness/{live=1} END{if (h && live) print h}' "$1"
}

if [ -z "${KAFKA_ADDR:-}" ] || ! command -v kcat >/dev/null; then
  not_ok "kcat and eddy's Kafka listener are needed for the end-to-end checks"
  eddy_stop
  exit 0
fi
"$EDDY_BIN" gen leaves --from examples/data/leaves.json --keyed > "$TEST_TMP/sample.tsv" 2>/dev/null
n=$(wc -l < "$TEST_TMP/sample.tsv")
kcat -P -b "$KAFKA_ADDR" -t leaves -K $'\t' -l "$TEST_TMP/sample.tsv" 2>"$TEST_TMP/kcat.err"
check "the sample leaves ($n) are applied" applied $((n - 1))
# Leaf 21001 loses every tag but one; leaf 21002 is deleted (a tombstone: -Z sends empty as null).
first=$(head -1 "$TEST_TMP/sample.tsv" | cut -f1)
second=$(sed -n 2p "$TEST_TMP/sample.tsv" | cut -f1)
printf '%s\t{"id":"%s","title":"Renamed leaf","url":"https://example.org/r","tags":["only.tag"]}\n' "$first" "$first" |
  kcat -P -b "$KAFKA_ADDR" -t leaves -K $'\t' 2>>"$TEST_TMP/kcat.err"
printf '%s\t\n' "$second" | kcat -P -Z -b "$KAFKA_ADDR" -t leaves -K $'\t' 2>>"$TEST_TMP/kcat.err"
check "the edit and the delete are applied" applied $((n + 1))
check "SIGTERM stops eddy up and its pipelines cleanly" eddy_stop

"$EDDY_BIN" dump keys demo.leaves_by_tag --data "$EDDY_DATA" > "$TEST_TMP/dump.txt" 2>&1
live_rows "$TEST_TMP/dump.txt" > "$TEST_TMP/rows.txt"
check "rows were written to demo.leaves_by_tag" grep -q "only.tag" "$TEST_TMP/rows.txt"
# title_of N: the title of the Nth sample leaf.
title_of() { sed -n "$1p" "$TEST_TMP/sample.tsv" | cut -f2 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])'; }
check "the renamed leaf's old title is gone from every tag" bash -c '! grep -qF "$0" "$1"' "$(title_of 1)" "$TEST_TMP/rows.txt"
check "the renamed leaf has one row, under its one tag" test "$(grep -c "Renamed leaf" "$TEST_TMP/rows.txt")" -eq 1
check "the deleted leaf's rows are gone" bash -c '! grep -qF "$0" "$1"' "$(title_of 2)" "$TEST_TMP/rows.txt"
check "other leaves' rows stay" grep -qF "$(title_of 3)" "$TEST_TMP/rows.txt"

# A restart resumes at the committed positions: nothing is applied twice or lost.
check "eddy up starts again" eddy_start --pipeline examples/leaves_by_tag.sql
printf 'L9\t{"id":"L9","title":"After restart","url":"https://example.org/9","tags":["restart"]}\n' |
  kcat -P -b "$KAFKA_ADDR" -t leaves -K $'\t' 2>>"$TEST_TMP/kcat.err"
check "a record produced after the restart is applied" applied $((n + 2))
check "eddy up stops cleanly again" eddy_stop
"$EDDY_BIN" dump keys demo.leaves_by_tag --data "$EDDY_DATA" > "$TEST_TMP/dump2.txt" 2>&1
live_rows "$TEST_TMP/dump2.txt" > "$TEST_TMP/rows2.txt"
check "the row from after the restart is there" grep -q "After restart" "$TEST_TMP/rows2.txt"
check "the earlier rows are still there" grep -q "only.tag" "$TEST_TMP/rows2.txt"
