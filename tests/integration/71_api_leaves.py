#!/usr/bin/python3
"""The Leaves REST API over real HTTP, with rows also written through the DataStax Python driver:
the workshop's API test suite (Anant/Cassandra.Api leaves.api.tests, with this project's own
records), read-your-writes, the JSON shapes, enrichment against a local page server, and bad
requests of every kind."""
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, Http, check, expect, finish  # noqa: E402

from cassandra.cluster import Cluster  # noqa: E402


def record(id_, title, url, tags, created="2019-06-19T12:43:13.000Z"):
    """A row as the workshop's tests insert it (INSERT ... JSON, numbers and booleans as strings)."""
    return {"id": id_, "title": title, "url": url, "domain_name": url.split("/")[2], "tags": tags, "slugs": tags,
            "all": ["1", "0", "admin"] + tags, "content": "<p>" + title + "</p>", "content_text": title,
            "created_at": created, "updated_at": created, "http_status": "200", "is_archived": 1,
            "is_public": "False", "is_starred": 0, "language": "en", "links": ["/api/entries/1"],
            "mimetype": "text/html", "preview_picture": None, "reading_time": 0, "user_email": "editor@example.org",
            "user_id": "1", "user_name": "admin"}


R1 = record("6c0a1f3e9b2d4e8f8a7b6c5d4e3f2a10", "Partition keys that age well", "https://notes.example.org/pk", ["cassandra", "data.modeling"])
R2 = record("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "Consumer groups explained", "https://kafka.example.io/groups", ["kafka"])
R3 = record("a1b2c3d4e5f60718293a4b5c6d7e8f90", "Exactly once, end to end", "https://spark.example.com/eo", ["spark", "streaming"])
GH = "https://github.com/Anant/cassandra.api"
GH_ID = "2e1df12395d97d261efbe1d152fec7ac"  # md5 of the url, as the workshop's testRecord4


class Page(http.server.BaseHTTPRequestHandler):
    """A page for the enrichment worker to fetch (tests have no outside network)."""

    def do_GET(self):
        if self.path == "/missing":
            self.send_response(404)
            self.end_headers()
            return
        body = (b"<!doctype html><html lang=\"en\"><head><title>Local page</title>"
                b"<meta property=\"og:image\" content=\"/cover.png\"></head><body><article>"
                b"<p>" + b"word " * 450 + b"</p></article></body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    page_url = f"http://127.0.0.1:{pages.server_address[1]}"

    with Eddy("--enrich=false") as e:
        h = Http(e.http_addr)
        host, port = e.cql_addr.rsplit(":", 1)
        session = Cluster([host], port=int(port)).connect()
        insert = session.prepare("INSERT INTO demo.leaves JSON ?")

        def clean():
            session.execute("TRUNCATE demo.leaves")

        # 1. Create a record via CQL, then retrieve the record.
        def t1():
            clean()
            session.execute(insert, [json.dumps(R1)])
            st, body, _ = h.call("GET", "/api/leaves")
            assert st == 200, (st, body)
            assert body[0]["id"] == R1["id"] and body[0]["domain_name"] == R1["domain_name"] and body[0]["title"] == R1["title"]
            # Every column as the Node.js driver serializes it: typed values, ISO timestamps, lists, null.
            want = dict(R1, is_public=False, user_id=1)
            st, one, _ = h.call("GET", "/api/leaves/" + R1["id"])
            assert st == 200 and one == want and body[0] == want, (st, one, body[0])
        expect("a row inserted through CQL is listed and read whole (workshop test 1)", t1)

        # 2. Several rows via CQL: all listed, in the table's own scan order.
        def t2():
            clean()
            for r in (R1, R2, R3):
                session.execute(insert, [json.dumps(r)])
            st, body, _ = h.call("GET", "/api/leaves")
            cql_order = [row.id for row in session.execute("SELECT id FROM demo.leaves")]
            assert st == 200 and len(body) == 3, body
            assert [b["id"] for b in body] == cql_order, ([b["id"] for b in body], cql_order)
        expect("rows listed in the table's scan order, as CQL returns them (workshop test 2)", t2)

        # 3. Insert then delete via CQL: 404.
        def t3():
            clean()
            session.execute(insert, [json.dumps(R1)])
            session.execute("DELETE FROM demo.leaves WHERE id = %s", [R1["id"]])
            st, body, _ = h.call("GET", "/api/leaves/" + R1["id"])
            assert st == 404 and body == {"message": "Not Found"}, (st, body)
        expect("a row deleted through CQL is 404 (workshop test 3)", t3)

        # 4. POST a url: 201 with the workshop's defaults; read-your-writes.
        answers = []  # the commands' answers on GH_ID, in order: each is its event's value too

        def t4():
            clean()
            st, leaf, r = h.call("POST", "/api/leaves", {"url": GH})
            assert st == 201, (st, leaf)
            assert r.getheader("Content-Type", "").startswith("application/json")
            assert leaf["url"] == GH and leaf["id"] == GH_ID and leaf["domain_name"] == "https://github.com"
            assert leaf["is_archived"] == 1 and leaf["is_starred"] == 0 and leaf["is_public"] is False
            assert leaf["user_name"] == "admin" and leaf["links"] == ["api/entries/" + GH_ID]
            assert leaf["title"] is None and leaf["tags"] is None
            assert leaf["created_at"].endswith("Z") and "T" in leaf["created_at"]
            answers.append(leaf)
            st, again, _ = h.call("GET", "/api/leaves/" + GH_ID)
            assert st == 200 and again == leaf, (st, again)
            row = session.execute("SELECT id, url FROM demo.leaves WHERE id = %s", [GH_ID]).one()
            assert row and row.url == GH
        expect("POST creates a leaf visible at once to GET and to CQL (workshop test 4)", t4)

        # 5. PATCH tags, title, is_starred: 201 with the whole updated row.
        def t5():
            clean()
            session.execute(insert, [json.dumps(dict(R1, id=GH_ID, url=GH))])
            req = {"tags": ["did.this.update.correctly"], "title": "I am the title now", "is_starred": 1}
            st, row, _ = h.call("PATCH", "/api/leaves/" + GH_ID, req)
            assert st == 201, (st, row)
            assert row["id"] == GH_ID and row["url"] == GH and row["content"] == R1["content"]
            assert row["tags"] == req["tags"] and row["slugs"] == req["tags"]
            assert row["title"] == req["title"] and row["is_starred"] == 1
            answers.append(row)
            st, got, _ = h.call("GET", "/api/leaves/" + GH_ID)
            assert got == row, got
        expect("PATCH updates a row written through CQL (workshop test 5)", t5)

        # 6-8. Tags: GET, POST (spaces become dots, slugs follow), DELETE (null).
        def t6():
            clean()
            session.execute(insert, [json.dumps(dict(R1, id=GH_ID))])
            st, tags, _ = h.call("GET", f"/api/leaves/{GH_ID}/tags")
            assert st == 200 and tags == R1["tags"], (st, tags)
            st, row, _ = h.call("POST", f"/api/leaves/{GH_ID}/tags", {"tags": ["additional tag", "test tag", "let make sure this works"]})
            want = R1["tags"] + ["additional.tag", "test.tag", "let.make.sure.this.works"]
            assert st == 201 and row["id"] == GH_ID and row["tags"] == want and row["slugs"] == want, (st, row)
            st, row, _ = h.call("DELETE", f"/api/leaves/{GH_ID}/tags")
            assert st == 200 and row["id"] == GH_ID and row["tags"] is None and row["slugs"] is None, (st, row)
            st, body, _ = h.call("DELETE", f"/api/leaves/{GH_ID}/tags")
            assert st == 400 and body == {"message": "No tags available to be deleted"}, (st, body)
        expect("tags: GET, POST with spaces as dots, DELETE (workshop tests 6-8)", t6)

        def t_delete():
            st, body, _ = h.call("DELETE", "/api/leaves/" + GH_ID)
            assert st == 200 and body == {"message": "deleted"}, (st, body)
            assert session.execute("SELECT id FROM demo.leaves WHERE id = %s", [GH_ID]).one() is None
            st, body, _ = h.call("DELETE", "/api/leaves/" + GH_ID)
            assert st == 404 and body == {"message": "This item does not exist"}, (st, body)
        expect("DELETE removes the row through an event; again is 404", t_delete)

        def t_limits():
            clean()
            for r in (R1, R2, R3):
                session.execute(insert, [json.dumps(r)])
            for path in ("/api/leaves?limit=2", "/api/leaves&rows=2", "/api/leaves?rows=2"):
                st, body, _ = h.call("GET", path)
                assert st == 200 and len(body) == 2, (path, st, body)
        expect("?limit=N, ?rows=N and the workshop's /api/leaves&rows=N", t_limits)

        def t_event():
            # The events on topic leaves carry the complete state, and a delete is a null value.
            from confluent_kafka import Consumer
            c = Consumer({"bootstrap.servers": e.kafka, "group.id": "t-events", "auto.offset.reset": "earliest"})
            c.subscribe(["leaves"])
            events, deadline = [], time.time() + 20
            while time.time() < deadline:
                m = c.poll(0.5)
                if m is None:
                    if events:
                        break
                    continue
                assert not m.error(), m.error()
                events.append((m.key().decode(), m.value()))
            c.close()
            gh = [v for k, v in events if k == GH_ID]
            assert gh and gh[-1] is None, "the last event of the deleted leaf is a tombstone"
            full = json.loads(gh[0])
            assert set(full) == set(R1), set(full) ^ set(R1)
            # The state a command answers with is the state its event carries (encoded once).
            assert [json.loads(v) for v in gh[:len(answers)]] == answers, (gh, answers)
        expect("events on topic leaves: the complete state, a tombstone for a delete", t_event)

        # Bad requests: clear 4xx JSON.
        def t_bad():
            cases = [
                ("POST", "/api/leaves", "{\"url\":", 400, "malformed JSON"),
                ("POST", "/api/leaves", {"nourl": 1}, 400, "url"),
                ("POST", "/api/leaves", {"url": 7}, 400, "url"),
                ("POST", "/api/leaves", {"url": "notaurl"}, 400, "http"),
                ("PATCH", "/api/leaves/" + R1["id"], {"is_starred": "many"}, 400, "is_starred"),
                ("PATCH", "/api/leaves/" + R1["id"], {"id": "other"}, 400, "cannot be updated"),
                ("PATCH", "/api/leaves/" + R1["id"], {"colour": "red"}, 400, "unknown field"),
                ("PATCH", "/api/leaves/absent", {"title": "x"}, 404, "Not Found"),
                ("POST", f"/api/leaves/{R1['id']}/tags", {"tags": "solo"}, 400, "array of strings"),
                ("POST", f"/api/leaves/{R1['id']}/tags", {"tags": [1]}, 400, "array of strings"),
                ("GET", "/api/leaves?limit=x", None, 400, "limit"),
                ("PUT", "/api/leaves", None, 405, "not allowed"),
                ("GET", "/api/leaves/a/b/c", None, 404, "no route"),
            ]
            for method, path, body, status, words in cases:
                st, got, r = h.call(method, path, body)
                assert st == status, (method, path, st, got)
                assert isinstance(got, dict) and words in got.get("message", ""), (method, path, got)
                assert r.getheader("Content-Type", "").startswith("application/json"), (method, path)
        expect("bad requests get 4xx JSON messages", t_bad)
        session.cluster.shutdown()
        check("eddy up stops cleanly", e.stop() == 0)

    # Enrichment against a local page, and a failed fetch recorded in http_status.
    with Eddy("--enrich=true") as e:
        h = Http(e.http_addr)
        def enriched(url):
            st, leaf, _ = h.call("POST", "/api/leaves", {"url": url})
            assert st == 201, (st, leaf)
            deadline = time.time() + 30
            while time.time() < deadline:
                st, got, _ = h.call("GET", "/api/leaves/" + leaf["id"])
                if got.get("http_status"):
                    return got
                time.sleep(0.1)
            raise AssertionError("not enriched in 30 s")

        def t_enrich():
            leaf = enriched(page_url + "/article")
            assert leaf["http_status"] == "200" and leaf["title"] == "Local page", leaf
            assert leaf["language"] == "en" and leaf["preview_picture"] == page_url + "/cover.png", leaf
            assert leaf["mimetype"].startswith("text/html") and leaf["reading_time"] == 2, leaf
            assert leaf["content_text"].startswith("word word") and leaf["content"].startswith("<p>word"), leaf
        expect("enrichment fills title, language, picture, content and reading time", t_enrich)

        def t_enrich_fail():
            leaf = enriched("http://127.0.0.1:9/closed")
            assert leaf["http_status"].startswith("failed:"), leaf
            leaf = enriched(page_url + "/missing")
            assert leaf["http_status"] == "404" and leaf["title"] is None, leaf
        expect("a failed fetch is recorded in http_status", t_enrich_fail)
        check("eddy up stops cleanly with enrichment on", e.stop() == 0)
    pages.shutdown()


main()
finish()
