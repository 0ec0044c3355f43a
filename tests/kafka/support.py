"""Helpers for the Kafka tests: topics, publishing, reading, flow processes.

Everything talks to a real broker (KAFKA_BROKERS); nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka import Message as KafkaMessage

from connectors.kafka.admin import TopicSpec, create_topics, delete_topics
from tests.contract import Model, _check_name

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("assets", "control", "output", "dlq")
ENV_OF_ROLE = {
    "assets": "SPREADS_ASSETS_TOPIC",
    "control": "SPREADS_CONTROL_TOPIC",
    "output": "SPREADS_OUTPUT_TOPIC",
    "dlq": "SPREADS_DLQ_TOPIC",
}


class Topics(NamedTuple):
    assets: str
    control: str
    output: str
    dlq: str

    def env(self) -> dict[str, str]:
        return {ENV_OF_ROLE[role]: name for role, name in zip(ROLES, self, strict=True)}


def make_topics(
    brokers: str,
    partitions: int = 4,
    config: Mapping[str, Mapping[str, str]] | None = None,
    prefix: str = "t",
) -> Topics:
    """Four fresh topics named ``<prefix>-<role>-<uuid>``; ``config`` maps a role to
    extra topic configs. Control and output are compacted, as in production."""
    suffix = uuid.uuid4().hex[:10]
    topics = Topics(*(f"{prefix}-{role}-{suffix}" for role in ROLES))
    specs = []
    for role, name in zip(ROLES, topics, strict=True):
        extra = {"cleanup.policy": "compact"} if role in ("control", "output") else {}
        extra.update((config or {}).get(role, {}))
        specs.append(TopicSpec(name, partitions, extra))
    create_topics(brokers, specs)
    return topics


def drop_topics(brokers: str, topics: Topics) -> None:
    delete_topics(brokers, list(topics))


# --- messages -----------------------------------------------------------------

Message = tuple[str | None, bytes | None]  # (stream, payload), as tests/contract.py takes


def asset(name: str, value: str) -> Message:
    return "assets", orjson.dumps({"asset": name, "value": value})


def toggle(asset_1: str, asset_2: str, on: bool) -> Message:
    return "active_spreads", orjson.dumps(
        {"spread": f"{asset_1}_{asset_2}", "asset_1": asset_1, "asset_2": asset_2, "trigger": on}
    )


def key_of(message: Message) -> bytes | None:
    """Assets keyed by asset, control keyed by spread, as generators.feed does;
    anything unparsable goes unkeyed."""
    stream, payload = message
    try:
        doc = orjson.loads(payload)  # type: ignore[arg-type]
        field = "asset" if stream == "assets" else "spread"
        return doc[field].encode()
    except Exception:
        return None


class Published(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def publish(
    brokers: str,
    items: Iterable[tuple[str, bytes | None, bytes | None]],
    config: Mapping[str, object] | None = None,
) -> list[Published]:
    """Produce ``(topic, key, value)``\\ s in order, wait for every report, and
    return where each landed. Raises on any failed delivery."""
    reports: dict[int, Published] = {}
    errors: list[str] = []

    def report(index: int) -> Callable[[KafkaError | None, KafkaMessage], None]:
        def on_delivery(err: KafkaError | None, msg: KafkaMessage) -> None:
            if err is not None:
                errors.append(f"{msg.topic()} {msg.key()!r}: {err.str()}")
            else:
                reports[index] = Published(
                    msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value()
                )

        return on_delivery

    producer = Producer(
        {
            "bootstrap.servers": brokers,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 2,
            **(config or {}),
        }
    )
    count = 0
    for index, (topic, key, value) in enumerate(items):
        producer.produce(topic, value, key, on_delivery=report(index))
        producer.poll(0)
        count += 1
    left = producer.flush(30)
    assert not errors, f"test publish failed: {errors[:3]}"
    assert left == 0, f"test publish: {left} messages undelivered"
    return [reports[i] for i in range(count)]


def publish_messages(brokers: str, topics: Topics, messages: Sequence[Message]) -> list[Published]:
    """Publish contract messages to the assets or control topic, keyed like the feed."""
    topic_of = {"assets": topics.assets, "active_spreads": topics.control}
    return publish(brokers, [(topic_of[s], key_of((s, p)), p) for s, p in messages])


class Record(NamedTuple):
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int
    timestamp_ms: int
    headers: dict[str, bytes]


class TopicReader:
    """Reads every partition of a topic from the beginning, keeping what it read."""

    def __init__(self, brokers: str, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self._consumer = Consumer(
            {
                "bootstrap.servers": brokers,
                "group.id": f"test-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )
        metadata = self._consumer.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])

    def poll(self, seconds: float = 0.2) -> list[Record]:
        new = []
        for msg in self._consumer.consume(10000, seconds):
            assert msg.error() is None, f"reading {self.topic}: {msg.error()}"
            new.append(
                Record(
                    msg.key(),
                    msg.value(),
                    msg.partition(),
                    msg.offset(),
                    msg.timestamp()[1],
                    dict(msg.headers() or []),
                )
            )
        self.records += new
        return new

    def wait_for(
        self,
        done: Callable[[list[Record]], bool] | int,
        timeout: float = 30.0,
        flows: Sequence[FlowProcess] = (),
    ) -> list[Record]:
        """Poll until ``done(records)`` (or that many records); fail on timeout or
        if a flow process died meanwhile."""
        check = (lambda records: len(records) >= done) if isinstance(done, int) else done
        deadline = time.monotonic() + timeout
        while not check(self.records):
            for flow in flows:
                flow.assert_running()
            assert time.monotonic() < deadline, (
                f"timed out after {timeout:g} s waiting on {self.topic}: "
                f"{len(self.records)} records so far"
                + "".join(f"\n--- {f.name} stderr:\n{f.stderr_tail()}" for f in flows)
            )
            self.poll()
        return self.records

    def settle(self, quiet: float = 1.0) -> list[Record]:
        """Poll until nothing new arrives for ``quiet`` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            if self.poll(0.2):
                last = time.monotonic()
        return self.records

    def close(self) -> None:
        self._consumer.close()


def spread_records(records: Iterable[Record]) -> list[tuple[str, str | None]]:
    """Output records as (spread, value-or-None), in the order read (per key: produced)."""
    out = []
    for r in records:
        spread = r.key.decode()  # type: ignore[union-attr]
        value = None if r.value is None else orjson.loads(r.value)["value"]
        out.append((spread, value))
    return out


def dead_letters(records: Iterable[Record]) -> list[dict]:
    return [orjson.loads(r.value) for r in records]  # type: ignore[arg-type]


# --- flow processes -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flow_env(brokers: str, topics: Topics | None, **extra: str) -> dict[str, str]:
    """The test process's environment without its SPREADS_* settings, plus Kafka mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPREADS_")}
    env.update(
        KAFKA_BROKERS=brokers,
        SPREADS_SOURCE="kafka",
        SPREADS_SINK="kafka",
        SPREADS_DLQ="kafka",
        # Tests publish before or while the flow starts: read both from the start.
        SPREADS_ASSETS_FROM="earliest",
        SPREADS_CONNECT_TIMEOUT="10",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    if topics is not None:
        env.update(topics.env())
    env.update(extra)
    return env


class FlowProcess:
    """One ``python -m bytewax.run dataflow.flow`` process, output to files."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], logs: Path) -> None:
        self.name = name
        logs.mkdir(parents=True, exist_ok=True)
        self.stdout_path = logs / f"{name}.out"
        self.stderr_path = logs / f"{name}.err"
        self.started = time.monotonic()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bytewax.run", "dataflow.flow", *args],
                env=dict(env),
                cwd=ROOT,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killed whole in cleanup
                # Ctrl-C as in a terminal, even when the tests run as a background job.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stderr_tail(self, lines: int = 30) -> str:
        return "\n".join(self.stderr().splitlines()[-lines:])

    def assert_running(self) -> None:
        rc = self.proc.poll()
        assert rc is None, f"{self.name} exited early with {rc}:\n{self.stderr_tail()}"

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} still running after {timeout:g} s:\n{self.stderr_tail()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the whole process group (the flow and anything it started)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


class Flows:
    """Starts flow processes and kills any still running at the end of a test."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[FlowProcess] = []

    def start(self, name: str, env: Mapping[str, str], *args: str) -> FlowProcess:
        flow = FlowProcess(name, args, env, self.logs)
        self.started.append(flow)
        return flow

    def cluster(self, name: str, env: Mapping[str, str], *args: str) -> list[FlowProcess]:
        """Two processes of one cluster, on free local ports."""
        addresses = f"127.0.0.1:{free_port()};127.0.0.1:{free_port()}"
        return [
            self.start(f"{name}-{i}", env, "-i", str(i), "-a", addresses, *args) for i in (0, 1)
        ]

    def cleanup(self) -> None:
        for flow in self.started:
            flow.kill()


def init_recovery(db: Path, parts: int = 1) -> None:
    """``mkdir DB && python -m bytewax.recovery DB PARTS``, as the docs say."""
    db.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "bytewax.recovery", str(db), str(parts)],
        check=True,
        timeout=60,
        cwd=ROOT,
    )


# --- contract checks per spread -----------------------------------------------


def valid_for_spread(m: Model, spread: str, values: Sequence[str | None]) -> bool:
    """Is ``values`` a valid record sequence for the spread name ``spread``? The
    same rules as ``tests.contract.check_contract``, which it uses, for one name."""
    identities = {i: acts for i, acts in m.activations.items() if i[0] == spread}
    if not identities:
        return not values
    try:
        _check_name(spread, list(values), identities)
    except AssertionError:
        return False
    return True
