#!/usr/bin/env bash
# The log's benchmark: appends of 100-byte records in batches shaped as librdkafka sends them,
# several appender threads, default group commit; records/s, MB/s as a ratio to the disk's own
# sequential write bandwidth measured in the same run (dd ... conv=fdatasync on the same file
# system), and fsyncs/s against acknowledged appends/s.
#   bench/log.sh            (LOG_BENCH_SECONDS=10, LOG_BENCH_DIR=a temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory build/bench/log_bench >/dev/null
bin=build/bench/log_bench
secs="${LOG_BENCH_SECONDS:-10}"
base="${LOG_BENCH_DIR:-$(mktemp -d /var/tmp/eddy-log-bench.XXXXXX)}"
trap 'rm -rf "$base"' EXIT

# The disk's sequential write bandwidth, durable (as the log's group commit is): the better of
# two runs, since the disk is shared with other work.
dd_mbs=0
for i in 1 2; do
  out=$(dd if=/dev/zero of="$base/dd.bin" bs=1M count=1024 conv=fdatasync 2>&1 | tail -n 1)
  rm -f "$base/dd.bin"
  v=$(echo "$out" | awk '{ for (i = 1; i < NF; i++) if ($(i+1) ~ /^[MG]B\/s$/) { v = $i; if ($(i+1) == "GB/s") v *= 1000; print v } }')
  dd_mbs=$(awk -v a="$v" -v b="$dd_mbs" 'BEGIN { print (a > b ? a : b) }')
done
echo "disk: dd if=/dev/zero bs=1M count=1024 conv=fdatasync (best of 2): $dd_mbs MB/s"

run() { # label, log_bench flags...
  local label="$1"; shift
  local dir="$base/$label"
  local out mbs
  out=$("$bin" --dir "$dir" --seconds "$secs" "$@")
  rm -rf "$dir"
  mbs=$(echo "$out" | sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p')
  printf '%-20s %s disk_ratio=%.2f\n' "$label" "$out" "$(awk -v a="$mbs" -v b="$dd_mbs" 'BEGIN { print a / b }')"
}

# librdkafka's batches: ~100 records (linger-bound, 11 KB) and up to batch.size 1,000,000 bytes
# (9,000 records of 100 bytes).
run small-batches-4x4  --threads 4 --partitions 4 --records 100
run large-batches-4x4  --threads 4 --partitions 4 --records 9000
run large-batches-4x1  --threads 4 --partitions 1 --records 9000
run small-batches-16x4 --threads 16 --partitions 4 --records 100
