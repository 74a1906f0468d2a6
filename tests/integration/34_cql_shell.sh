#!/usr/bin/env bash
# eddy's CQL shell (`eddy cql`, on eddy's C client) against `eddy up`: cqlsh's table layout, -e, -f
# and piped scripts, EXPAND, DESCRIBE, conditional writes, error lines and exit codes.
source "$(dirname "$0")/../lib/eddy.sh"

eddy_start || { not_ok "eddy up starts"; exit 1; }
CQL="$EDDY_BIN cql $CQL_ADDR"

$CQL -e "CREATE KEYSPACE shell WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
  CREATE TABLE shell.people (id int PRIMARY KEY, name text, score double, tags set<text>);
  INSERT INTO shell.people (id, name, score, tags) VALUES (1, 'ann', 1.5, {'a', 'b'});
  INSERT INTO shell.people (id, name, score) VALUES (22, 'bob', 0.125);" > "$TEST_TMP/setup.out" 2>&1
check "-e runs a script of DDL and writes (exit 0)" [ $? -eq 0 ]

$CQL -e "SELECT id, name, score, tags FROM shell.people WHERE id IN (1, 22)" > "$TEST_TMP/select.out" 2>&1
cat > "$TEST_TMP/select.want" <<'EOF'

 id | name | score | tags
----+------+-------+------------
  1 |  ann |   1.5 | {'a', 'b'}
 22 |  bob | 0.125 |       null

(2 rows)
EOF
if diff -u "$TEST_TMP/select.want" "$TEST_TMP/select.out"; then ok "a SELECT prints as cqlsh prints it"
else not_ok "a SELECT prints as cqlsh prints it"; fi

$CQL -k shell -e "EXPAND ON; SELECT id, name FROM people WHERE id = 1;" > "$TEST_TMP/expand.out" 2>&1
if grep -q '^@ Row 1$' "$TEST_TMP/expand.out" && grep -q '^ name | ann$' "$TEST_TMP/expand.out"; then
  ok "EXPAND ON prints one block per row (and -k picks the keyspace)"
else not_ok "EXPAND ON prints one block per row (and -k picks the keyspace)"; sed 's/^/#   /' "$TEST_TMP/expand.out"; fi

$CQL -e "INSERT INTO shell.people (id, name) VALUES (1, 'again') IF NOT EXISTS" > "$TEST_TMP/lwt.out" 2>&1
if grep -q 'False |  1 |  ann' "$TEST_TMP/lwt.out"; then ok "a conditional write prints its [applied] row"
else not_ok "a conditional write prints its [applied] row"; sed 's/^/#   /' "$TEST_TMP/lwt.out"; fi

$CQL -e "DESCRIBE TABLE shell.people" > "$TEST_TMP/desc.out" 2>&1
if grep -q '^CREATE TABLE shell.people ($' "$TEST_TMP/desc.out" && grep -q 'id int PRIMARY KEY' "$TEST_TMP/desc.out"; then
  ok "DESCRIBE TABLE prints the CREATE statement"
else not_ok "DESCRIBE TABLE prints the CREATE statement"; sed 's/^/#   /' "$TEST_TMP/desc.out"; fi

cat > "$TEST_TMP/script.cql" <<'EOF'
-- a comment; with a semicolon inside
USE shell;
SELECT count(*) FROM people;
SELECT * FROM nowhere;
SELECT name FROM people WHERE id = 22;
EOF
$CQL -f "$TEST_TMP/script.cql" > "$TEST_TMP/script.out" 2> "$TEST_TMP/script.err"
rc=$?
check "-f exits 1 when a statement fails" [ $rc -eq 1 ]
if grep -q "^$TEST_TMP/script.cql:4:InvalidRequest: Error from server: code=2200 \[Invalid query\] message=\"" "$TEST_TMP/script.err"; then
  ok "errors name the file and line as cqlsh does"
else not_ok "errors name the file and line as cqlsh does"; sed 's/^/#   /' "$TEST_TMP/script.err"; fi
if grep -qE '^ +2$' "$TEST_TMP/script.out" && grep -qE '^ +bob$' "$TEST_TMP/script.out"; then
  ok "the statements around the failure still run"
else not_ok "the statements around the failure still run"; sed 's/^/#   /' "$TEST_TMP/script.out"; fi

printf 'SELECT name\n  FROM shell.people\n  WHERE id = 1;\n' | $CQL > "$TEST_TMP/pipe.out" 2>&1
if grep -qE '^ +ann$' "$TEST_TMP/pipe.out"; then ok "a statement over several piped lines"
else not_ok "a statement over several piped lines"; sed 's/^/#   /' "$TEST_TMP/pipe.out"; fi

$CQL -e "SELEC oops" > /dev/null 2> "$TEST_TMP/syntax.err"
check "a syntax error exits 1" [ $? -eq 1 ]
check "a syntax error is reported as SyntaxException" grep -q 'SyntaxException: Error from server: code=2000' "$TEST_TMP/syntax.err"

"$EDDY_BIN" cql 127.0.0.1:1 -e "SELECT 1" > /dev/null 2>&1
check "an unreachable server exits 2" [ $? -eq 2 ]

eddy_stop
check "eddy up stops cleanly" [ $? -eq 0 ]
