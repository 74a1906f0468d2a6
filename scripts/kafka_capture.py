#!/usr/bin/env python3
"""Captures real Kafka requests from the clients into the request fuzz target's corpus.

Starts `eddy up` advertising a recording proxy, runs a short workload with each client
(kcat/librdkafka, kafka-python, confluent-kafka, KafkaJS) through the proxy, and writes every
distinct (client, API key, version) request it saw, without its size prefix, to
fuzz/corpus/kafka_request_fuzz/<client>-<key>-v<version>[-n].

    scripts/kafka_capture.py [build/eddy]
"""
import hashlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus", "kafka_request_fuzz")
EDDY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "eddy")
PER_KIND = 2          # requests kept per (client, key, version)
MAX_BYTES = 64 * 1024  # bigger requests (large produces) are not kept
seen = {}
lock = threading.Lock()
client_name = ["none"]


def record(frame):
    if len(frame) < 4 or len(frame) > MAX_BYTES:
        return
    key, ver = struct.unpack(">hh", frame[:4])
    kind = (client_name[0], key, ver)
    with lock:
        n = seen.get(kind, 0)
        if n >= PER_KIND:
            return
        seen[kind] = n + 1
    name = "%s-%d-v%d%s" % (client_name[0], key, ver, "" if n == 0 else "-%d" % n)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(frame)


def pump(src, dst, parse):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if parse:
                buf += data
                while len(buf) >= 4:
                    size = struct.unpack(">i", buf[:4])[0]
                    if len(buf) < 4 + size:
                        break
                    record(buf[4:4 + size])
                    buf = buf[4 + size:]
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def proxy(listener, target):
    while True:
        try:
            c, _ = listener.accept()
        except OSError:
            return
        host, port = target.rsplit(":", 1)
        u = socket.create_connection((host, int(port)))
        threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, False), daemon=True).start()


def run(cmd, **kw):
    subprocess.run(cmd, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def main():
    os.makedirs(OUT, exist_ok=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    paddr = "127.0.0.1:%d" % listener.getsockname()[1]
    tmp = tempfile.mkdtemp()
    log = open(os.path.join(tmp, "eddy.log"), "w+")
    eddy = subprocess.Popen([EDDY, "up", "--data", os.path.join(tmp, "data"), "--kafka-listen", "127.0.0.1:0",
                             "--cql-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                             "--kafka-advertise", paddr, "--default-partitions", "2"],
                            stderr=log, stdout=subprocess.DEVNULL)
    target = None
    for _ in range(100):
        time.sleep(0.1)
        log.seek(0)
        for line in log:
            if line.startswith("eddy: kafka listening on "):
                target = line.split()[-1]
        if target:
            break
    threading.Thread(target=proxy, args=(listener, target), daemon=True).start()
    try:
        client_name[0] = "kcat"
        run(["kcat", "-b", paddr, "-L"])
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
            run(["kcat", "-b", paddr, "-P", "-t", "cap", "-z", codec, "-K:", "-H", "h=v", "-X", "acks=all"],
                input=b"k1:v1\nk2:v2\n")
        run(["kcat", "-b", paddr, "-P", "-t", "cap", "-X", "enable.idempotence=true"], input=b"a\nb\n")
        run(["kcat", "-b", paddr, "-C", "-t", "cap", "-o", "beginning", "-e"])
        run(["kcat", "-b", paddr, "-Q", "-t", "cap:0:-1"])
        run(["kcat", "-b", paddr, "-G", "capgrp", "-X", "session.timeout.ms=6000", "-c", "4", "-e",
             "-X", "auto.offset.reset=earliest", "cap"])
        client_name[0] = "kafkapython"
        run(["/usr/bin/python3", "-c", """
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient
from kafka.admin import NewTopic
b = '%s'
p = KafkaProducer(bootstrap_servers=b, acks='all'); p.send('cap', b'x', key=b'k'); p.flush(); p.close()
c = KafkaConsumer('cap', bootstrap_servers=b, group_id='pygrp', auto_offset_reset='earliest',
                  consumer_timeout_ms=3000, enable_auto_commit=False)
for m in c: pass
c.commit(); c.close()
a = KafkaAdminClient(bootstrap_servers=b)
a.create_topics([NewTopic('cap2', 1, 1)]); a.list_consumer_groups(); a.describe_consumer_groups(['pygrp'])
a.list_consumer_group_offsets('pygrp'); a.delete_topics(['cap2']); a.close()
""" % paddr])
        client_name[0] = "confluent"
        run(["/usr/bin/python3", "-c", """
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
b = '%s'
a = AdminClient({'bootstrap.servers': b})
a.create_topics([NewTopic('cap3', 1, 1)])['cap3'].result(10)
list(a.describe_configs([ConfigResource('topic', 'cap3')]).values())[0].result(10)
a.list_groups(timeout=10)
a.delete_topics(['cap3'])['cap3'].result(10)
p = Producer({'bootstrap.servers': b}); p.produce('cap', b'y'); p.flush(10)
""" % paddr])
        client_name[0] = "kafkajs"
        run(["node", "-e", """
const { Kafka, logLevel } = require('kafkajs')
const k = new Kafka({ brokers: ['%s'], logLevel: logLevel.NOTHING })
;(async () => {
  const a = k.admin(); await a.connect()
  await a.createTopics({ topics: [{ topic: 'cap4', numPartitions: 2 }] })
  const p = k.producer(); await p.connect(); await p.send({ topic: 'cap4', messages: [{ key: 'k', value: 'v' }] })
  const c = k.consumer({ groupId: 'jsgrp', sessionTimeout: 6000, heartbeatInterval: 500 }); await c.connect()
  await c.subscribe({ topic: 'cap4', fromBeginning: true })
  let n = 0; await c.run({ eachMessage: async () => { n++ } })
  while (n < 1) await new Promise(r => setTimeout(r, 100))
  await c.disconnect(); await a.fetchTopicOffsets('cap4'); await a.describeGroups(['jsgrp'])
  await a.deleteTopics({ topics: ['cap4'] }); await p.disconnect(); await a.disconnect()
})().then(() => process.exit(0), () => process.exit(1))
""" % paddr], cwd=os.path.join(ROOT, "tests"))
    finally:
        eddy.terminate()
        eddy.wait(30)
        listener.close()
    print("captured %d requests into %s" % (sum(seen.values()), OUT))


if __name__ == "__main__":
    main()
