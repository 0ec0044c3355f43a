"""Kafka-to-Kafka benchmarks against the local broker: throughput and latency.

Throughput: the input topics are filled first (400 spreads on 200 assets, then
asset updates keyed by asset), then the flow reads them from the beginning. The
output's growth is read from the partitions' high watermarks, so measuring costs
the machine nearly nothing; the rate is taken between the first and the last
record, leaving out start-up.

Latency: the flow runs on live topics; a producer process sends updates at a
fixed rate, each value being its send time (``0x`` + 16 hex digits of ns since
the epoch), and a consumer process reads the records: a record's latency is its
receive time minus the newer of its two legs' send times.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.common import ROOT, clean_env, flow_argvs
from bench.make_tape import sample_pairs
from connectors.kafka.admin import TopicSpec, create_topics, delete_topics
from generators.streams import control_message

PARTITIONS = 4


def brokers() -> str:
    value = os.environ.get("KAFKA_BROKERS")
    if not value:
        raise SystemExit("KAFKA_BROKERS is not set: run `make bench`, which starts a broker")
    return value


def fresh_topics(tag: str) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    names = {role: f"bench-{tag}-{role}-{suffix}" for role in ("assets", "control", "out", "dlq")}
    create_topics(brokers(), [TopicSpec(name, PARTITIONS, {}) for name in names.values()])
    return names


def flow_env(topics: dict[str, str], assets_from: str) -> dict[str, str]:
    return clean_env(
        SPREADS_SOURCE="kafka",
        SPREADS_SINK="kafka",
        SPREADS_DLQ="kafka",
        KAFKA_BROKERS=brokers(),
        SPREADS_ASSETS_TOPIC=topics["assets"],
        SPREADS_CONTROL_TOPIC=topics["control"],
        SPREADS_OUTPUT_TOPIC=topics["out"],
        SPREADS_DLQ_TOPIC=topics["dlq"],
        SPREADS_ASSETS_FROM=assets_from,
    )


def producer() -> Producer:
    return Producer(
        {
            "bootstrap.servers": brokers(),
            "linger.ms": 5,
            "batch.num.messages": 10000,
            "queue.buffering.max.messages": 1_000_000,
            "acks": "all",
        }
    )


def publish_spreads(p: Producer, topic: str, pairs: list[tuple[str, str]]) -> None:
    for a, b in pairs:
        p.produce(topic, control_message(a, b, True), key=f"{a}_{b}".encode())


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def broker_pid() -> int | None:
    """The local broker's pid, from the state dir `scripts/kafka-up.sh` used."""
    state = os.environ.get("KAFKA_STATE_DIR")
    try:
        return int(Path(state, "kafka.pid").read_text()) if state else None
    except (OSError, ValueError):
        return None


def output_count(consumer: Consumer, topic: str) -> int:
    total = 0
    for partition in range(PARTITIONS):
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        total += high
    return total


def start_flow(processes: int, env: dict[str, str]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        for argv in flow_argvs(processes)
    ]


def stop_flow(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def with_spreads(tag: str, assets: int, spreads: int, seed: int):
    """Fresh topics with ``spreads`` random spreads on ``assets`` assets switched
    on; returns (topics, asset names, rng, producer)."""
    topics = fresh_topics(tag)
    rng = random.Random(seed)
    names = [f"ASSET{n:04d}" for n in range(assets)]
    p = producer()
    publish_spreads(p, topics["control"], sample_pairs(names, spreads, rng))
    return topics, names, rng, p


def throughput(processes: int, updates: int) -> dict:
    topics, assets, rng, p = with_spreads(f"tp{processes}", 200, 400, seed=3)
    for n in range(updates):
        asset = assets[rng.randrange(200)]
        p.produce(
            topics["assets"],
            b'{"asset":"%s","value":"0x%016x"}' % (asset.encode(), n),
            key=asset.encode(),
        )
        if n % 10000 == 0:
            p.poll(0)
    p.flush(120)
    watcher = Consumer({"bootstrap.servers": brokers(), "group.id": "bench-watch"})
    procs = start_flow(processes, flow_env(topics, "earliest"))
    # (monotonic time, output records so far, CPU s of the flow, CPU s of the broker)
    samples: list[tuple[float, int, float, float]] = []
    broker = broker_pid()
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            time.sleep(0.05)
            samples.append(
                (
                    time.monotonic(),
                    output_count(watcher, topics["out"]),
                    sum(cpu_seconds(proc.pid) for proc in procs),
                    cpu_seconds(broker) if broker else 0.0,
                )
            )
            grown = [t for t, count, *_ in samples if count == samples[-1][1]]
            if samples[-1][1] and samples[-1][0] - grown[0] > 3:
                break  # no growth for 3 s: all input is done
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError("the flow exited during the throughput run")
    finally:
        stop_flow(procs)
        watcher.close()
        delete_topics(brokers(), list(topics.values()))
    total = samples[-1][1]
    # The steady middle: from 10% to 90% of the output, leaving out start-up (and
    # processes starting a little apart) and the tail.
    first = next(sample for sample in samples if sample[1] >= 0.1 * total)
    last = next(sample for sample in samples if sample[1] >= 0.9 * total)
    seconds = last[0] - first[0]
    return {
        "processes": processes,
        "updates": updates,
        "records": total,
        "seconds": seconds,
        "updates_per_s": 0.8 * updates / seconds,
        "records_per_s": 0.8 * total / seconds,
        "flow_cores": (last[2] - first[2]) / seconds,
        "broker_cores": (last[3] - first[3]) / seconds,
        # CPU seconds the flow spent per million input updates: the cost of the work
        "flow_cpu_per_m": (last[2] - first[2]) / (0.8 * updates) * 1e6,
    }


def latency(rate: int, seconds: float) -> dict:
    """p50/p95/p99/max from send to receive, at ``rate`` updates/s, fan-out ~4."""
    topics, _assets, _rng, p = with_spreads(f"lat{rate}", 100, 200, seed=5)
    p.flush(30)
    procs = start_flow(1, flow_env(topics, "latest"))
    probe = [sys.executable, "-m", "bench.kafka_latency"]
    try:
        reader = subprocess.Popen(
            [*probe, "read", brokers(), topics["out"]],
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        writer = [*probe, "write", brokers(), topics["assets"]]
        # Warm up (the flow reads from the end of the topic, and must have found it).
        subprocess.run([*writer, "100", "5"], cwd=ROOT, env=clean_env(), check=True)
        timed_from = time.time_ns()
        subprocess.run([*writer, str(rate), str(seconds)], cwd=ROOT, env=clean_env(), check=True)
        time.sleep(3)
        reader.terminate()
        out, _ = reader.communicate(timeout=120)
    finally:
        stop_flow(procs)
        delete_topics(brokers(), list(topics.values()))
    latencies = sorted(
        (received - sent) / 1e6
        for sent, received in (map(int, line.split()) for line in out.splitlines() if line)
        if sent >= timed_from
    )
    if not latencies:
        raise RuntimeError(f"no records came back at {rate} updates/s")

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return {
        "rate": rate,
        "seconds": seconds,
        "records": len(latencies),
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": latencies[-1],
    }
