"""Latency probes, run as their own processes so they do not share a GIL with
the bench or the flow.

    python -m bench.kafka_latency write BROKERS TOPIC RATE SECONDS
    python -m bench.kafka_latency read BROKERS TOPIC     (until SIGTERM)

``write`` sends RATE asset updates a second for SECONDS, each value the send
time in ns (``0x`` + 16 hex digits), keyed by asset (100 assets). ``read`` prints
one line per joined record, ``<newer leg's send ns> <receive ns>``.
"""

from __future__ import annotations

import random
import signal
import sys
import time

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition


def write(brokers: str, topic: str, rate: float, seconds: float) -> None:
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 1, "acks": "all"})
    rng = random.Random(9)
    assets = [f"ASSET{n:04d}".encode() for n in range(100)]  # as kafka_bench names them
    start = time.monotonic()
    sent = 0
    total = int(rate * seconds)
    while sent < total:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            asset = assets[rng.randrange(100)]
            value = b'{"asset":"%s","value":"0x%016x"}' % (asset, time.time_ns())
            producer.produce(topic, value, key=asset)
            sent += 1
        producer.poll(0)
        time.sleep(0.0005)
    producer.flush(60)


def read(brokers: str, topic: str) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"latency-{time.time_ns()}",
            "fetch.wait.max.ms": 5,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    lines: list[str] = []
    while not stop:
        # poll() returns as soon as one record is there; consume(timeout=0) then
        # drains what else has arrived. (consume(n, timeout) alone would wait
        # for n records or the whole timeout, adding its own latency.)
        first = consumer.poll(0.05)
        if first is None:
            continue
        now = time.time_ns()
        for message in [first, *consumer.consume(num_messages=5000, timeout=0)]:
            value = message.value()
            if message.error() or value is None:
                continue
            legs = value.split(b'"value":"', 1)[1].split(b"-")
            sent = max(int(legs[1], 16), int(legs[3].rstrip(b'"}'), 16))
            lines.append(f"{sent} {now}")
    consumer.close()
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "write":
        write(args[0], args[1], float(args[2]), float(args[3]))
    else:
        read(args[0], args[1])
