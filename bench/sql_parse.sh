#!/usr/bin/env bash
# sql: statements parsed per second by eddy's parser vs SQLite's sqlite3_prepare_v2 (same run).
#   bench/sql_parse.sh [SECONDS_PER_CASE]
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory build/bench/sql_parse >/dev/null
build/bench/sql_parse "${1:-1}"
