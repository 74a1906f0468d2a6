"""Raw sockets against eddy's Kafka listener: Kafka's answers to bad input (close, or an error
code), pipelining in order, no answer for acks=0, ApiVersions' special cases, nothing stored from
a bad batch, and 1,000 concurrent connections."""
import os
import resource
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, check, finish  # noqa: E402
from kafka_raw import batch, closed_by_server, connect, kstr, produce, read_frame, request  # noqa: E402


API_VERSIONS_V0 = lambda corr: request(18, 0, corr)  # noqa: E731
METADATA_V1 = lambda corr, topics: request(3, 1, corr, struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics))  # noqa: E731

with Eddy() as e:
    a = e.kafka
    # Pipelined requests answered in order; ApiVersions need not come first.
    s = connect(a)
    s.sendall(METADATA_V1(7, []) + API_VERSIONS_V0(8) + request(18, 1, 9))
    corrs = [struct.unpack(">i", read_frame(s)[:4])[0] for _ in range(3)]
    check("pipelined requests are answered in order", corrs == [7, 8, 9], corrs)

    # ApiVersions of an unknown version: error 35 and a v0 body with ApiVersions' range.
    s.sendall(request(18, 99, 10, b"\x00garbage"))
    f = read_frame(s)
    check("ApiVersions v99 gets UNSUPPORTED_VERSION in a v0 body",
          f == struct.pack(">ihihhh", 10, 35, 1, 18, 0, 3), f)

    # acks=0: no answer at all; the next request's answer comes first.
    s.sendall(produce(11, "raw-topic", batch([b"zero"]), acks=0) + API_VERSIONS_V0(12))
    f = read_frame(s)
    check("acks=0 produce gets no response", struct.unpack(">i", f[:4])[0] == 12, f[:8])

    # A batch with a bad CRC: CORRUPT_MESSAGE, and nothing stored.
    s.sendall(produce(13, "raw-topic", batch([b"bad"], bad_crc=True)))
    f = read_frame(s)
    err = struct.unpack(">h", f[4 + 4 + 2 + len("raw-topic") + 4 + 4:][:2])[0]
    check("a corrupt batch gets CORRUPT_MESSAGE (2)", err == 2, f)
    s.sendall(produce(14, "raw-topic", batch([b"good"])))
    f = read_frame(s)
    base = struct.unpack(">hq", f[4 + 4 + 2 + len("raw-topic") + 4 + 4:][:10])
    check("a good batch after a bad one gets offset 1 (after the acks=0 record)", base == (0, 1), base)

    # An idempotent producer: a retried batch is acknowledged with its first offset and not
    # stored twice; a gap in the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER (45).
    s.sendall(request(22, 1, 15, struct.pack(">hi", -1, 60000)))
    f = read_frame(s)
    _, perr, pid, epoch = struct.unpack(">ihqh", f[4:20])
    check("InitProducerId gives a producer id", perr == 0 and pid >= 0 and epoch == 0, f)

    def produce_result(corr, records):
        s.sendall(produce(corr, "idem-raw", records))
        f = read_frame(s)
        return struct.unpack(">hq", f[4 + 4 + 2 + len("idem-raw") + 4 + 4:][:10])

    first = produce_result(16, batch([b"a", b"b"], pid=pid, epoch=0, seq=0))
    again = produce_result(17, batch([b"a", b"b"], pid=pid, epoch=0, seq=0))
    gap = produce_result(18, batch([b"c"], pid=pid, epoch=0, seq=5))
    nxt = produce_result(19, batch([b"c"], pid=pid, epoch=0, seq=2))
    check("a duplicate idempotent batch is acknowledged with the original offset",
          first == (0, 0) and again == (0, 0), (first, again))
    check("a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER", gap[0] == 45, gap)
    check("the next in-order batch follows the first without a duplicate", nxt == (0, 2), nxt)
    s.close()

    def refused(payload, name):
        s = connect(a)
        s.sendall(payload)
        check(name, closed_by_server(s))
        s.close()

    refused(struct.pack(">i", -5), "a negative size closes the connection")
    refused(struct.pack(">i", 200 * 1024 * 1024), "a request over 100 MiB closes the connection")
    refused(request(47, 0, 1, b"\x00" * 10), "an unknown API key closes the connection")
    refused(request(0, 2, 1, b"\x00" * 20), "an unsupported Produce version closes the connection")
    refused(request(3, 1, 1, struct.pack(">i", 0x7FFFFFFF)), "a count past the end closes the connection")
    refused(request(3, 1, 1, struct.pack(">i", 1) + struct.pack(">h", 500) + b"x"),
            "a string past the end closes the connection")

    # A truncated request: the client gives up half-way; eddy keeps serving others.
    s = connect(a)
    s.sendall(struct.pack(">i", 100) + b"\x00\x12")
    s.close()

    # 1,000 concurrent connections, each answered.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    conns = [connect(a) for _ in range(1000)]
    for i, c in enumerate(conns):
        c.sendall(API_VERSIONS_V0(i))
    answered = sum(1 for i, c in enumerate(conns) if struct.unpack(">i", read_frame(c)[:4])[0] == i)
    check("1,000 concurrent connections are all answered", answered == 1000, answered)
    for c in conns:
        c.close()

    # Still serving, and stored data untouched: the topic has exactly the two good records.
    s = connect(a)
    s.sendall(request(2, 1, 99, struct.pack(">i", -1) + struct.pack(">i", 1) + kstr("raw-topic")
                      + struct.pack(">i", 1) + struct.pack(">iq", 0, -1)))
    f = read_frame(s)
    hw = struct.unpack(">q", f[-8:])[0]
    check("bad input stored nothing: the high watermark is 2", hw == 2, f)
    log = e.log_text()
    check("each refusal is logged", log.count("closing connection from") >= 6, log[-3000:])
    check("eddy stops cleanly", e.stop() == 0, e.log_text()[-2000:])
finish()
