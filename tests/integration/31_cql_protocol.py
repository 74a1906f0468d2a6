"""The CQL wire protocol's edges against `eddy up`: the refusal of unsupported versions byte for
byte (as Cassandra 4 answers DSE_V2), every type round-tripping through the Python driver at
protocol v3, v4 (plain, lz4, snappy) and v5 (segments, lz4), PasswordAuthenticator, and
SCHEMA_CHANGE events reaching another client's metadata."""
import datetime
import decimal
import ipaddress
import os
import socket
import struct
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, check, finish, not_ok, wait_for  # noqa: E402

from cassandra import AuthenticationFailed  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import Cluster, NoHostAvailable  # noqa: E402
from cassandra.util import Date, Duration, OrderedMapSerializedKey, SortedSet, Time  # noqa: E402

TYPES_DDL = """CREATE TABLE IF NOT EXISTS proto.t (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean,
    d decimal, db double, f float, i int, ts timestamp, u uuid, tu timeuuid, v varint, ip inet, ip6 inet,
    dt date, tm time, si smallint, ti tinyint, dur duration, tx text, l list<int>, s set<text>,
    m map<text, int>, fm frozen<map<int, frozen<list<text>>>>, tp tuple<int, text, boolean>, ad frozen<addr>,
    ua addr)"""


def raw_version_refusal(host, port, version):
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(struct.pack(">BBhBi", version, 0, 7, 0x05, 0))
    data = b""
    while len(data) < 9:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    ver, flags, stream, opcode, length = struct.unpack(">BBhBi", data[:9])
    while len(data) < 9 + length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    body = data[9:9 + length]
    code = struct.unpack(">i", body[:4])[0]
    mlen = struct.unpack(">H", body[4:6])[0]
    msg = body[6:6 + mlen].decode()
    sock.settimeout(10)
    closed = sock.recv(1) == b""
    sock.close()
    return ver, stream, opcode, code, msg, closed


def types_roundtrip(session, label):
    udt = session.cluster.register_user_type  # noqa: F841 (plain tuples are fine for UDTs without a class)
    vals = dict(
        a="ascii", b=-(2 ** 62), bl=b"\x00\x01\xff", bo=True, d=decimal.Decimal("-12.340"), db=2.5e-300, f=0.25,
        i=-(2 ** 31), ts=datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), u=uuid.uuid4(), tu=uuid.uuid1(),
        v=-(10 ** 30), ip=ipaddress.ip_address("10.0.0.1"), ip6=ipaddress.ip_address("::1"), dt=Date("2024-02-29"),
        tm=Time("23:59:59.999999999"), si=-32768, ti=127, dur=Duration(1, 2, 3000000000), tx="héllo ☃",
        l=[1, 2, 3], s={"x", "y"}, m={"a": 1}, fm={1: ["p", "q"]}, tp=(1, "t", False))
    cols = list(vals)
    k = abs(hash(label)) % 1000000
    stmt = session.prepare("INSERT INTO proto.t (k, %s) VALUES (?, %s)" % (", ".join(cols), ", ".join("?" * len(cols))))
    session.execute(stmt, [k] + [vals[c] for c in cols])
    row = session.execute("SELECT %s FROM proto.t WHERE k = %%s" % ", ".join(cols), [k]).one()
    bad = []
    for c in cols:
        got = getattr(row, c)
        want = vals[c]
        if isinstance(got, (SortedSet, set)):
            got = set(got)
        if isinstance(got, OrderedMapSerializedKey):
            got = dict(got)
        if c == "fm":
            got = {kk: list(vv) for kk, vv in got.items()}
        if c == "ts":
            got = got.replace(tzinfo=None)
        if c in ("ip", "ip6"):
            want = str(want)
        if got != want:
            bad.append((c, want, got))
    return bad


def main():
    with Eddy() as e:
        host, port = e.cql_host, e.cql_port
        for version in (0x42, 0x41, 6):
            ver, stream, opcode, code, msg, closed = raw_version_refusal(host, port, version)
            want = "Invalid or unsupported protocol version (%d); supported versions are (3/v3, 4/v4, 5/v5)" % version
            check("version 0x%02x is refused as Cassandra 4 does (v5 header, same stream, 0x000A, close)" % version,
                  ver == 0x85 and stream == 7 and opcode == 0 and code == 0x000A and msg == want and closed,
                  (hex(ver), stream, opcode, hex(code), msg, closed))

        cluster = Cluster([host], port=port)
        s = cluster.connect()
        conn = cluster.control_connection._connection
        check("the python driver negotiates lz4 over v5 segments", cluster.protocol_version == 5 and conn.compressor is not None,
              (cluster.protocol_version, conn.compressor))
        s.execute("CREATE KEYSPACE proto WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        s.execute("CREATE TYPE proto.addr (street text, zip int)")
        s.execute(TYPES_DDL)
        bad = types_roundtrip(s, "v5-lz4")
        check("every type round-trips at v5 with lz4 segments", not bad, bad)

        # a second client sees the first one's DDL through SCHEMA_CHANGE events
        other = Cluster([host], port=port, protocol_version=4)
        o = other.connect()
        s.execute("CREATE TABLE proto.late (k int PRIMARY KEY)")
        seen = wait_for(lambda: "late" in other.metadata.keyspaces["proto"].tables, 30, 0.1)
        check("SCHEMA_CHANGE events refresh another client's metadata", seen)
        o.shutdown()
        other.shutdown()
        cluster.shutdown()

        for version, compression in ((5, False), (4, False), (4, "lz4"), (4, "snappy"), (3, False)):
            c = Cluster([host], port=port, protocol_version=version, compression=compression)
            try:
                sess = c.connect()
                conn = c.control_connection._connection
                label = "v%d-%s" % (version, compression or "plain")
                compressed = conn.compressor is not None
                bad = types_roundtrip(sess, label)
                check("every type round-trips at protocol %s" % label, not bad and compressed == bool(compression),
                      (bad, compressed))
            except Exception as ex:  # noqa: BLE001
                not_ok("protocol v%d %s" % (version, compression), repr(ex))
            finally:
                c.shutdown()
        rc = e.stop()
        check("eddy up stops cleanly", rc == 0, e.log_text()[-2000:])

    with Eddy("--cql-auth", "--cql-user", "alice:secret") as e:
        host, port = e.cql_host, e.cql_port
        c = Cluster([host], port=port, protocol_version=4)
        try:
            c.connect()
            not_ok("PasswordAuthenticator: no credentials is refused")
        except NoHostAvailable as ex:
            errs = list(ex.errors.values())
            check("PasswordAuthenticator: no credentials is refused",
                  errs and isinstance(errs[0], AuthenticationFailed), ex)
        finally:
            c.shutdown()
        c = Cluster([host], port=port, auth_provider=PlainTextAuthProvider("alice", "wrong"))
        try:
            c.connect()
            not_ok("PasswordAuthenticator: a wrong password is refused")
        except NoHostAvailable as ex:
            check("PasswordAuthenticator: a wrong password is refused",
                  "Provided username alice and/or password are incorrect" in str(ex), ex)
        finally:
            c.shutdown()
        c = Cluster([host], port=port, auth_provider=PlainTextAuthProvider("alice", "secret"))
        try:
            sess = c.connect()
            row = sess.execute("SELECT key FROM system.local").one()
            check("PasswordAuthenticator: the right password logs in (v5)", row.key == "local" and c.protocol_version == 5)
        except Exception as ex:  # noqa: BLE001
            not_ok("PasswordAuthenticator: the right password logs in (v5)", repr(ex))
        finally:
            c.shutdown()
        rc = e.stop()
        check("eddy up with authentication stops cleanly", rc == 0, e.log_text()[-2000:])
    finish()


if __name__ == "__main__":
    main()
