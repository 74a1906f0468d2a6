"""Bounded memory for Kafka requests in flight (queued.max.request.bytes): many producers pipeline
large batches against an `eddy up` whose disk is slow (fsync delayed by an LD_PRELOAD shim) and
whose budget is 1 MiB. Every request is answered and every record stored (nothing lost), the bytes
of requests held never pass the cap plus one request, connections waited for the budget, and one
request larger than the whole cap still goes through (no deadlock). The broker's metrics and its
listener's net counters are in /metrics."""
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, Http, check, finish  # noqa: E402
from kafka_raw import batch, connect, fetch, fetch_answer, list_offsets, produce, produce_answer, read_frame  # noqa: E402

LIB = os.path.join(os.path.dirname(__file__), "..", "lib")
CAP = 1 << 20
TOPIC = "bp"
PARTITIONS = 4
PRODUCERS = 8
REQUESTS = 6          # pipelined per producer
RECORDS = 250         # of 1,000 bytes: a ~250 KiB request


def metric(text, name):
    m = re.search(r"^" + re.escape(name) + r"(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def producer(addr, n, records, partition, first_corr, results):
    """Pipelines n Produce requests of records on one connection, then reads every answer."""
    s = connect(addr, timeout=120)
    sender = threading.Thread(target=lambda: s.sendall(b"".join(
        produce(first_corr + i, TOPIC, records, partition=partition) for i in range(n))))
    sender.start()
    for _ in range(n):
        f = read_frame(s)
        results.append(produce_answer(f, TOPIC) if f else None)
    sender.join()
    s.close()


tmp = tempfile.mkdtemp(prefix="eddy-slowfs-")
shim = os.path.join(tmp, "slow_fsync.so")
subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, os.path.join(LIB, "slow_fsync.c"), "-ldl"], check=True)
os.environ["LD_PRELOAD"] = shim
os.environ["EDDY_TEST_FSYNC_DELAY_MS"] = "30"
# The shim is loaded before the sanitizer runtime; tell ASan that this is intended.
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"

with Eddy("--kafka-queued-max-request-bytes", str(CAP), "--default-partitions", str(PARTITIONS)) as e:
    del os.environ["LD_PRELOAD"]
    check("the slow-disk shim is loaded into eddy up", "slow_fsync: fsync and fdatasync take 30 ms" in e.log_text(),
          e.log_text()[:500])
    records = batch([b"v" * 1000] * RECORDS)
    results = []
    threads = [threading.Thread(target=producer, args=(e.kafka, REQUESTS, records, i % PARTITIONS, 1000 * i, results))
               for i in range(PRODUCERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [r for r in results if r]
    check("every pipelined produce is answered", len(answered) == PRODUCERS * REQUESTS, len(answered))
    check("every produce succeeded", all(r[1] == 0 for r in answered), [r for r in answered if r[1]][:5])

    http = Http(e.http_addr)
    status, text, _ = http.call("GET", "/metrics")
    peak = metric(text, "eddy_kafka_queued_request_bytes_peak")
    waits = metric(text, "eddy_kafka_queued_request_waits_total")
    offered = PRODUCERS * REQUESTS * (len(records) + 100)
    check("the bytes of requests held stay under the cap plus one request",
          peak is not None and CAP <= peak < CAP + len(records) + 200, (peak, CAP, offered))
    check("connections waited for the budget (reading paused)", waits is not None and waits > 0, waits)

    # One request larger than the whole cap (4 partitions of 750 KiB: 3 MiB), sent while other
    # producers keep the budget busy, is admitted once the budget has room: no deadlock.
    big = batch([b"B" * 1000] * 750)
    big_result = []
    results = []
    threads = [threading.Thread(target=producer, args=(e.kafka, REQUESTS, records, i % PARTITIONS, 1000 * i, results))
               for i in range(PRODUCERS)]
    for t in threads:
        t.start()
    s = connect(e.kafka, timeout=120)
    s.sendall(produce(1, TOPIC, None, parts=[(p, big) for p in range(PARTITIONS)]))
    f = read_frame(s)
    r = produce_answer(f, TOPIC) if f else None
    for t in threads:
        t.join()
    check("a request larger than the cap is answered while others wait", r is not None and r[1] == 0, r)
    check("the others are answered too", len(results) == PRODUCERS * REQUESTS and all(x and x[1] == 0 for x in results))
    status, text, _ = http.call("GET", "/metrics")
    peak = metric(text, "eddy_kafka_queued_request_bytes_peak")
    check("then the bytes held stay under the cap plus that request",
          peak is not None and peak < CAP + 4 * len(big) + 400, (peak, CAP))

    # Nothing lost: each partition's high watermark counts exactly the records produced to it.
    expect = [0] * PARTITIONS
    for i in range(PRODUCERS):
        expect[i % PARTITIONS] += 2 * REQUESTS * RECORDS
    expect = [n + 750 for n in expect]
    got = []
    for p in range(PARTITIONS):
        s.sendall(list_offsets(10 + p, TOPIC, p))
        got.append(struct.unpack(">q", read_frame(s)[-8:])[0])
    check("every record is stored (high watermarks)", got == expect, (got, expect))

    # A Fetch answer is capped by the broker (4 MiB by default) whatever the client allows: the
    # first partitions fill it with whole batches, the others report their positions only.
    s.sendall(fetch(20, TOPIC, [(p, 0, 100 << 20) for p in range(PARTITIONS)], 100 << 20))
    parts = fetch_answer(read_frame(s))
    total = sum(v[2] for v in parts.values())
    check("a Fetch answer holds at most the broker's 4 MiB of records",
          3 << 20 < total <= 4 << 20 and all(v[0] == 0 and v[1] == expect[p] for p, v in parts.items()), parts)
    s.close()

    status, text, _ = http.call("GET", "/metrics")
    check("no request bytes are held once everything is answered",
          metric(text, "eddy_kafka_queued_request_bytes") == 0, metric(text, "eddy_kafka_queued_request_bytes"))
    check("the Kafka listener's connections are in /metrics",
          'eddy_net_connections_accepted_total{server="kafka"}' in text and
          (metric(text, 'eddy_net_received_bytes_total{server="kafka"}') or 0) > offered, text[:300])
    produced = re.search(r'^eddy_kafka_requests_total\{api="Produce"\} (\d+)$', text, re.M)
    check("requests are counted by API", produced and int(produced.group(1)) == 2 * PRODUCERS * REQUESTS + 1,
          produced and produced.group(0))
    check("produce latency is a histogram by API",
          re.search(r'^eddy_kafka_request_duration_seconds_count\{api="Produce"\} (\d+)$', text, re.M) is not None)
    check("produce bytes are counted",
          (metric(text, "eddy_kafka_produce_bytes_total") or 0) >= PRODUCERS * REQUESTS * len(records))
    http.close()
    check("eddy stops cleanly", e.stop() == 0, e.log_text()[-2000:])
subprocess.run(["rm", "-rf", tmp], check=False)
finish()
