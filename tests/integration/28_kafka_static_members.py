"""Static group membership (group.instance.id, KIP-345) with confluent-kafka (librdkafka 2.0.2)
against eddy up: a static member that restarts takes its partitions back without a rebalance
(the other member never revokes), commits under its new member id, and a second process with
the same instance id fences the first (a fatal FENCED_INSTANCE_ID in the client)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from eddy_up import Eddy, check, finish  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC, GROUP = "static-topic", "static-group"


class Member:
    """A consumer with group.instance.id that records its assignments and revocations."""

    def __init__(self, bootstrap, instance):
        self.events = []
        self.errors = []
        self.assigned = None
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "group.instance.id": instance,
                           "auto.offset.reset": "earliest", "enable.auto.commit": False,
                           "session.timeout.ms": 30000, "heartbeat.interval.ms": 300,
                           "error_cb": self.errors.append})
        self.c.subscribe([TOPIC], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, consumer, parts):
        self.assigned = sorted(p.partition for p in parts)
        self.events.append(("assign", self.assigned))

    def on_revoke(self, consumer, parts):
        self.events.append(("revoke", sorted(p.partition for p in parts)))

    def poll(self):
        m = self.c.poll(0.05)
        if m is not None and m.error():
            self.errors.append(m.error())


def poll_until(members, cond, seconds=60):
    """Polls every member until cond() holds (or the time runs out); returns cond()."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not cond():
        for m in members:
            m.poll()
    return cond()


def fenced(member):
    return any(e.code() == KafkaError._FATAL or e.code() == KafkaError.FENCED_INSTANCE_ID for e in member.errors)


with Eddy() as e:
    b = e.kafka
    admin = AdminClient({"bootstrap.servers": b})
    admin.create_topics([NewTopic(TOPIC, num_partitions=4, replication_factor=1)])[TOPIC].result(30)
    p = Producer({"bootstrap.servers": b, "acks": "all"})
    for i in range(40):
        p.produce(TOPIC, value=b"v%d" % i, partition=i % 4)
    check("records produced", p.flush(30) == 0)

    a, bm = Member(b, "inst-a"), Member(b, "inst-b")
    both = poll_until([a, bm], lambda: a.assigned is not None and bm.assigned is not None
                      and len(a.assigned) + len(bm.assigned) == 4 and not set(a.assigned) & set(bm.assigned))
    check("two static members share the 4 partitions", both, (a.events, bm.events))
    before_a, before_b = list(a.assigned or []), list(bm.events)

    # A static member does not leave when it closes: its place waits for it.
    a.c.close()
    a2 = Member(b, "inst-a")
    got = poll_until([a2, bm], lambda: a2.assigned is not None)
    check("the restarted static member gets its partitions back", got and a2.assigned == before_a,
          (before_a, a2.events))
    poll_until([a2, bm], lambda: False, seconds=1.5)  # heartbeats would report a rebalance here
    check("the other member saw no rebalance (no revocation, no new assignment)", bm.events == before_b,
          (before_b, bm.events))
    check("the broker replaced the member without a rebalance",
          "static member inst-a rejoined as inst-a-" in e.log_text(), e.log_text()[-2000:])

    # The restarted member commits under its new member id (OffsetCommit with group.instance.id).
    part = a2.assigned[0]
    try:
        a2.c.commit(offsets=[TopicPartition(TOPIC, part, 5)], asynchronous=False)
        committed = a2.c.committed([TopicPartition(TOPIC, part)], timeout=30)[0].offset
    except Exception as ex:  # noqa: BLE001
        committed = ex
    check("the restarted static member commits offsets", committed == 5, committed)

    # A second process with the same instance id fences the first.
    a3 = Member(b, "inst-a")
    got = poll_until([a3, a2, bm], lambda: a3.assigned is not None and fenced(a2))
    check("a duplicate instance takes the partitions", got and a3.assigned == before_a, (a3.events, a2.errors))
    check("the older process is fenced (FENCED_INSTANCE_ID is fatal in the client)", fenced(a2),
          [str(x) for x in a2.errors])
    check("the other member still saw no rebalance", bm.events == before_b, (before_b, bm.events))

    for m in (a2, a3, bm):
        m.c.close()

finish()
