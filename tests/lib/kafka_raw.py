"""Kafka requests over raw sockets for integration tests that need byte-level control (bad
input, pipelining, exact sizes): request framing, RecordBatch v2 building, Produce v7 and
ListOffsets v1, reading answers. Written from apache/kafka's message definitions."""
import socket
import struct

_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    _CRC32C_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def kstr(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(s)) + s


def request(key, version, corr, body=b"", client=b"raw"):
    msg = struct.pack(">hhi", key, version, corr) + kstr(client) + body
    return struct.pack(">i", len(msg)) + msg


def varint(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def batch(values, bad_crc=False, pid=-1, epoch=-1, seq=-1):
    """One uncompressed RecordBatch v2 holding values (no keys, no headers)."""
    records = []
    for i, v in enumerate(values):
        r = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        records.append(varint(len(r)) + r)
    records = b"".join(records)
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, 1000, 1000, pid, epoch, seq, len(values)) + records
    crc = crc32c(after_crc) ^ (1 if bad_crc else 0)
    body = struct.pack(">ib", 0, 2) + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def produce(corr, topic, records, acks=-1, partition=0, parts=None):
    """Produce v7 to topic: records to partition, or parts = [(partition, records), ...]."""
    parts = parts or [(partition, records)]
    body = struct.pack(">h", -1) + struct.pack(">hi", acks, 30000) + struct.pack(">i", 1) + kstr(topic) \
        + struct.pack(">i", len(parts)) \
        + b"".join(struct.pack(">ii", p, len(r)) + r for p, r in parts)
    return request(0, 7, corr, body)


def produce_answer(frame, topic):
    """(correlation id, error code, base offset) of a Produce v7 answer's first partition; the
    error code is the first non-zero one of all its partitions."""
    corr = struct.unpack(">i", frame[:4])[0]
    at = 4 + 4 + 2 + len(topic)
    n = struct.unpack(">i", frame[at:at + 4])[0]
    at += 4
    first = None
    for _ in range(n):
        _, err, base = struct.unpack(">ihq", frame[at:at + 14])
        at += 4 + 2 + 8 + 8 + 8
        if first is None or (err and not first[1]):
            first = (corr, err, base if first is None else first[2])
    return first


def list_offsets(corr, topic, partition, timestamp=-1):
    """ListOffsets v1 for one partition (-1: the high watermark)."""
    return request(2, 1, corr, struct.pack(">i", -1) + struct.pack(">i", 1) + kstr(topic)
                   + struct.pack(">i", 1) + struct.pack(">iq", partition, timestamp))


def fetch(corr, topic, parts, max_bytes, max_wait_ms=0, min_bytes=1):
    """Fetch v4 of parts = [(partition, offset, partition_max_bytes), ...]."""
    body = struct.pack(">iiiib", -1, max_wait_ms, min_bytes, max_bytes, 0) + struct.pack(">i", 1) + kstr(topic) \
        + struct.pack(">i", len(parts)) + b"".join(struct.pack(">iqi", p, o, m) for p, o, m in parts)
    return request(1, 4, corr, body)


def fetch_answer(frame):
    """{partition: (error code, high watermark, record bytes)} of a one-topic Fetch v4 answer."""
    at = 4 + 4 + 4  # correlation id, throttle time, topic count
    name_len = struct.unpack(">h", frame[at:at + 2])[0]
    at += 2 + name_len
    n = struct.unpack(">i", frame[at:at + 4])[0]
    at += 4
    out = {}
    for _ in range(n):
        p, err, hw, _lso, naborted = struct.unpack(">ihqqi", frame[at:at + 26])
        at += 26 + max(naborted, 0) * 16
        size = struct.unpack(">i", frame[at:at + 4])[0]
        at += 4 + max(size, 0)
        out[p] = (err, hw, max(size, 0))
    return out


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    head = recv_exact(sock, 4)
    if head is None:
        return None
    return recv_exact(sock, struct.unpack(">i", head)[0])


def connect(addr, timeout=30):
    host, port = addr.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def closed_by_server(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False
