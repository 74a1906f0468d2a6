#!/usr/bin/env bash
# The command line: help, version, errors with exit code 2, and `eddy up`'s lifecycle
# (ready line, data-directory lock, clean shutdown on SIGTERM and SIGINT).
source "$(dirname "$0")/../lib/eddy.sh"

check "help lists the commands" bash -c '"$0" --help | grep -q "^  up "' "$EDDY_BIN"
check "version prints eddy and a version" bash -c '"$0" version | grep -Eq "^eddy [0-9]"' "$EDDY_BIN"
check "up --help lists the listener flags" bash -c '"$0" up --help | grep -q -- "--kafka-listen"' "$EDDY_BIN"

"$EDDY_BIN" nosuchcommand >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "unknown command exits 2" test "$rc" -eq 2
check "unknown command is named" grep -q "unknown command 'nosuchcommand'" "$TEST_TMP/err"

"$EDDY_BIN" up --no-such-flag >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "unknown flag exits 2" test "$rc" -eq 2
check "unknown flag is named" grep -q -- "--no-such-flag" "$TEST_TMP/err"

"$EDDY_BIN" up --kafka-listen nonsense >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "bad listener exits 2 and says why" bash -c '[ '"$rc"' -eq 2 ] && grep -q "not HOST:PORT" "$0"' "$TEST_TMP/err"

echo "log-level = shouting" > "$TEST_TMP/bad.conf"
"$EDDY_BIN" up --config "$TEST_TMP/bad.conf" >/dev/null 2>"$TEST_TMP/err"; rc=$?
check "bad config value exits 2" test "$rc" -eq 2
echo "no-such-key = 1" > "$TEST_TMP/bad.conf"
"$EDDY_BIN" up --config "$TEST_TMP/bad.conf" >/dev/null 2>"$TEST_TMP/err"
check "unknown config key names file and line" grep -q "bad.conf:1: unknown setting 'no-such-key'" "$TEST_TMP/err"

check "eddy up starts" eddy_start
"$EDDY_BIN" up --data "$EDDY_DATA" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 >/dev/null 2>"$TEST_TMP/err2"; rc=$?
check "a second eddy up on the same data directory is refused" test "$rc" -ne 0
check "the refusal says the directory is in use" grep -q "in use by another eddy process" "$TEST_TMP/err2"
check "SIGTERM stops eddy up cleanly" eddy_stop
check "shutdown is logged" grep -q "stopped cleanly" "$EDDY_LOG"

EDDY_DATA="$TEST_TMP/data2" EDDY_LOG_LEVEL=debug eddy_start
kill -INT "$EDDY_PID"; wait "$EDDY_PID"; rc=$?; EDDY_PID=
check "SIGINT stops eddy up cleanly" test "$rc" -eq 0
check "EDDY_LOG_LEVEL from the environment applies" grep -q "DEBUG" "$EDDY_LOG"
