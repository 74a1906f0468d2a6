#!/usr/bin/env bash
# Runs every test under the sanitizer build and ends with one summary line, "N passed, N failed":
#   1. the unit tests (build/asan/unit), one line per test;
#   2. every fuzz target's corpus, replayed (build/asan/fuzz-replay/*), one line per target;
#   3. the integration tests (tests/integration/NN_name.{sh,py,js}), which drive real clients
#      against `eddy up` and print "ok - name" / "not ok - name" lines (a script that exits
#      non-zero without a "not ok" line counts as one failure).
# Usage: tests/run.sh [FILTER]   FILTER picks unit tests and integration scripts by substring.
set -uo pipefail
cd "$(dirname "$0")/.."
export EDDY_BIN="$PWD/build/asan/eddy"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
filter="${1:-}"
passed=0
failed=0
failures=()
log_dir="build/test-logs"
mkdir -p "$log_dir"

count_output() { # name, file, exit code
  local name="$1" out="$2" rc="$3" ok nok
  ok=$(grep -c '^ok ' "$out")
  nok=$(grep -c '^not ok ' "$out")
  passed=$((passed + ok))
  failed=$((failed + nok))
  grep '^not ok ' "$out" | while read -r line; do echo "  $name: $line"; done
  if [ "$nok" -gt 0 ]; then failures+=("$name"); fi
  if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
    failed=$((failed + 1))
    failures+=("$name (exit $rc)")
    echo "  $name: exited $rc; last lines:"
    tail -n 15 "$out" | sed 's/^/    /'
  fi
}

echo "== unit tests"
build/asan/unit $filter > "$log_dir/unit.log" 2>&1
rc=$?
count_output unit "$log_dir/unit.log" $rc
tail -n 1 "$log_dir/unit.log"

echo "== fuzz corpora"
for bin in build/asan/fuzz-replay/*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  if "$bin" "fuzz/corpus/$name" > "$log_dir/fuzz-$name.log" 2>&1; then
    echo "ok - fuzz/$name" >> "$log_dir/fuzz-$name.log"
  else
    echo "not ok - fuzz/$name" >> "$log_dir/fuzz-$name.log"
  fi
  count_output "fuzz/$name" "$log_dir/fuzz-$name.log" 0
done

echo "== integration tests"
for t in tests/integration/[0-9]*; do
  [ -f "$t" ] || continue
  name=$(basename "$t")
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  case "$t" in
    *.py) cmd=(/usr/bin/python3 "$t") ;;
    *.js) cmd=(node "$t") ;;
    *) cmd=(bash "$t") ;;
  esac
  start=$(date +%s)
  timeout --kill-after=10 "${TEST_SCRIPT_TIMEOUT:-900}" "${cmd[@]}" > "$log_dir/$name.log" 2>&1
  rc=$?
  count_output "$name" "$log_dir/$name.log" $rc
  echo "  $name ($(( $(date +%s) - start ))s)"
done

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]} (logs in $log_dir)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
