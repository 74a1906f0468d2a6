#!/usr/bin/env bash
# `eddy gen leaves`: reproducible JSON lines in the leaf-event and workshop-record shapes, and
# clear errors for bad flags.
source "$(dirname "$0")/../lib/eddy.sh"

"$EDDY_BIN" gen leaves --count 50 --seed 3 > "$TEST_TMP/a.json"
"$EDDY_BIN" gen leaves --count 50 --seed 3 > "$TEST_TMP/b.json"
check "50 leaves, one a line" test "$(wc -l < "$TEST_TMP/a.json")" -eq 50
check "the same seed gives the same leaves" cmp -s "$TEST_TMP/a.json" "$TEST_TMP/b.json"
"$EDDY_BIN" gen leaves --count 50 --seed 4 > "$TEST_TMP/c.json"
check "another seed gives other leaves" bash -c '! cmp -s "$0" "$1"' "$TEST_TMP/a.json" "$TEST_TMP/c.json"
check "every line is a leaf event with the 23 columns and a 32-hex id" /usr/bin/python3 - "$TEST_TMP/a.json" <<'PY'
import json, re, sys
cols = {"id","all","content","content_text","created_at","domain_name","http_status","is_archived","is_public",
        "is_starred","language","links","mimetype","preview_picture","reading_time","slugs","tags","title",
        "updated_at","url","user_email","user_id","user_name"}
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert set(d) == cols, set(d) ^ cols
    assert re.fullmatch(r"[0-9a-f]{32}", d["id"])
    assert isinstance(d["http_status"], str)
PY
"$EDDY_BIN" gen leaves --count 5 --format record --content none > "$TEST_TMP/r.json"
check "record format has _links and a numeric http_status" /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert "_links" in d and "links" not in d and isinstance(d["http_status"], int) and d["content"] is None
' "$TEST_TMP/r.json"
"$EDDY_BIN" gen leaves --count 3 --content full > "$TEST_TMP/f.json"
check "full content is 10 KB or more a leaf" /usr/bin/python3 -c '
import json, sys
assert all(len(json.loads(l)["content"]) >= 10000 for l in open(sys.argv[1]))' "$TEST_TMP/f.json"
"$EDDY_BIN" gen leaves --content huge >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "a bad --content exits 2 and says why" bash -c '[ '"$rc"' -eq 2 ] && grep -q "none, small or full" "$0"' "$TEST_TMP/err"
"$EDDY_BIN" gen trees >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "an unknown kind exits 2" test "$rc" -eq 2

"$EDDY_BIN" gen leaves --count 3 --keyed > "$TEST_TMP/k.tsv"
check "--keyed puts the id and a tab before each leaf" /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    key, value = line.rstrip("\n").split("\t", 1)
    assert json.loads(value)["id"] == key
' "$TEST_TMP/k.tsv"
"$EDDY_BIN" gen leaves --from "$(dirname "$0")/../../examples/data/leaves.json" > "$TEST_TMP/imported.json"
check "--from converts the 20 sample records to leaf events" /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 20
up = [r for r in rows if r["id"] == "21019"][0]       # the upstream-shaped record
assert up["tags"] == ["writing", "productivity"] and up["slugs"] == ["writing", "productivity"]
assert up["links"] == ["/api/entries/21019"] and up["http_status"] == "200"
assert all(isinstance(r["http_status"], str) for r in rows)
' "$TEST_TMP/imported.json"
printf '[{"id":"1","colour":"red"}]' > "$TEST_TMP/bad.json"
"$EDDY_BIN" gen leaves --from "$TEST_TMP/bad.json" >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "--from names a record's bad field" bash -c '[ '"$rc"' -ne 0 ] && grep -q "unknown field .colour." "$0"' "$TEST_TMP/err"
