"""One flow through real topics, in phases: records keyed by spread, tombstones,
dead letters with their origin, the contract, and a clean SIGTERM stop."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import NamedTuple

import orjson
import pytest

from tests.contract import check_contract
from tests.kafka.support import (
    Flows,
    Published,
    Record,
    TopicReader,
    Topics,
    asset,
    drop_topics,
    flow_env,
    make_topics,
    publish,
    publish_messages,
    toggle,
)


class Run(NamedTuple):
    topics: Topics
    messages: list[tuple[str | None, bytes | None]]
    bad: list[Published]  # where each bad message landed
    records: list[Record]
    letters: list[Record]
    exit_code: int
    stderr: str


@pytest.fixture(scope="module")
def run(
    brokers: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Run:
    # Module scope: one flow serves every test below. The function-scoped
    # fixtures cannot be used here, so do their jobs by hand.
    topics = make_topics(brokers, partitions=2, prefix="e2e")
    request.addfinalizer(lambda: drop_topics(brokers, topics))
    flows = Flows(tmp_path_factory.mktemp("e2e") / "logs")
    request.addfinalizer(flows.cleanup)
    flow = flows.start("flow", flow_env(brokers, topics))
    out = TopicReader(brokers, topics.output)
    dlq = TopicReader(brokers, topics.dlq)
    request.addfinalizer(out.close)
    request.addfinalizer(dlq.close)
    messages: list = []

    def phase(batch: list, wait_records: int) -> None:
        messages.extend(batch)
        publish_messages(brokers, topics, batch)
        out.wait_for(wait_records, flows=[flow])

    # Each phase's outcome is the same in any order its messages are read in,
    # so the message list below is an order every key saw.
    phase([toggle("A", "B", True), asset("A", "a1"), asset("B", "b1")], 1)
    phase([asset("A", "a2")], 2)
    phase([asset("B", "b2"), asset("C", "c1")], 3)
    bad = publish(
        brokers,
        [
            (topics.assets, b"A", b"{not json"),
            (topics.assets, b"A", None),  # a null value
            (topics.control, b"A_C", b'{"spread": "A_C", "asset_1": "A", "asset_2": "C"}'),
        ],
    )
    messages += [("assets", b"{not json"), ("assets", None), ("active_spreads", bad[2].value)]
    dlq.wait_for(3, flows=[flow])
    phase([toggle("A", "B", False)], 4)  # the tombstone
    # B_A starts at once with both values; then B moves: a record for B_A only.
    phase([toggle("B", "A", True)], 5)
    phase([asset("B", "b3")], 6)
    out.settle(0.5)
    flow.signal(15)  # SIGTERM
    code = flow.wait(30)
    return Run(topics, messages, bad, out.records, dlq.records, code, flow.stderr())


def test_records_are_keyed_by_spread(run: Run) -> None:
    for record in run.records:
        if record.value is not None:
            assert orjson.loads(record.value)["spread"] == record.key.decode()  # type: ignore[union-attr]
    by_key = [(r.key, None if r.value is None else orjson.loads(r.value)) for r in run.records]
    assert by_key == [
        (b"A_B", {"spread": "A_B", "value": "A-a1-B-b1"}),
        (b"A_B", {"spread": "A_B", "value": "A-a2-B-b1"}),
        (b"A_B", {"spread": "A_B", "value": "A-a2-B-b2"}),
        (b"A_B", None),
        (b"B_A", {"spread": "B_A", "value": "B-b2-A-a2"}),
        (b"B_A", {"spread": "B_A", "value": "B-b3-A-a2"}),
    ]


def test_deactivation_is_a_real_tombstone(run: Run) -> None:
    tombstones = [r for r in run.records if r.value is None]
    assert [r.key for r in tombstones] == [b"A_B"]
    # Same key, same partition: a compacted topic keeps the tombstone, not A_B's records.
    assert len({r.partition for r in run.records if r.key == b"A_B"}) == 1


def test_dead_letters_carry_their_origin(run: Run) -> None:
    assert len(run.letters) == 3
    docs = [(orjson.loads(r.value), r) for r in run.letters]  # type: ignore[arg-type]
    by_offset = {(d["origin"]["topic"], d["origin"]["offset"]): (d, r) for d, r in docs}
    for published in run.bad:
        doc, record = by_offset[(published.topic, published.offset)]
        stream = "assets" if published.topic == run.topics.assets else "active_spreads"
        assert doc["stream"] == stream
        assert doc["origin"] == {
            "topic": published.topic,
            "partition": published.partition,
            "offset": published.offset,
        }
        assert doc["message"] == (None if published.value is None else published.value.decode())
        assert doc["error"].startswith("expected ")
        assert record.key == stream.encode()
        assert record.headers == {
            "origin.topic": published.topic.encode(),
            "origin.partition": str(published.partition).encode(),
            "origin.offset": str(published.offset).encode(),
        }
    errors = sorted(orjson.loads(r.value)["error"] for r in run.letters)  # type: ignore[arg-type]
    assert any("null payload" in e for e in errors)
    assert any("invalid JSON" in e for e in errors)
    assert any("'trigger'" in e for e in errors)


def test_output_obeys_the_contract(run: Run) -> None:
    records = [
        (r.key.decode(), None if r.value is None else orjson.loads(r.value)["value"])  # type: ignore[union-attr]
        for r in run.records
    ]
    letters = [(orjson.loads(r.value)["stream"], None) for r in run.letters]  # type: ignore[arg-type]
    model = check_contract(run.messages, records)
    assert sorted(s for s, _ in letters) == sorted(s for s, _ in model.dead_letters)


def test_sigterm_stops_cleanly(run: Run) -> None:
    assert run.exit_code == 0, run.stderr
    assert "SIGTERM received, stopping cleanly" in run.stderr
    assert "Traceback" not in run.stderr


def test_ctrl_c_stops_cleanly_too(
    brokers: str, topics: Callable[..., Topics], flows: Flows
) -> None:
    names = topics(partitions=1, prefix="ctrlc")
    flow = flows.start("flow", flow_env(brokers, names))
    out = TopicReader(brokers, names.output)
    publish_messages(brokers, names, [toggle("A", "B", True), asset("A", "1"), asset("B", "2")])
    out.wait_for(1, flows=[flow])
    flow.signal(signal.SIGINT)
    assert flow.wait(30) == 0, flow.stderr_tail()
    assert "SIGINT received, stopping cleanly" in flow.stderr()
    out.close()
