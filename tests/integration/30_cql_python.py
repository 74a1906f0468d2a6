"""CQL with the DataStax Python driver (Debian's python3-cassandra) against `eddy up`: connecting
with default options (only the driver's own protocol-downgrade warnings), schema and driver
metadata, prepared statements and routing, INSERT JSON / SELECT JSON, batches, paging over
10,000 rows in token order, token-range scans, conditional writes, TTL expiry, the SELECT
language (restrictions, ORDER BY, aggregates, GROUP BY, functions), errors with Cassandra's codes
and concurrent requests."""
import logging
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, check, finish, not_ok, ok, wait_for  # noqa: E402

from cassandra import AlreadyExists, InvalidRequest  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.concurrent import execute_concurrent_with_args  # noqa: E402
from cassandra.murmur3 import murmur3  # noqa: E402
from cassandra.protocol import SyntaxException  # noqa: E402
from cassandra.query import BatchStatement, BatchType, SimpleStatement  # noqa: E402


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def connect(e, **kw):
    return Cluster([e.cql_host], port=e.cql_port, **kw)


def main():
    with Eddy() as e:
        cap = Capture()
        logging.getLogger("cassandra").addHandler(cap)
        cluster = connect(e)
        s = cluster.connect()
        logging.getLogger("cassandra").removeHandler(cap)
        downgrades = [m for m in cap.records if m.startswith("Downgrading core protocol version")]
        others = [m for m in cap.records if m not in downgrades and "load_balancing_policy" not in m]
        check("python connects at protocol v5 after stepping down from DSE_V2", cluster.protocol_version == 5,
              cluster.protocol_version)
        check("only the driver's protocol-downgrade warnings (66->65->5)", len(downgrades) == 2 and not others,
              cap.records)

        local = s.execute("SELECT * FROM system.local WHERE key='local'").one()
        check("system.local names the node", local.release_version.startswith("4.0") and local.data_center == "datacenter1"
              and local.cluster_name and local.schema_version is not None and local.tokens, local)
        check("system.peers and system.peers_v2 are empty",
              not list(s.execute("SELECT * FROM system.peers")) and not list(s.execute("SELECT * FROM system.peers_v2")))
        hosts = cluster.metadata.all_hosts()
        check("one host in the token map", len(hosts) == 1 and cluster.metadata.token_map is not None, hosts)

        v1 = local.schema_version
        s.execute("CREATE KEYSPACE pyks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        v2 = s.execute("SELECT schema_version FROM system.local WHERE key='local'").one().schema_version
        check("schema_version changes on DDL", v1 != v2, (v1, v2))
        try:
            s.execute("CREATE KEYSPACE pyks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
            not_ok("CREATE KEYSPACE twice is AlreadyExists")
        except AlreadyExists as ex:
            check("CREATE KEYSPACE twice is AlreadyExists", ex.keyspace == "pyks", ex)
        s.execute("USE pyks")
        s.execute("CREATE TABLE users (id text PRIMARY KEY, name text, age int, tags list<text>)")
        s.execute("CREATE TABLE events (tenant text, day int, ts timeuuid, kind text, n int, "
                  "PRIMARY KEY ((tenant, day), ts)) WITH CLUSTERING ORDER BY (ts DESC)")
        t = cluster.metadata.keyspaces["pyks"].tables.get("events")
        check("driver metadata: partition key, clustering and DESC order",
              t is not None and [c.name for c in t.partition_key] == ["tenant", "day"]
              and [c.name for c in t.clustering_key] == ["ts"] and t.clustering_key[0].is_reversed, t and t.export_as_string())
        cql = cluster.metadata.keyspaces["pyks"].tables["users"].export_as_string()
        check("driver metadata: export_as_string is a CQL table (not COMPACT)",
              "PRIMARY KEY" in cql and "COMPACT" not in cql and "tags list<text>" in cql, cql)

        # prepared statements and routing
        ins = s.prepare("INSERT INTO users (id, name, age, tags) VALUES (?, ?, ?, ?)")
        check("prepared INSERT routes by its partition key marker", ins.routing_key_indexes == [0], ins.routing_key_indexes)
        s.execute(ins, ["k1", "bob", 42, ["a", "b"]])
        sel = s.prepare("SELECT name, age, tags FROM users WHERE id = ?")
        row = s.execute(sel, ["k1"]).one()
        check("prepared SELECT reads it back", row == ("bob", 42, ["a", "b"]), row)
        ev = s.prepare("INSERT INTO events (tenant, day, ts, kind, n) VALUES (?, ?, now(), ?, ?)")
        check("composite partition key routing indexes", ev.routing_key_indexes == [0, 1], ev.routing_key_indexes)
        check("bind metadata names and types", [c.name for c in ev.column_metadata] == ["tenant", "day", "kind", "n"],
              [c.name for c in ev.column_metadata])
        tok = s.execute("SELECT token(id) FROM users WHERE id = 'k1'").one()[0]
        check("token() is Cassandra's Murmur3", tok == murmur3(b"k1"), (tok, murmur3(b"k1")))

        # INSERT JSON / SELECT JSON
        s.execute("""INSERT INTO users JSON '{"id": "j1", "name": "jo", "age": "7", "tags": ["x"]}'""")
        js = s.execute("SELECT JSON id, age, tags FROM users WHERE id = 'j1'").one()[0]
        check("SELECT JSON prints Cassandra's JSON", js == '{"id": "j1", "age": 7, "tags": ["x"]}', js)
        s.execute("""INSERT INTO users JSON '{"id": "j1", "name": "jo2"}' DEFAULT UNSET""")
        row = s.execute("SELECT name, age FROM users WHERE id = 'j1'").one()
        check("INSERT JSON ... DEFAULT UNSET keeps the other columns", row == ("jo2", 7), row)
        s.execute("""INSERT INTO users JSON '{"id": "j1", "name": "jo3"}'""")
        row = s.execute("SELECT name, age FROM users WHERE id = 'j1'").one()
        check("INSERT JSON defaults to null for missing columns", row == ("jo3", None), row)
        row = s.execute("SELECT toJson(tags), age FROM users WHERE id = 'k1'").one()
        check("toJson()", row[0] == '["a", "b"]', row)

        # batches
        b = BatchStatement(batch_type=BatchType.LOGGED)
        b.add(ins, ["b1", "x", 1, None])
        b.add(SimpleStatement("INSERT INTO users (id, name) VALUES (%s, %s)"), ["b2", "y"])
        s.execute(b)
        n = s.execute("SELECT count(*) FROM users WHERE id IN ('b1', 'b2')").one()[0]
        check("logged batch of prepared and simple statements", n == 2, n)
        bad = BatchStatement()
        bad.add(ins, ["b3", "z", 1, None])
        bad.add(SimpleStatement("INSERT INTO users (id, nope) VALUES ('b4', 1)"))
        try:
            s.execute(bad)
            not_ok("a batch with a bad statement fails")
        except InvalidRequest:
            gone = s.execute("SELECT * FROM users WHERE id = 'b3'").one() is None
            check("a failing batch writes nothing (atomic)", gone)
        s.execute("CREATE TABLE hits (page text PRIMARY KEY, n counter)")
        cb = BatchStatement(batch_type=BatchType.COUNTER)
        cb.add(SimpleStatement("UPDATE hits SET n = n + 2 WHERE page = 'a'"))
        cb.add(SimpleStatement("UPDATE hits SET n = n + 3 WHERE page = 'a'"))
        s.execute(cb)
        s.execute("UPDATE hits SET n = n - 1 WHERE page = 'a'")
        check("counter batch and counter updates", s.execute("SELECT n FROM hits WHERE page = 'a'").one()[0] == 4)

        # paging over 10,000 rows, in token order
        s.execute("CREATE TABLE many (k int PRIMARY KEY, v text)")
        put = s.prepare("INSERT INTO many (k, v) VALUES (?, ?)")
        results = execute_concurrent_with_args(s, put, [(i, "v%d" % i) for i in range(10000)], concurrency=64)
        check("10,000 concurrent prepared inserts", all(r.success for r in results))
        rs = s.execute(SimpleStatement("SELECT k, token(k) FROM many", fetch_size=1000))
        rows = list(rs)
        keys = [r[0] for r in rows]
        toks = [r[1] for r in rows]
        check("paging returns all 10,000 rows exactly once", len(rows) == 10000 and len(set(keys)) == 10000, len(rows))
        check("a full scan comes back in token order", toks == sorted(toks))
        first = s.execute(SimpleStatement("SELECT k FROM many", fetch_size=100))
        state = first.paging_state
        resumed = s.execute(SimpleStatement("SELECT k FROM many", fetch_size=100), paging_state=state)
        check("a saved paging state resumes later (self-contained)",
              state is not None and [r[0] for r in resumed.current_rows] == keys[100:200])
        mid = toks[5000]
        lo = s.execute(SimpleStatement("SELECT k FROM many WHERE token(k) <= %s", fetch_size=700), [mid])
        hi = s.execute(SimpleStatement("SELECT k FROM many WHERE token(k) > %s", fetch_size=700), [mid])
        a, bb = [r[0] for r in lo], [r[0] for r in hi]
        check("token-range scans split the ring exactly", len(a) == 5001 and len(bb) == 4999 and not set(a) & set(bb),
              (len(a), len(bb)))
        res = execute_concurrent_with_args(s, s.prepare("SELECT v FROM many WHERE k = ?"), [(i,) for i in range(0, 10000, 7)],
                                           concurrency=100)
        check("concurrent prepared point reads", all(r.success and r.result_or_exc.one()[0] == "v%d" % (i * 7)
                                                      for i, r in enumerate(res)))

        # conditional writes
        r = s.execute("INSERT INTO users (id, name) VALUES ('c1', 'first') IF NOT EXISTS").one()
        check("IF NOT EXISTS applies once", r[0] is True, r)
        r = s.execute("INSERT INTO users (id, name) VALUES ('c1', 'second') IF NOT EXISTS").one()
        check("IF NOT EXISTS returns the existing row", r[0] is False and r.name == "first", r)
        r = s.execute("UPDATE users SET name = 'third' WHERE id = 'c1' IF name = 'first'").one()
        check("UPDATE ... IF col = value applies when it holds", r[0] is True, r)
        r = s.execute("UPDATE users SET name = 'fourth' WHERE id = 'c1' IF name = 'first'").one()
        check("UPDATE ... IF col = value refuses when it does not", r[0] is False and r.name == "third", r)
        r = s.execute("DELETE FROM users WHERE id = 'nobody' IF EXISTS").one()
        check("DELETE ... IF EXISTS on a missing row", r[0] is False, r)

        # TTL
        s.execute("INSERT INTO users (id, name) VALUES ('t1', 'soon') USING TTL 1")
        ttl_row = s.execute("SELECT ttl(name) FROM users WHERE id = 't1'").one()
        check("ttl() of a fresh cell", ttl_row is None or ttl_row[0] in (0, 1, None), ttl_row)
        gone = wait_for(lambda: s.execute("SELECT * FROM users WHERE id = 't1'").one() is None, 30, 0.2)
        check("a TTL 1 row expires", gone)
        s.execute("INSERT INTO users (id, name) VALUES ('t2', 'later') USING TTL 3600 AND TIMESTAMP 1000")
        r = s.execute("SELECT ttl(name), writetime(name) FROM users WHERE id = 't2'").one()
        check("ttl() and writetime() of USING TTL ... AND TIMESTAMP", 3500 < r[0] <= 3600 and r[1] == 1000, r)

        # the SELECT language
        for i in range(5):
            s.execute("INSERT INTO events (tenant, day, ts, kind, n) VALUES ('t', 1, now(), %s, %s)", ["k%d" % (i % 2), i])
        rows = list(s.execute("SELECT n FROM events WHERE tenant = 't' AND day = 1"))
        check("clustering DESC returns newest first", [r.n for r in rows] == [4, 3, 2, 1, 0], rows)
        rows = list(s.execute("SELECT n FROM events WHERE tenant = 't' AND day = 1 ORDER BY ts ASC LIMIT 2"))
        check("ORDER BY reverses, LIMIT cuts", [r.n for r in rows] == [0, 1], rows)
        r = s.execute("SELECT count(*), min(n), max(n), sum(n), avg(n) FROM events WHERE tenant = 't' AND day = 1").one()
        check("aggregates count/min/max/sum/avg", tuple(r) == (5, 0, 4, 10, 2), r)
        r = list(s.execute("SELECT tenant, day, count(*) FROM events GROUP BY tenant, day"))
        check("GROUP BY on the partition key", [tuple(x) for x in r] == [("t", 1, 5)], r)
        try:
            s.execute("SELECT * FROM events WHERE kind = 'k1'")
            not_ok("filtering without ALLOW FILTERING is refused")
        except InvalidRequest as ex:
            check("filtering without ALLOW FILTERING is refused with Cassandra's message",
                  "use ALLOW FILTERING" in str(ex) and "might involve data filtering" in str(ex), ex)
        rows = list(s.execute("SELECT n FROM events WHERE kind = 'k1' ALLOW FILTERING"))
        check("ALLOW FILTERING filters", sorted(r.n for r in rows) == [1, 3], rows)
        r = s.execute("SELECT CAST(n AS text), CAST(n AS double) FROM events WHERE tenant = 't' AND day = 1 LIMIT 1").one()
        check("CAST", r[0] == "4" and r[1] == 4.0, r)
        rows = list(s.execute("SELECT DISTINCT tenant, day FROM events"))
        check("SELECT DISTINCT partition keys", [tuple(x) for x in rows] == [("t", 1)], rows)
        rows = list(s.execute("SELECT * FROM events WHERE tenant = 't' AND day = 1 PER PARTITION LIMIT 2"))
        check("PER PARTITION LIMIT", len(rows) == 2, rows)

        # collections and deletes
        s.execute("UPDATE users SET tags = tags + ['c'] WHERE id = 'k1'")
        s.execute("UPDATE users SET tags = ['z'] + tags WHERE id = 'k1'")
        s.execute("UPDATE users SET tags[1] = 'A' WHERE id = 'k1'")
        check("list append, prepend and set by index",
              s.execute("SELECT tags FROM users WHERE id = 'k1'").one()[0] == ["z", "A", "b", "c"])
        s.execute("DELETE tags[0] FROM users WHERE id = 'k1'")
        s.execute("UPDATE users SET tags = tags - ['b'] WHERE id = 'k1'")
        check("list delete by index and remove by value",
              s.execute("SELECT tags FROM users WHERE id = 'k1'").one()[0] == ["A", "c"])
        s.execute("DELETE name FROM users WHERE id = 'k1'")
        r = s.execute("SELECT name, age FROM users WHERE id = 'k1'").one()
        check("DELETE of one cell", r == (None, 42), r)
        s.execute("DELETE FROM events WHERE tenant = 't' AND day = 1")
        check("DELETE of a partition", s.execute("SELECT count(*) FROM events WHERE tenant = 't' AND day = 1").one()[0] == 0)

        # errors
        try:
            s.execute("SELEC * FROM users")
            not_ok("a syntax error is a SyntaxException")
        except SyntaxException:
            ok("a syntax error is a SyntaxException")
        try:
            s.execute("SELECT * FROM nope")
            not_ok("an unknown table is InvalidRequest")
        except InvalidRequest as ex:
            check("an unknown table is InvalidRequest", "nope" in str(ex), ex)
        try:
            s.execute("INSERT INTO users (name) VALUES ('x')")
            not_ok("a missing key is InvalidRequest")
        except InvalidRequest as ex:
            check("a missing key is InvalidRequest naming it", "id" in str(ex), ex)

        # UUIDs and now()
        s.execute("CREATE TABLE ids (id uuid PRIMARY KEY, t timeuuid)")
        u = uuid.uuid4()
        s.execute("INSERT INTO ids (id, t) VALUES (%s, now())", [u])
        r = s.execute("SELECT t, toTimestamp(t) FROM ids WHERE id = %s", [u]).one()
        check("now() makes a version 1 uuid of now", r[0].version == 1 and abs(r[1].timestamp() - time.time()) < 600, r)

        cluster.shutdown()
        rc = e.stop()
        check("eddy up stops cleanly", rc == 0, e.log_text()[-2000:])
    finish()


if __name__ == "__main__":
    main()
