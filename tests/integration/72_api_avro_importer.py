#!/usr/bin/python3
"""The workshop's importer flow, end to end, with Confluent's Python client:
AvroProducer registers the leaves schema through eddy's schema registry (subject
record-cassandra-leaves-avro-value) and produces to topic record-cassandra-leaves-avro; the records
read back with the Avro deserializer; the REST proxy produces Avro (the importer's avro-rest-proxy
mode) and JSON leaves to topic `leaves`, which the projection turns into demo.leaves rows. Also the
registry's REST API as the client library drives it, and its state after a restart."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, Http, check, expect, finish  # noqa: E402

from confluent_kafka import avro  # noqa: E402
from confluent_kafka.avro import AvroConsumer, AvroProducer  # noqa: E402
from confluent_kafka.avro.cached_schema_registry_client import CachedSchemaRegistryClient  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TOPIC = "record-cassandra-leaves-avro"
SUBJECT = TOPIC + "-value"


def records():
    """The project's sample leaves, fitted to the Avro schema as the workshop's importer does
    (fit_record_to_schema: timestamps to epoch ms)."""
    from datetime import datetime, timezone
    out = []
    for r in json.load(open(os.path.join(ROOT, "examples", "data", "leaves.json"))):
        if isinstance(r["tags"][0], dict) or not isinstance(r["_links"], list):
            continue  # the upstream-shaped record is not in the Avro shape
        r = dict(r)
        for k in ("created_at", "updated_at"):
            r[k] = int(datetime.strptime(r[k], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() * 1000)
        out.append(r)
    return out


def main():
    schema = avro.loads(open(os.path.join(ROOT, "examples", "data", "leaves-record.avsc")).read())
    recs = records()
    with Eddy("--enrich=false", keep=True) as e:
        h = Http(e.http_addr)
        registry = f"http://{e.http_addr}"

        def t_produce():
            p = AvroProducer({"bootstrap.servers": e.kafka, "schema.registry.url": registry}, default_value_schema=schema)
            for r in recs:
                p.produce(topic=TOPIC, value=r)
            assert p.flush(30) == 0
        expect("AvroProducer registers the schema and produces the sample leaves", t_produce)

        client = CachedSchemaRegistryClient({"url": registry})

        def t_registry():
            sid, got, version = client.get_latest_schema(SUBJECT)
            assert sid == 1 and version == 1, (sid, version)
            assert got == schema, "the registry returns the schema it was given"
            assert client.get_compatibility() == "BACKWARD"
            st, subjects, r = h.call("GET", "/subjects")
            assert st == 200 and SUBJECT in subjects, subjects
            assert r.getheader("Content-Type") == "application/vnd.schemaregistry.v1+json"
        expect("the registry holds the schema under record-cassandra-leaves-avro-value", t_registry)

        def t_consume():
            c = AvroConsumer({"bootstrap.servers": e.kafka, "group.id": "importer-check", "auto.offset.reset": "earliest",
                              "schema.registry.url": registry})
            c.subscribe([TOPIC])
            got, deadline = [], time.time() + 30
            while len(got) < len(recs) and time.time() < deadline:
                m = c.poll(1)
                if m is not None and not m.error():
                    got.append(m.value())
            c.close()
            assert len(got) == len(recs), (len(got), len(recs))
            assert [g["id"] for g in got] == [r["id"] for r in recs]
            assert got[0]["tags"] == recs[0]["tags"] and got[0]["created_at"] == recs[0]["created_at"]
        expect("the Avro deserializer reads the records back", t_consume)

        def t_compat():
            # A new field without a default breaks BACKWARD: 409 from the registry.
            bad = json.loads(open(os.path.join(ROOT, "examples", "data", "leaves-record.avsc")).read())
            bad["fields"].append({"name": "score", "type": "int"})
            st, body, _ = h.call("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(bad)},
                                 {"Content-Type": "application/vnd.schemaregistry.v1+json"})
            assert st == 409 and body["error_code"] == 409, (st, body)
            assert client.test_compatibility(SUBJECT, avro.loads(json.dumps(bad))) is False
            good = dict(bad, fields=bad["fields"][:-1] + [{"name": "score", "type": ["null", "int"], "default": None}])
            assert client.register(SUBJECT, avro.loads(json.dumps(good))) == 2
            st, body, _ = h.call("GET", f"/subjects/{SUBJECT}/versions")
            assert body == [1, 2], body
        expect("compatibility: BACKWARD refuses a field without default, takes one with", t_compat)

        def t_rest_avro():
            # The importer's avro-rest-proxy mode: unions wrapped as {"string": v}.
            r = recs[0]
            value = dict(r, tags={"array": r["tags"]}, slugs={"array": r["slugs"]},
                         content_text={"string": r["content_text"]}, mimetype={"string": r["mimetype"]},
                         language={"string": r["language"]}, preview_picture=None,
                         http_status={"int": r["http_status"]}, content={"string": r["content"]},
                         published_by=None, published_at=None)
            body = {"value_schema": json.dumps(json.loads(str(schema))), "records": [{"value": value}]}
            st, got, _ = h.call("POST", "/topics/" + TOPIC, json.dumps(body), {"Content-Type": "application/vnd.kafka.avro.v2+json"})
            assert st == 200, (st, got)
            assert got["value_schema_id"] == 1 and got["offsets"][0]["offset"] == len(recs), got
        expect("the REST proxy produces Avro with value_schema (id 1 reused)", t_rest_avro)

        def t_rest_json():
            # Leaf events to topic leaves: the projection makes them rows. The key must be the
            # id's bytes (the embedded json format would send the JSON text "\"id\"", quotes
            # included, as Confluent's proxy does), so these go as binary.
            import base64
            events = [json.loads(line) for line in os.popen(f"{e.proc.args[0]} gen leaves --count 5 --seed 4")]
            b64 = lambda b: base64.b64encode(b).decode()
            body = {"records": [{"key": b64(ev["id"].encode()), "value": b64(json.dumps(ev).encode())} for ev in events]}
            st, got, _ = h.call("POST", "/topics/leaves", json.dumps(body), {"Content-Type": "application/vnd.kafka.binary.v2+json"})
            assert st == 200 and len(got["offsets"]) == 5, (st, got)
            deadline = time.time() + 20
            while time.time() < deadline:
                st, row, _ = h.call("GET", "/api/leaves/" + events[4]["id"])
                if st == 200:
                    break
                time.sleep(0.05)
            assert st == 200 and row["title"] == events[4]["title"] and row["tags"] == events[4]["tags"], row
        expect("leaf events produced through the REST proxy become demo.leaves rows", t_rest_json)

        data_dir = e.data
        check("eddy up stops cleanly", e.stop() == 0)

    with Eddy("--enrich=false", data=data_dir) as e2:
        h2 = Http(e2.http_addr)
        def t_restart():
            st, body, _ = h2.call("GET", f"/subjects/{SUBJECT}/versions/latest")
            assert st == 200 and body["id"] == 2 and body["version"] == 2, body
            st, body, _ = h2.call("GET", "/schemas/ids/1")
            assert st == 200 and json.loads(body["schema"])["name"] == "Leaves", body
        expect("the registry's ids and versions survive a restart", t_restart)
        check("eddy up stops cleanly after the restart", e2.stop() == 0)
    import shutil
    shutil.rmtree(os.path.dirname(data_dir), ignore_errors=True)


main()
finish()
