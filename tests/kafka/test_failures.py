"""Nothing lost silently, no hangs: an unreachable broker fails fast, a missing
topic is named, and a record the broker (or librdkafka) refuses stops the flow."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kafka.support import ROOT, Flows, TopicReader, Topics, flow_env, free_port, publish

CONNECT_TIMEOUT = 2.0
STARTUP = 15.0  # python + bytewax imports, on a slow machine


@pytest.mark.parametrize(
    "mode",
    [
        {},  # Kafka in and out
        {"SPREADS_SOURCE": f"tape:{ROOT / 'tapes' / 'example.tape'}", "SPREADS_DLQ": "stderr"},
    ],
    ids=["kafka-source", "kafka-sink-only"],
)
def test_an_unreachable_broker_fails_fast_naming_it(
    flows: Flows, mode: dict[str, str], tmp_path: Path
) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    env = flow_env(dead, None, SPREADS_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT), **mode)
    start = time.monotonic()
    flow = flows.start("flow", env)
    code = flow.wait(CONNECT_TIMEOUT + STARTUP)
    elapsed = time.monotonic() - start
    err = flow.stderr()
    assert code != 0
    assert elapsed >= CONNECT_TIMEOUT  # it did wait for the broker, that long
    assert f"expected a Kafka broker answering at {dead} (KAFKA_BROKERS) within 2 s" in err
    assert "SPREADS_CONNECT_TIMEOUT" in err


def test_a_missing_topic_is_named(
    brokers: str, topics: Callable[..., Topics], flows: Flows
) -> None:
    names = topics(partitions=1, prefix="missing")
    absent = f"{names.control}-absent"
    flow = flows.start("flow", flow_env(brokers, names, SPREADS_CONTROL_TOPIC=absent))
    assert flow.wait(STARTUP + 10) != 0
    err = flow.stderr()
    assert f"missing: {absent!r} (SPREADS_CONTROL_TOPIC)" in err
    assert names.assets not in err.split("missing:")[-1]  # the existing one is not blamed
    assert "create-topics" in err


@pytest.mark.parametrize(
    ("value_size", "processes"),
    [(5_000, 1), (1_100_000, 1), (5_000, 2)],
    # broker: over the output topic's max.message.bytes (2000), refused by the
    # broker; local: over librdkafka's message.max.bytes (1 MB), refused by
    # produce() itself; cluster: the broker case in a two-process cluster.
    ids=["broker", "local", "cluster"],
)
def test_a_record_that_cannot_be_delivered_stops_the_flow(
    brokers: str, topics: Callable[..., Topics], flows: Flows, value_size: int, processes: int
) -> None:
    big = str(4 * 1024 * 1024)  # the inputs themselves may be big
    names = topics(
        partitions=2,
        prefix="toobig",
        config={
            "assets": {"max.message.bytes": big},
            "output": {"max.message.bytes": "2000"},
        },
    )
    env = flow_env(brokers, names)
    started = [flows.start("flow", env)] if processes == 1 else flows.cluster("flow", env)
    out = TopicReader(brokers, names.output)
    control = b'{"spread": "A_B", "asset_1": "A", "asset_2": "B", "trigger": true}'
    publish(brokers, [(names.control, b"A_B", control)])
    publish(
        brokers,
        [
            (names.assets, b"A", b'{"asset": "A", "value": "small"}'),
            (names.assets, b"B", b'{"asset": "B", "value": "small"}'),
        ],
    )
    out.wait_for(1, flows=started)  # a normal record goes through
    value = "x" * value_size
    publish(
        brokers,
        [(names.assets, b"B", b'{"asset": "B", "value": "%s"}' % value.encode())],
        config={"message.max.bytes": big},
    )
    codes = [flow.wait(60) for flow in started]
    err = "".join(flow.stderr() for flow in started)
    assert all(code != 0 for code in codes), codes  # every process stops, non-zero
    verb = "produce" if value_size > 1_000_000 else "deliver"
    expected = f"spread-join: error: could not {verb} a record to Kafka topic {names.output!r}"
    assert f"{expected} with key 'A_B'" in err, err[-3000:]
    assert "MSG_SIZE_TOO_LARGE" in err
    assert len(out.settle(0.5)) == 1  # nothing half-written after it
