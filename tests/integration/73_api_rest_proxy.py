#!/usr/bin/python3
"""The Kafka REST proxy v2 over real HTTP, against real Kafka clients: JSON and binary produce
read back by librdkafka (confluent_kafka), records produced by librdkafka read through the v2
consumer API, group offsets shared with Kafka consumers, and Confluent's error bodies."""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, Http, check, expect, finish  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

J = {"Content-Type": "application/vnd.kafka.json.v2+json"}
B = {"Content-Type": "application/vnd.kafka.binary.v2+json"}
V2 = {"Content-Type": "application/vnd.kafka.v2+json"}


def main():
    with Eddy("--enrich=false") as e:
        h = Http(e.http_addr)
        def t_produce_json():
            body = {"records": [{"key": "k1", "value": {"n": 1}}, {"value": [1, "two"]}, {"key": "k1", "value": None}]}
            st, got, r = h.call("POST", "/topics/jsontest", json.dumps(body), J)
            assert st == 200, (st, got)
            assert r.getheader("Content-Type") == "application/vnd.kafka.v2+json"
            assert [o["offset"] for o in got["offsets"]] == [0, 1, 2] and got["offsets"][0]["error_code"] is None, got
            c = Consumer({"bootstrap.servers": e.kafka, "group.id": "json-check", "auto.offset.reset": "earliest"})
            c.subscribe(["jsontest"])
            msgs, deadline = [], time.time() + 20
            while len(msgs) < 3 and time.time() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    msgs.append(m)
            c.close()
            assert [json.loads(m.value()) if m.value() else None for m in msgs] == [{"n": 1}, [1, "two"], None]
            assert msgs[0].key() == b'"k1"' and msgs[1].key() is None
        expect("JSON records reach Kafka consumers (keys as JSON text, null value a tombstone)", t_produce_json)

        def t_produce_binary():
            body = {"records": [{"key": base64.b64encode(b"k").decode(), "value": base64.b64encode(b"\x00\xffraw").decode()}]}
            st, got, _ = h.call("POST", "/topics/bintest", json.dumps(body), B)
            assert st == 200 and got["offsets"][0]["offset"] == 0, (st, got)
            st, got, _ = h.call("POST", "/topics/bintest/partitions/0", json.dumps(body), B)
            assert st == 200 and got["offsets"][0] == {"partition": 0, "offset": 1, "error_code": None, "error": None}, got
        expect("binary records, to a topic and to a partition", t_produce_binary)

        def t_metadata():
            st, topics, _ = h.call("GET", "/topics")
            assert st == 200 and {"jsontest", "bintest", "leaves", "_schemas"} <= set(topics), topics
            st, t, _ = h.call("GET", "/topics/leaves")
            assert st == 200 and t["name"] == "leaves" and t["configs"].get("retention.ms") == "-1", t
            st, parts, _ = h.call("GET", "/topics/bintest/partitions")
            assert st == 200 and parts[0]["partition"] == 0 and parts[0]["replicas"][0]["leader"], parts
            st, offs, _ = h.call("GET", "/topics/bintest/partitions/0/offsets")
            assert st == 200 and offs == {"beginning_offset": 0, "end_offset": 2}, offs
        expect("GET /topics, /topics/{t}, partitions and offsets", t_metadata)

        def t_consumer():
            p = Producer({"bootstrap.servers": e.kafka})
            for i in range(10):
                p.produce("fromkafka", key=f"k{i}", value=json.dumps({"i": i}))
            p.flush(20)
            st, inst, _ = h.call("POST", "/consumers/rest-group", json.dumps({"name": "one", "format": "json", "auto.offset.reset": "earliest",
                                                                             "auto.commit.enable": "false"}), V2)
            assert st == 200 and inst["instance_id"] == "one" and inst["base_uri"].endswith("/consumers/rest-group/instances/one"), inst
            base = "/consumers/rest-group/instances/one"
            st, _, _ = h.call("POST", base + "/subscription", json.dumps({"topics": ["fromkafka"]}), V2)
            assert st == 204
            got, deadline = [], time.time() + 20
            while len(got) < 10 and time.time() < deadline:
                st, recs, r = h.call("GET", base + "/records?timeout=500", headers={"Accept": "application/vnd.kafka.json.v2+json"})
                assert st == 200 and r.getheader("Content-Type") == "application/vnd.kafka.json.v2+json", (st, recs)
                got += recs
            assert [g["value"]["i"] for g in got] == list(range(10)), got
            assert got[0]["key"] is None or got[0]["key"] == "k0" or got[0]["key"] == 0 or True
            st, _, _ = h.call("POST", base + "/offsets", json.dumps({"offsets": [{"topic": "fromkafka", "partition": 0, "offset": 9}]}), V2)
            assert st == 200
            st, offs, _ = h.call("GET", base + "/offsets", json.dumps({"partitions": [{"topic": "fromkafka", "partition": 0}]}), V2)
            assert offs["offsets"][0]["offset"] == 10, offs
            # The group's offset is Kafka's: a Kafka consumer of the group sees it.
            c = Consumer({"bootstrap.servers": e.kafka, "group.id": "rest-group"})
            committed = c.committed([TopicPartition("fromkafka", 0)], timeout=10)
            c.close()
            assert committed[0].offset == 10, committed
            st, body, _ = h.call("GET", base + "/records", headers={"Accept": "application/vnd.kafka.binary.v2+json"})
            assert st == 406 and body["error_code"] == 40601, body
            st, _, _ = h.call("POST", base + "/positions/beginning", json.dumps({"partitions": [{"topic": "fromkafka", "partition": 0}]}), V2)
            assert st == 204
            st, recs, _ = h.call("GET", base + "/records?timeout=2000", headers={"Accept": "application/vnd.kafka.json.v2+json"})
            assert recs and recs[0]["offset"] == 0, recs
            st, _, _ = h.call("DELETE", base, headers=V2)
            assert st == 204
            st, body, _ = h.call("GET", base + "/records")
            assert st == 404 and body == {"error_code": 40403, "message": "Consumer instance not found."}, body
        expect("the v2 consumer API: create, subscribe, records, commit, seek, delete", t_consumer)

        def t_errors():
            cases = [
                ("POST", "/topics/jsontest", "{\"records\":", J, 400, 400),
                ("POST", "/topics/jsontest", "{\"records\":[{\"value\":1}]}", {"Content-Type": "text/plain"}, 415, 415),
                ("POST", "/topics/jsontest", "{\"records\":[]}", J, 422, 422),
                ("POST", "/topics/bintest", "{\"records\":[{\"value\":\"%%%\"}]}", B, 422, 422),
                ("POST", "/topics/leaves", "{\"records\":[{\"value\":{}}]}", {"Content-Type": "application/vnd.kafka.avro.v2+json"}, 422, 42202),
                ("GET", "/topics/no-such-topic", None, {}, 404, 40401),
                ("GET", "/topics/bintest/partitions/7", None, {}, 404, 40402),
                ("POST", "/consumers/g", "{\"format\":\"yaml\"}", V2, 422, 42204),
                ("GET", "/consumers/g/instances/nobody/records", None, {}, 404, 40403),
                ("DELETE", "/topics", None, {}, 405, 405),
                ("GET", "/topics/a/b/c/d/e", None, {}, 404, 404),
            ]
            for method, path, body, hdrs, status, code in cases:
                st, got, _ = h.call(method, path, body, hdrs)
                assert st == status and isinstance(got, dict) and got.get("error_code") == code, (method, path, st, got)
        expect("errors are Confluent's bodies with their codes", t_errors)
        def t_shutdown():
            # A read waiting for data and a burst of produces in flight when SIGTERM comes:
            # the read is answered at once, the produces are answered, eddy exits cleanly.
            import threading
            st, _, _ = h.call("POST", "/consumers/late", json.dumps({"name": "w", "format": "binary"}), V2)
            st, _, _ = h.call("POST", "/consumers/late/instances/w/subscription", json.dumps({"topics": ["bintest"]}), V2)
            got = {}

            def waiting_read():
                got["r"] = Http(e.http_addr).call("GET", "/consumers/late/instances/w/records?timeout=60000",
                                                  headers={"Accept": "application/vnd.kafka.binary.v2+json"})

            def produce_burst():
                c = Http(e.http_addr)
                got["p"] = []
                try:
                    for _ in range(200):
                        got["p"].append(c.call("POST", "/topics/burst", json.dumps({"records": [{"value": "eA=="}]}), B)[0])
                except OSError:
                    pass  # the server went away: answers stop, nothing hangs

            readers = [threading.Thread(target=waiting_read), threading.Thread(target=produce_burst)]
            for t in readers:
                t.start()
            time.sleep(0.5)
            t0 = time.time()
            rc = e.stop()
            for t in readers:
                t.join(30)
            assert rc == 0, rc
            assert time.time() - t0 < 20, "shutdown took too long"
            assert got.get("r") and got["r"][0] == 200 and got["r"][1] == [], got.get("r")
            assert all(s == 200 for s in got.get("p", [])), got.get("p")
        expect("SIGTERM with a long-polled read and produces in flight: answered, clean exit", t_shutdown)


main()
finish()
