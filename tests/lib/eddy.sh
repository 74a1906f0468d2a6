# Shell helpers for integration tests: TAP-style results and an `eddy up` on free ports.
#   source "$(dirname "$0")/../lib/eddy.sh"
#   eddy_start [flags...]      starts eddy up on port 0 listeners and a temp data dir; sets
#                              EDDY_PID, EDDY_DATA, KAFKA_ADDR, CQL_ADDR, HTTP_ADDR (when listening)
#   eddy_stop                  SIGTERM and wait (fails the test if the exit is not clean)
#   ok NAME / not_ok NAME / check NAME CMD...
EDDY_BIN="${EDDY_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/asan/eddy}"
TEST_TMP=$(mktemp -d /tmp/eddy-it-XXXXXX)
trap 'eddy_cleanup' EXIT

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; }
# check NAME CMD...: runs CMD, ok when it exits 0
check() {
  local name="$1"; shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

eddy_cleanup() {
  if [ -n "${EDDY_PID:-}" ] && kill -0 "$EDDY_PID" 2>/dev/null; then kill -9 "$EDDY_PID" 2>/dev/null; fi
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TEST_TMP"
}

# eddy_start [extra flags]: waits until "eddy: ready" (or failure) and reads the bound ports.
eddy_start() {
  EDDY_DATA="${EDDY_DATA:-$TEST_TMP/data}"
  EDDY_LOG="$TEST_TMP/eddy.log"
  : > "$EDDY_LOG"
  "$EDDY_BIN" up --data "$EDDY_DATA" --kafka-listen 127.0.0.1:0 --cql-listen 127.0.0.1:0 \
    --http-listen 127.0.0.1:0 "$@" 2>>"$EDDY_LOG" &
  EDDY_PID=$!
  local i
  for i in $(seq 1 600); do
    if grep -q '^eddy: ready' "$EDDY_LOG"; then break; fi
    if ! kill -0 "$EDDY_PID" 2>/dev/null; then echo "# eddy up exited early:"; sed 's/^/#   /' "$EDDY_LOG"; return 1; fi
    sleep 0.1
  done
  KAFKA_ADDR=$(sed -n 's/^eddy: kafka listening on //p' "$EDDY_LOG" | head -1)
  CQL_ADDR=$(sed -n 's/^eddy: cql listening on //p' "$EDDY_LOG" | head -1)
  HTTP_ADDR=$(sed -n 's/^eddy: http listening on //p' "$EDDY_LOG" | head -1)
  export KAFKA_ADDR CQL_ADDR HTTP_ADDR EDDY_DATA
  grep -q '^eddy: ready' "$EDDY_LOG"
}

eddy_stop() {
  [ -n "${EDDY_PID:-}" ] || return 0
  kill -TERM "$EDDY_PID" 2>/dev/null
  local rc=0
  wait "$EDDY_PID" || rc=$?
  EDDY_PID=
  return $rc
}
