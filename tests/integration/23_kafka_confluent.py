"""confluent-kafka (Debian python3-confluent-kafka 1.7, librdkafka 2.0.2) against eddy up:
Producer with delivery reports, Consumer in a group, AdminClient (topics, configs, groups)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, check, finish  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

with Eddy("--default-partitions", "2") as e:
    b = e.kafka
    admin = AdminClient({"bootstrap.servers": b})
    fs = admin.create_topics([NewTopic("cf-topic", num_partitions=3, replication_factor=1,
                                       config={"cleanup.policy": "compact"})])
    try:
        fs["cf-topic"].result(30)
        ok_create = True
    except Exception as ex:  # noqa: BLE001
        ok_create = ex
    check("AdminClient creates a topic with a setting", ok_create is True, ok_create)
    md = admin.list_topics(timeout=30)
    check("AdminClient lists the topic with 3 partitions",
          "cf-topic" in md.topics and len(md.topics["cf-topic"].partitions) == 3, md.topics)
    res = admin.describe_configs([ConfigResource("topic", "cf-topic")])
    cfg = list(res.values())[0].result(30)
    check("DescribeConfigs reports cleanup.policy truthfully",
          cfg["cleanup.policy"].value == "compact" and not cfg["cleanup.policy"].is_default,
          {k: v.value for k, v in cfg.items()})
    check("DescribeConfigs shows defaults as defaults",
          "retention.ms" in cfg and cfg["retention.ms"].is_default, cfg.get("retention.ms"))

    reports = []
    p = Producer({"bootstrap.servers": b, "acks": "all", "linger.ms": 5})
    for i in range(90):
        p.produce("cf-topic", key=b"key-%d" % (i % 9), value=b"v%d" % i, partition=i % 3,
                  headers={"n": str(i)}, on_delivery=lambda err, msg: reports.append((err, msg)))
        p.poll(0)
    left = p.flush(30)
    check("Producer gets a delivery report for every record",
          left == 0 and len(reports) == 90 and all(err is None for err, _ in reports),
          [err for err, _ in reports if err][:3])
    offs = sorted(m.offset() for _, m in reports if m.partition() == 0)
    check("delivery reports carry the offsets", offs == list(range(30)), offs[:5])

    c = Consumer({"bootstrap.servers": b, "group.id": "cf-group", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 6000,
                  "heartbeat.interval.ms": 300})
    c.subscribe(["cf-topic"])
    got = []
    while len(got) < 90:
        m = c.poll(20)
        if m is None:
            break
        if m.error():
            continue
        got.append(m)
    check("Consumer in a group reads every record", len(got) == 90, len(got))
    check("records keep their headers", sorted(int(dict(m.headers() or [])["n"]) for m in got) == list(range(90)),
          got[0].headers())
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition("cf-topic", p) for p in range(3)], timeout=30)
    check("Consumer commits synchronously", [tp.offset for tp in committed] == [30, 30, 30],
          [tp.offset for tp in committed])
    groups = admin.list_groups(timeout=30)
    g = [x for x in groups if x.id == "cf-group"]
    check("AdminClient lists and describes the group",
          g and g[0].state == "Stable" and len(g[0].members) == 1 and g[0].protocol_type == "consumer",
          [(x.id, x.state) for x in groups])
    c.close()

    fs = admin.delete_topics(["cf-topic"])
    try:
        fs["cf-topic"].result(30)
        ok_delete = True
    except Exception as ex:  # noqa: BLE001
        ok_delete = ex
    check("AdminClient deletes the topic", ok_delete is True, ok_delete)
    check("eddy stops cleanly", e.stop() == 0, e.log_text()[-2000:])
finish()
