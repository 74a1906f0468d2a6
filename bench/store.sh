#!/usr/bin/env bash
# store: upserts/s and cached point reads/s through the store's C API (leaves, leaves_by_tag)
# against raw RocksDB puts/gets of the same bytes, in the same run.
#   bench/store.sh [LEAVES] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory build/bench/store >/dev/null
dir=$(mktemp -d /tmp/eddy-bench-store-XXXXXX)
trap 'rm -rf "$dir"' EXIT
build/bench/store "$dir" "${1:-100000}" "${2:-2}"
