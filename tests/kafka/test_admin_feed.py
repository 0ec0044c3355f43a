"""The commands around the flow: topic creation and checks, the watcher, the feed."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import orjson
import pytest
from confluent_kafka.admin import ConfigResource

from connectors.kafka.admin import admin_client, delete_topics
from dataflow.settings import Settings
from generators.feed import publications
from tests.kafka.support import ROOT, TopicReader, Topics, flow_env, publish


def command(
    module: str, *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def fresh_names(brokers: str) -> Iterator[Topics]:
    """Topic names nobody created yet; deleted afterwards if something did."""
    suffix = uuid.uuid4().hex[:10]
    names = Topics(*(f"cli-{role}-{suffix}" for role in ("assets", "control", "output", "dlq")))
    yield names
    delete_topics(brokers, list(names))


def test_create_topics_makes_four_with_compacted_control_and_output(
    brokers: str, fresh_names: Topics
) -> None:
    env = flow_env(brokers, fresh_names)
    config = f"{fresh_names.output}:max.message.bytes=123456"
    done = command(
        "connectors.kafka.admin", "create-topics", "--partitions", "3", "--config", config, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": created") == 4

    client = admin_client(brokers)
    metadata = client.list_topics(timeout=10)
    for name in fresh_names:
        assert len(metadata.topics[name].partitions) == 3
    futures = client.describe_configs([ConfigResource("topic", name) for name in fresh_names])
    configs = {res.name: future.result(timeout=10) for res, future in futures.items()}
    policy = {name: configs[name]["cleanup.policy"].value for name in fresh_names}
    assert policy == {
        fresh_names.assets: "delete",
        fresh_names.control: "compact",
        fresh_names.output: "compact",
        fresh_names.dlq: "delete",
    }
    assert configs[fresh_names.output]["max.message.bytes"].value == "123456"

    again = command("connectors.kafka.admin", "create-topics", "--partitions", "3", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(": exists") == 4
    check = command("connectors.kafka.admin", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert f"SPREADS_OUTPUT_TOPIC={fresh_names.output}: 3 partitions" in check.stdout


def test_check_names_the_missing_topics(brokers: str, fresh_names: Topics) -> None:
    check = command("connectors.kafka.admin", "check", env=flow_env(brokers, fresh_names))
    assert check.returncode == 1
    assert f"{fresh_names.assets!r} (SPREADS_ASSETS_TOPIC)" in check.stderr
    assert f"{fresh_names.dlq!r} (SPREADS_DLQ_TOPIC)" in check.stderr


def test_watch_prints_records_and_tombstones(brokers: str, topics: Callable[..., Topics]) -> None:
    names = topics(partitions=2, prefix="watch")
    value = b'{"spread":"A_B","value":"A-1-B-2"}'
    publish(brokers, [(names.output, b"A_B", value), (names.output, b"A_B", None)])
    done = command("connectors.kafka.admin", "watch", "--count", "2", env=flow_env(brokers, names))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"A_B\t{value.decode()}", "A_B\tnull"]


def feed_env(brokers: str, names: Topics, **extra: str) -> dict[str, str]:
    return flow_env(brokers, names, SPREADS_SEED="3", SPREADS_RATE="10", **extra)


def test_feed_publishes_assets_by_asset_and_control_by_spread(
    brokers: str, topics: Callable[..., Topics]
) -> None:
    names = topics(partitions=4, prefix="feed")
    env = feed_env(brokers, names)
    done = command("generators.feed", "--count", "80", "--no-wait", env=env)
    assert done.returncode == 0, done.stderr
    assert "published 80 messages" in done.stderr

    expected = [p for _, p in zip(range(80), publications(Settings.from_env(env)), strict=False)]
    got = []
    for topic in (names.assets, names.control):
        reader = TopicReader(brokers, topic)
        got += [(topic, r) for r in reader.settle(1.0)]
        reader.close()
    assert len(got) == 80
    for topic, record in got:
        doc = orjson.loads(record.value)  # type: ignore[arg-type]
        key = doc["asset"] if topic == names.assets else doc["spread"]
        assert record.key == key.encode()
    # Each key's messages in the generators' order (one key, one partition).
    for topic in (names.assets, names.control):
        for key in {r.key for t, r in got if t == topic}:
            mine = [r.value for t, r in got if t == topic and r.key == key]
            want = [p[4] for p in expected if p[2] == topic and p[3] == key]
            assert mine == want


def test_feed_stops_at_the_duration(brokers: str, topics: Callable[..., Topics]) -> None:
    names = topics(partitions=1, prefix="feedtime")
    env = feed_env(brokers, names, SPREADS_DURATION="1")
    start = time.monotonic()
    done = command("generators.feed", env=env, timeout=30)
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    expected = sum(1 for _ in _until(publications(Settings.from_env(env)), 1.0))
    assert f"published {expected} messages" in done.stderr
    assert 1.0 <= elapsed < 15  # paced in real time, and it did stop


def _until(items: Iterator, seconds: float) -> Iterator:
    for item in items:
        if item[0] >= seconds:
            return
        yield item
