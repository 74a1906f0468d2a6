#!/usr/bin/python3
"""A pipeline over records produced through the REST proxy's json format, whose keys arrive as
JSON text ("\\"abc\\"", with the quotes, as Confluent's proxy sends them): the KEY column and
rowkey hold the string abc, a key sent as plain bytes by librdkafka is the same key (it replaces
the row), and a null value from the proxy deletes it. Rows are read with the DataStax driver."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, Http, expect, finish, wait_for  # noqa: E402

from cassandra.cluster import Cluster  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

J = {"Content-Type": "application/vnd.kafka.json.v2+json"}
PIPELINE = """
CREATE STREAM notes (id text KEY, body text) WITH (topic = 'notes', format = 'json', changelog = true);
CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
CREATE TABLE IF NOT EXISTS demo.notes (id text PRIMARY KEY, k text, body text);
INSERT INTO demo.notes SELECT id, rowkey AS k, body FROM notes;
"""


def main():
    tmp_sql = os.path.join(os.environ.get("TMPDIR", "/tmp"), "eddy-it-notes-%d.sql" % os.getpid())
    with open(tmp_sql, "w") as f:
        f.write(PIPELINE)
    try:
        with Eddy("--enrich=false", "--pipeline", tmp_sql) as e:
            h = Http(e.http_addr)
            cluster = Cluster([e.cql_host], port=e.cql_port)
            session = cluster.connect()

            def rows():
                return sorted((r.id, r.k, r.body) for r in session.execute("SELECT id, k, body FROM demo.notes"))

            def t_proxy_key():
                body = {"records": [{"key": "abc", "value": {"body": "hello"}}, {"key": "x\"y", "value": {"body": "q"}}]}
                st, got, _ = h.call("POST", "/topics/notes", body, J)
                assert st == 200, (st, got)
                got = wait_for(lambda: rows() if len(rows()) == 2 else None, 30)
                assert got == [("abc", "abc", "hello"), ('x"y', 'x"y', "q")], rows()
            expect("a JSON key from the REST proxy is the string it holds (KEY column and rowkey)", t_proxy_key)

            def t_plain_key():
                p = Producer({"bootstrap.servers": e.kafka})
                p.produce("notes", key=b"abc", value=b'{"body":"again"}')
                p.flush(20)
                got = wait_for(lambda: rows() if ("abc", "abc", "again") in rows() else None, 30)
                assert got == [("abc", "abc", "again"), ('x"y', 'x"y', "q")], rows()
            expect("the same key sent as plain bytes replaces the row", t_plain_key)

            def t_tombstone():
                st, got, _ = h.call("POST", "/topics/notes", {"records": [{"key": "abc", "value": None}]}, J)
                assert st == 200, (st, got)
                got = wait_for(lambda: rows() if len(rows()) == 1 else None, 30)
                assert got == [('x"y', 'x"y', "q")], rows()
            expect("a null value from the REST proxy deletes the key's row", t_tombstone)
            cluster.shutdown()
    finally:
        os.unlink(tmp_sql)
    finish()


main()
