#!/usr/bin/python3
"""POST-to-visible: POST /api/leaves/{id}/tags (a command that adds a tag to a leaf with a title),
then read demo.leaves_by_tag through CQL: the row must be there as soon as the POST answered.
Prints the latency percentiles of the POST round trip (the command's event applied by every
pipeline reading topic leaves, leaves_by_tag included) and fails if a row was missing.
Usage: visible.py HTTP_HOST:PORT CQL_HOST:PORT COUNT"""
import http.client, json, sys, time
from cassandra.cluster import Cluster

http_addr, cql_addr, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = http_addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
chost, cport = cql_addr.rsplit(":", 1)
session = Cluster([chost], port=int(cport)).connect()
check = session.prepare("SELECT title FROM demo.leaves_by_tag WHERE tag = ? AND title = ?")

def call(method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None

lat, missing = [], 0
for i in range(count):
    st, leaf = call("POST", "/api/leaves", {"url": f"https://visible.example.org/{time.time_ns()}/{i}"})
    assert st == 201, (st, leaf)
    st, _ = call("PATCH", f"/api/leaves/{leaf['id']}", {"title": f"visible leaf {i}"})
    assert st == 201
    tag = f"vis{i}"
    t0 = time.perf_counter()
    st, _ = call("POST", f"/api/leaves/{leaf['id']}/tags", {"tags": [tag]})
    lat.append(time.perf_counter() - t0)
    assert st == 201
    if not session.execute(check, (tag, f"visible leaf {i}")).one():
        missing += 1
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print(f"post-to-visible (POST /api/leaves/{{id}}/tags, then the row in leaves_by_tag): n={count} "
      f"p50={q(0.5):.2f} ms p90={q(0.9):.2f} ms p99={q(0.99):.2f} ms max={lat[-1]*1000:.2f} ms missing={missing}")
sys.exit(1 if missing else 0)
