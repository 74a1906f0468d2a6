#!/usr/bin/python3
"""The data side of `make demo` (scripts/demo.sh starts and stops eddy): the workshop's keyspace
and tables through CQL, the project's sample leaves through the Kafka REST proxy, generated leaves
through a Kafka producer (kcat) and through the Leaves REST API, the Avro importer flow through the
schema registry, the workshop's stream and batch jobs, and what a person wants to see.
Usage: demo.py EDDY_BIN HTTP_ADDR CQL_ADDR KAFKA_ADDR [N_GENERATED]"""
import base64
import calendar
import http.client
import json
import os
import queue
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EDDY, HTTP, CQL, KAFKA = sys.argv[1:5]
N = int(sys.argv[5]) if len(sys.argv) > 5 else 3000
API_LEAVES = 500  # created through POST /api/leaves (then tagged), with 8 clients


def say(text=""):
    print(text, flush=True)


def step(title):
    say(f"\n== {title}")


class Client:
    """A kept-alive HTTP connection to eddy."""

    def __init__(self):
        host, port = HTTP.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def call(self, method, path, body=None, ctype="application/json"):
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        self.conn.request(method, path, body=data, headers={"Content-Type": ctype} if data is not None else {})
        r = self.conn.getresponse()
        text = r.read().decode()
        return r.status, (json.loads(text) if text else None)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0.0


def wait_rows(client, want, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, rows = client.call("GET", "/api/leaves")
        if st == 200 and len(rows) >= want:
            return len(rows)
        time.sleep(0.1)
    return len(rows)


def main():
    from cassandra.cluster import Cluster
    chost, cport = CQL.rsplit(":", 1)
    cluster = Cluster([chost], port=int(cport))
    session = cluster.connect()
    client = Client()

    step("1. the workshop's keyspace and tables, through CQL (DataStax Python driver)")
    session.execute("CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, tags list<text>, url text, PRIMARY KEY ((tag), title))")
    session.execute("CREATE TABLE IF NOT EXISTS demo.tags (tag text PRIMARY KEY, count int)")
    tables = sorted(r.table_name for r in session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'demo'"))
    say(f"   keyspace demo: {', '.join(tables)} (demo.leaves is kept from topic leaves by pipeline leaves-projection;")
    say("   demo.leaves_by_tag by the stream job examples/leaves_by_tag.sql, started with eddy up)")

    step("2. the project's 20 sample leaves, through the Kafka REST proxy")
    sample = subprocess.run([EDDY, "gen", "leaves", "--from", os.path.join(ROOT, "examples", "data", "leaves.json")],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    events = [json.loads(line) for line in sample]
    b64 = lambda text: base64.b64encode(text.encode()).decode()
    t0 = time.perf_counter()
    # binary: the key must be the id's bytes (json would send the JSON text, quotes included)
    st, res = client.call("POST", "/topics/leaves", {"records": [{"key": b64(ev["id"]), "value": b64(json.dumps(ev))} for ev in events]},
                          "application/vnd.kafka.binary.v2+json")
    assert st == 200, (st, res)
    say(f"   POST /topics/leaves (application/vnd.kafka.binary.v2+json): {len(res['offsets'])} records at offsets "
        f"{res['offsets'][0]['offset']}..{res['offsets'][-1]['offset']} in {(time.perf_counter() - t0) * 1000:.1f} ms")

    step(f"3. {N} generated leaves, through a Kafka producer (kcat)")
    gen = subprocess.run([EDDY, "gen", "leaves", "--count", str(N), "--seed", "7", "--keyed"], check=True, capture_output=True).stdout
    t0 = time.perf_counter()
    subprocess.run(["kcat", "-P", "-b", KAFKA, "-t", "leaves", "-K\t", "-z", "none"], input=gen, check=True)
    produced = time.perf_counter() - t0
    rows = wait_rows(client, N + len(events))
    visible = time.perf_counter() - t0
    mb = len(gen) / 1e6
    say(f"   kcat -P -t leaves: {N} leaves ({mb:.1f} MB) in {produced:.2f} s ({N / produced:,.0f} leaves/s);")
    say(f"   all {rows} rows in demo.leaves {visible:.2f} s after the first record (the projection runs as records arrive)")

    step(f"4. {API_LEAVES} leaves created through the Leaves REST API, then tagged (8 clients)")
    work = queue.Queue()
    for i in range(API_LEAVES):
        work.put(i)
    lat_post, lat_tags, errors = [], [], []
    lock = threading.Lock()
    vocab = ["cassandra", "kafka", "spark", "event.sourcing", "cqrs", "streaming", "data.modeling", "rest"]

    def worker():
        c = Client()
        while True:
            try:
                i = work.get_nowait()
            except queue.Empty:
                return
            t = time.perf_counter()
            st, leaf = c.call("POST", "/api/leaves", {"url": f"https://demo.example.org/{i}/event-sourcing-with-eddy"})
            d1 = time.perf_counter() - t
            t = time.perf_counter()
            st2, _ = c.call("PATCH", f"/api/leaves/{leaf['id']}", {"title": f"Demo leaf {i}", "tags": [vocab[i % 8], vocab[(i * 3) % 8]]}) \
                if st == 201 else (st, None)
            d2 = time.perf_counter() - t
            with lock:
                lat_post.append(d1)
                lat_tags.append(d2)
                if st != 201 or st2 != 201:
                    errors.append((st, st2))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    say(f"   {2 * API_LEAVES} commands in {took:.2f} s ({2 * API_LEAVES / took:,.0f} commands/s), {len(errors)} errors;")
    say(f"   POST /api/leaves      p50 {pct(lat_post, .5):6.2f} ms   p99 {pct(lat_post, .99):6.2f} ms")
    say(f"   PATCH title and tags  p50 {pct(lat_tags, .5):6.2f} ms   p99 {pct(lat_tags, .99):6.2f} ms")
    say("   (each answered once its event is durable in topic leaves and applied by every pipeline reading it:")
    st, one = client.call("GET", "/api/leaves/" + json.loads(sample[0])["id"])
    row = session.execute("SELECT tag, title FROM demo.leaves_by_tag WHERE tag = %s AND title = %s", [vocab[0], "Demo leaf 0"]).one()
    say(f"   GET right after shows it, and leaves_by_tag has ('{vocab[0]}', 'Demo leaf 0'): {row is not None})")

    step("5. the workshop's importer flow: Avro through the schema registry")
    try:
        from confluent_kafka import avro
        from confluent_kafka.avro import AvroProducer
        schema = avro.loads(open(os.path.join(ROOT, "examples", "data", "leaves-record.avsc")).read())
        p = AvroProducer({"bootstrap.servers": KAFKA, "schema.registry.url": f"http://{HTTP}"}, default_value_schema=schema)
        n = 0
        for line in subprocess.run([EDDY, "gen", "leaves", "--count", "200", "--seed", "3", "--format", "record"],
                                   check=True, capture_output=True, text=True).stdout.splitlines():
            r = json.loads(line)
            for k in ("created_at", "updated_at"):
                r[k] = calendar.timegm(time.strptime(r[k], "%Y-%m-%dT%H:%M:%SZ")) * 1000
            r["published_by"] = r["published_at"] = None
            p.produce(topic="record-cassandra-leaves-avro", value=r)
            n += 1
        p.flush(30)
        st, subjects = client.call("GET", "/subjects")
        st, latest = client.call("GET", "/subjects/record-cassandra-leaves-avro-value/versions/latest")
        say(f"   AvroProducer: {n} records to topic record-cassandra-leaves-avro; registry subjects {subjects};")
        say(f"   record-cassandra-leaves-avro-value version {latest['version']} has schema id {latest['id']}")
    except Exception as exc:  # noqa: BLE001 - the demo goes on without this step
        say(f"   skipped: {exc}")

    step("6. the workshop's batch job: examples/tags.sql (explode tags, group, count into demo.tags)")
    t0 = time.perf_counter()
    out = subprocess.run([EDDY, "submit", os.path.join(ROOT, "examples", "tags.sql"), "--server", f"http://{HTTP}"],
                         capture_output=True, text=True)
    say(f"   eddy submit examples/tags.sql: exit {out.returncode} in {time.perf_counter() - t0:.2f} s")
    if out.returncode:
        say("   " + (out.stderr or out.stdout).strip().replace("\n", "\n   "))

    step("what eddy holds now")
    st, leaves = client.call("GET", "/api/leaves")
    by_tag = sum(1 for _ in session.execute("SELECT tag FROM demo.leaves_by_tag"))
    tags = sorted(((r.count, r.tag) for r in session.execute("SELECT tag, count FROM demo.tags")), reverse=True)
    st, topics = client.call("GET", "/topics")
    say(f"   demo.leaves: {len(leaves)} rows   demo.leaves_by_tag: {by_tag} rows   demo.tags: {len(tags)} tags")
    say(f"   topics: {', '.join(sorted(topics))}")
    say("\n   top tags (demo.tags)")
    say("   +----------------------+--------+")
    say("   | tag                  |  count |")
    say("   +----------------------+--------+")
    for count, tag in tags[:12]:
        say(f"   | {tag:<20} | {count:>6} |")
    say("   +----------------------+--------+")
    cluster.shutdown()


main()
