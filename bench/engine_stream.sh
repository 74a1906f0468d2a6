#!/usr/bin/env bash
# engine (streaming): the leaves_by_tag stream over generated leaves on the embedded log and
# store: throughput, the same rows written straight into RocksDB (same run), and latency at a
# fixed rate.   bench/engine_stream.sh [N [RATE [SECONDS]]]   (default 1000000 50000 5)
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory build/bench/engine_stream >/dev/null
build/bench/engine_stream "${1:-1000000}" "${2:-50000}" "${3:-5}"
