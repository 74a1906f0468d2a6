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

# The disk's sequential write bandwidth, durable (as the log's group commit is). This VM's disk
# varies a lot from one run to the next (host cache, other work): the median of three runs of
# the issue's measure (1 GiB, one fdatasync at the end), and for reference 1 MiB writes each
# synced (oflag=dsync), the pattern closest to group commit of 1 MB batches.
dd_rate() { # dd arguments...; prints MB/s
  dd if=/dev/zero of="$base/dd.bin" bs=1M "$@" 2>&1 | tail -n 1 |
    awk '{ for (i = 1; i < NF; i++) if ($(i+1) ~ /^[MG]B\/s$/) { v = $i; if ($(i+1) == "GB/s") v *= 1000; print v } }'
  rm -f "$base/dd.bin"
}
runs=$(for i in 1 2 3; do dd_rate count=1024 conv=fdatasync; done | sort -n | tr '\n' ' ')
dd_mbs=$(echo "$runs" | awk '{ print $2 }')
dsync_mbs=$(dd_rate count=256 oflag=dsync)
echo "disk: dd if=/dev/zero bs=1M count=1024 conv=fdatasync: $runs MB/s (median $dd_mbs); bs=1M oflag=dsync: $dsync_mbs MB/s"

run() { # label, log_bench flags...
  local label="$1"; shift
  local dir="$base/$label"
  local out mbs
  out=$("$bin" --dir "$dir" --seconds "$secs" "$@")
  rm -rf "$dir"
  mbs=$(echo "$out" | sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p')
  printf '%-20s %s disk_ratio=%.2f dsync_ratio=%.2f\n' "$label" "$out" \
    "$(awk -v a="$mbs" -v b="$dd_mbs" 'BEGIN { print a / b }')" "$(awk -v a="$mbs" -v b="$dsync_mbs" 'BEGIN { print a / b }')"
}

# librdkafka's batches: ~100 records (linger-bound, 11 KB) and up to batch.size 1,000,000 bytes
# (9,000 records of 100 bytes).
run small-batches-4x4  --threads 4 --partitions 4 --records 100
run large-batches-4x4  --threads 4 --partitions 4 --records 9000
run large-batches-4x1  --threads 4 --partitions 1 --records 9000
run small-batches-16x4 --threads 16 --partitions 4 --records 100
