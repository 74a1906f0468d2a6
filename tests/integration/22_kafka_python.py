"""kafka-python 2.0.2 (Debian python3-kafka) against eddy up: the version probe (ApiVersions v0
pipelined with Metadata v0), KafkaProducer, KafkaConsumer in a group with manual commits,
KafkaAdminClient creating and deleting topics and describing and listing groups."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, check, finish, not_ok, ok, wait_for  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

with Eddy("--default-partitions", "1") as e:
    b = e.kafka
    # The producer probes the broker's version from ApiVersions' ranges.
    p = KafkaProducer(bootstrap_servers=b, acks="all", linger_ms=5)
    check("kafka-python infers a broker of 2.3 or later", p.config["api_version"] >= (2, 3),
          p.config["api_version"])
    futures = [p.send("py-topic", key=b"k%d" % i, value=b"value-%d" % i,
                      headers=[("h", b"x%d" % i)]) for i in range(100)]
    p.flush(30)
    metas = [f.get(timeout=30) for f in futures]
    check("kafka-python producer gets offsets 0..99",
          [m.offset for m in metas] == list(range(100)), [m.offset for m in metas][:5])
    p.close()

    # A consumer in a group, committing by hand.
    c = KafkaConsumer("py-topic", bootstrap_servers=b, group_id="py-group",
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=6000, heartbeat_interval_ms=500,
                      consumer_timeout_ms=20000)
    got = []
    for msg in c:
        got.append(msg)
        if len(got) == 60:
            break
    check("kafka-python consumer reads in order with keys and headers",
          [m.value for m in got] == [b"value-%d" % i for i in range(60)]
          and got[5].key == b"k5" and got[5].headers == [("h", b"x5")],
          [m.value for m in got][:3])
    c.commit()
    tp = TopicPartition("py-topic", 0)
    check("kafka-python commit is stored", c.committed(tp) == 60, c.committed(tp))
    c.close()

    c2 = KafkaConsumer("py-topic", bootstrap_servers=b, group_id="py-group",
                       enable_auto_commit=False, auto_offset_reset="earliest",
                       session_timeout_ms=6000, heartbeat_interval_ms=500,
                       consumer_timeout_ms=20000)
    rest = []
    for msg in c2:
        rest.append(msg)
        if len(rest) == 40:
            break
    check("a new group member resumes from the committed offset",
          rest and rest[0].offset == 60 and len(rest) == 40,
          [m.offset for m in rest][:3])

    # Admin: topics and groups.
    admin = KafkaAdminClient(bootstrap_servers=b, request_timeout_ms=20000)
    admin.create_topics([NewTopic("py-admin", num_partitions=3, replication_factor=1)])
    topics = admin.list_topics()
    check("KafkaAdminClient creates a topic", "py-admin" in topics, topics)
    groups = admin.list_consumer_groups()
    check("KafkaAdminClient lists the group", ("py-group", "consumer") in groups, groups)
    desc = admin.describe_consumer_groups(["py-group"])
    d = desc[0]
    check("KafkaAdminClient describes the group",
          d.group == "py-group" and d.state == "Stable" and len(d.members) == 1
          and d.protocol_type == "consumer", d)
    offsets = admin.list_consumer_group_offsets("py-group")
    check("KafkaAdminClient lists the group's offsets",
          offsets.get(TopicPartition("py-topic", 0)) is not None
          and offsets[TopicPartition("py-topic", 0)].offset == 60, offsets)
    res = admin.delete_consumer_groups(["py-group"])
    check("DeleteGroups refuses a group with members (NON_EMPTY_GROUP)",
          res[0][0] == "py-group" and res[0][1].errno == 68, res)
    c2.close()
    res = admin.delete_consumer_groups(["py-group"])
    check("DeleteGroups deletes an empty group and its offsets",
          res[0][1].errno == 0 and "py-group" not in [g for g, _ in admin.list_consumer_groups()]
          and not admin.list_consumer_group_offsets("py-group"), res)
    from kafka.admin import NewPartitions
    admin.create_partitions({"py-admin": NewPartitions(total_count=5)})
    c3 = KafkaConsumer(bootstrap_servers=b)
    check("CreatePartitions raises the partition count",
          wait_for(lambda: len(c3.partitions_for_topic("py-admin") or []) == 5, 30),
          c3.partitions_for_topic("py-admin"))
    c3.close()
    admin.delete_topics(["py-admin"])
    check("KafkaAdminClient deletes a topic",
          wait_for(lambda: "py-admin" not in admin.list_topics(), 30), admin.list_topics())
    admin.close()
    rc = e.stop()
    check("eddy stops cleanly", rc == 0, e.log_text()[-2000:])
finish()
