#!/usr/bin/env bash
# `eddy submit` and the pipeline endpoints over real HTTP (curl): a streaming pipeline submitted
# to a running eddy keeps running, GET /pipelines lists it and GET /pipelines/NAME reports
# Spark-shaped progress; the tags batch job shows its progress and finishes with the right
# counts; a bad file is refused with line and column and starts nothing; stop and start; the
# pipelines' figures in /metrics.
source "$(dirname "$0")/../lib/eddy.sh"
cd "$(dirname "$0")/../.."

if ! command -v kcat >/dev/null || ! command -v curl >/dev/null; then
  not_ok "kcat and curl are needed"
  exit 0
fi
EDDY_LOG_LEVEL=debug
export EDDY_LOG_LEVEL
check "eddy up starts" eddy_start
url="http://$HTTP_ADDR"

# applied PIPELINE/N OFFSET: waits until the query has applied that offset of topic leaves.
applied() {
  local i
  for i in $(seq 1 300); do
    grep -q "$1: applied leaves/0 up to offset $2\$" "$EDDY_LOG" && return 0
    sleep 0.1
  done
  return 1
}

"$EDDY_BIN" gen leaves --from examples/data/leaves.json --keyed > "$TEST_TMP/sample.tsv" 2>/dev/null
"$EDDY_BIN" gen leaves --count 200 --seed 3 --keyed >> "$TEST_TMP/sample.tsv" 2>/dev/null
n=$(wc -l < "$TEST_TMP/sample.tsv")
kcat -P -b "$KAFKA_ADDR" -t leaves -K $'\t' -l "$TEST_TMP/sample.tsv" 2>"$TEST_TMP/kcat.err"

"$EDDY_BIN" submit examples/leaves_by_tag.sql --server "$url" > "$TEST_TMP/submit.out" 2>&1; rc=$?
check "eddy submit starts a streaming pipeline" bash -c '[ '"$rc"' -eq 0 ] && grep -q "pipeline leaves_by_tag submitted: 1 streaming" "$0"' "$TEST_TMP/submit.out"
check "it applies the topic from the start" applied leaves_by_tag/1 $((n - 1))
curl -s "$url/pipelines" > "$TEST_TMP/list.json"
check "GET /pipelines lists it" grep -q '"name":"leaves_by_tag","state":"running"' "$TEST_TMP/list.json"
curl -s "$url/pipelines/leaves_by_tag" > "$TEST_TMP/one.json"
check "GET /pipelines/NAME has Spark's progress fields" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
q = d["queries"][0]
for k in ["id", "runId", "timestamp", "batchId", "numInputRows", "inputRowsPerSecond", "processedRowsPerSecond",
          "durationMs", "stateOperators", "sources", "sink"]:
    assert k in q, k
s = q["sources"][0]
assert s["endOffset"]["leaves"]["0"] == int(sys.argv[2]), s
assert s["metrics"]["maxOffsetsBehindLatest"] == "0", s
assert q["sink"]["description"] == "EddyStore[demo.leaves_by_tag]"
' "$TEST_TMP/one.json" "$n"

# The batch job over demo.leaves (kept by the api's projection of the same topic).
check "the projection of topic leaves is applied" applied leaves-projection/1 $((n - 1))
"$EDDY_BIN" submit examples/tags.sql --server "$url" > "$TEST_TMP/tags.out" 2>&1; rc=$?
check "eddy submit runs the tags batch job to the end" bash -c '[ '"$rc"' -eq 0 ] && grep -q "pipeline tags finished: '"$n"' rows read" "$0"' "$TEST_TMP/tags.out"
check "the job reported its progress" grep -q "100%" "$TEST_TMP/tags.out"

cat > "$TEST_TMP/bad.sql" <<'SQL'
CREATE STREAM s (id text KEY, n int) WITH (topic = 'leaves');
INSERT INTO demo.tags SELECT id AS tag, n + 'x' AS count FROM s;
SQL
"$EDDY_BIN" submit "$TEST_TMP/bad.sql" --server "$url" > "$TEST_TMP/bad.out" 2>&1; rc=$?
check "a bad file is refused with line and column" bash -c '[ '"$rc"' -ne 0 ] && grep -q "bad.sql: line 2:.*type mismatch: int + text" "$0"' "$TEST_TMP/bad.out"
check "and starts nothing" bash -c '! curl -s "$0/pipelines" | grep -q "\"name\":\"bad\""' "$url"

check "POST stop stops it" bash -c 'curl -s -X POST "$0/pipelines/leaves_by_tag/stop" | grep -q "\"state\":\"stopped\""' "$url"
check "POST start starts it again" bash -c 'curl -s -X POST "$0/pipelines/leaves_by_tag/start" | grep -q "\"name\":\"leaves_by_tag\""' "$url"
curl -s "$url/metrics" > "$TEST_TMP/metrics.txt"
check "/metrics has the pipelines' counters" grep -q '^eddy_pipeline_input_rows_total{pipeline="leaves_by_tag",query="leaves_by_tag/1"}' "$TEST_TMP/metrics.txt"
check "/metrics has the batch job's share done" grep -q '^eddy_pipeline_batch_fraction_done{pipeline="tags",query="tags/1"} 1.0000' "$TEST_TMP/metrics.txt"
check "eddy up stops cleanly" eddy_stop

# The counts in demo.tags equal a count over the leaves (the last value of each key).
"$EDDY_BIN" dump keys demo.tags --data "$EDDY_DATA" > "$TEST_TMP/tags.dump" 2>&1
check "demo.tags holds the count of every tag" /usr/bin/python3 -c '
import json, re, sys, collections
last = {}
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split("\t", 1)
    last[k] = json.loads(v)
want = collections.Counter(t for l in last.values() for t in (l.get("tags") or []) if isinstance(t, str))
got, tag = {}, None
for line in open(sys.argv[2]):
    m = re.match(r"row token=\S+ \(tag=\x27(.*)\x27\)", line)
    if m: tag = m.group(1)
    m = re.match(r"\s+count: ts=\d+ value=(\d+)", line)
    if m and tag is not None: got[tag] = int(m.group(1))
assert got == dict(want), (len(got), len(want), sorted(set(got.items()) ^ set(want.items()))[:5])
' "$TEST_TMP/sample.tsv" "$TEST_TMP/tags.dump"
