"""bench/cql.sh's driver half: the same rows written and read point-wise through the DataStax Python
driver (prepared statements, execute_concurrent) against eddy up, and through psycopg2 against
PostgreSQL (prepared statements, one connection per concurrent worker, autocommit), with the same
concurrency. Rows come back as plain tuples on both sides (psycopg2's default; the driver's
tuple_factory, instead of its default of building a namedtuple class for every result). Both acknowledge a write once it is durable (eddy's group commit; PostgreSQL's
synchronous_commit = on). Prints one line per case and the ratios.
    cql_drivers.py CQL_HOST:PORT PG_SOCKET_DIR ROWS CONCURRENCY"""
import random
import sys
import threading
import time

import psycopg2
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import tuple_factory

cql, pgdir, n, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [("leaf%08d" % i, "title of leaf %d" % i, i, "x" * 100) for i in range(n)]
ids = [r[0] for r in rows]
rnd = random.Random(7)
lookups = [(ids[rnd.randrange(n)],) for _ in range(n)]


def rate(label, ops, secs):
    print("  %-44s %10.0f ops/s  (%d ops, %.2f s)" % (label, ops / secs, ops, secs), flush=True)
    return ops / secs


host, port = cql.rsplit(":", 1)
cluster = Cluster([host], port=int(port),
                  execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(row_factory=tuple_factory)})
s = cluster.connect()
s.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
s.execute("CREATE TABLE IF NOT EXISTS bench.kv (id text PRIMARY KEY, name text, value int, payload text)")
ins = s.prepare("INSERT INTO bench.kv (id, name, value, payload) VALUES (?, ?, ?, ?)")
sel = s.prepare("SELECT id, name, value, payload FROM bench.kv WHERE id = ?")
t0 = time.time()
res = execute_concurrent_with_args(s, ins, rows, concurrency=conc, raise_on_first_error=True)
eddy_w = rate("eddy, python driver, prepared INSERT", n, time.time() - t0)
t0 = time.time()
res = execute_concurrent_with_args(s, sel, lookups, concurrency=conc, raise_on_first_error=True, results_generator=True)
got = sum(1 for ok, r in res if ok and r.one() is not None)
eddy_r = rate("eddy, python driver, prepared point SELECT", n, time.time() - t0)
assert got == n, got
cluster.shutdown()

pg = psycopg2.connect(host=pgdir, dbname="postgres", user="postgres")
pg.autocommit = True
pg.cursor().execute("DROP TABLE IF EXISTS kv; CREATE TABLE kv (id text PRIMARY KEY, name text, value int, payload text)")
pg.close()


def pg_run(work, sql, params_of):
    errors = []

    def worker(chunk):
        try:
            c = psycopg2.connect(host=pgdir, dbname="postgres", user="postgres")
            c.autocommit = True
            cur = c.cursor()
            cur.execute("PREPARE q AS " + sql)
            marks = None
            for item in chunk:
                p = params_of(item)
                if marks is None:
                    marks = ", ".join(["%s"] * len(p))
                cur.execute("EXECUTE q (%s)" % marks, p)
                if cur.description:
                    if cur.fetchone() is None:
                        errors.append(item)
            c.close()
        except Exception as ex:  # noqa: BLE001
            errors.append(ex)

    chunks = [work[i::conc] for i in range(conc)]
    threads = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    return time.time() - t0


secs = pg_run(rows, "INSERT INTO kv (id, name, value, payload) VALUES ($1, $2, $3, $4)", lambda r: r)
pg_w = rate("postgresql, psycopg2, prepared INSERT", n, secs)
secs = pg_run(lookups, "SELECT id, name, value, payload FROM kv WHERE id = $1", lambda r: r)
pg_r = rate("postgresql, psycopg2, prepared point SELECT", n, secs)
print("  ratio eddy/postgresql: inserts %.2fx, point selects %.2fx" % (eddy_w / pg_w, eddy_r / pg_r))
