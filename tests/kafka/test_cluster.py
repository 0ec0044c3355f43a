"""The contract on 4-partition topics, with the flow as a two-process cluster.

Kafka keeps order per partition only, and so per key. To know an order that
every key saw, the input goes in phases, and the test waits for each phase's
output before publishing the next: asset-only phases (each asset's updates in
order, assets interleaving freely, as the contract allows) and control-only
phases. The first phase mixes both but gives each asset one value, so its
outcome is the same in any order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import orjson

from tests.contract import check_contract, model
from tests.kafka.support import (
    Flows,
    Message,
    TopicReader,
    Topics,
    asset,
    flow_env,
    publish_messages,
    spread_records,
    toggle,
)

ASSETS = ["A", "B", "C", "D", "BTC_USDT"]


def expected_outputs(messages: Sequence[Message]) -> int:
    """How many records and tombstones the messages must give: every activation
    here starts with both legs valued, so it emits one record at once and one
    per later update of either leg."""
    m = model(messages)
    return sum(
        len(a.feed_1) + len(a.feed_2) - 1 + a.closed
        for activations in m.activations.values()
        for a in activations
    )


def updates(rng: random.Random, per_asset: int, tag: str) -> list[Message]:
    order = [name for name in ASSETS for _ in range(per_asset)]
    rng.shuffle(order)
    return [asset(name, f"{tag}{i}") for i, name in enumerate(order)]


def test_contract_on_four_partitions_with_two_processes(
    brokers: str, topics: Callable[..., Topics], flows: Flows
) -> None:
    rng = random.Random(5)
    names = topics(partitions=4, prefix="cluster")
    cluster = flows.cluster("cluster", flow_env(brokers, names))
    out = TopicReader(brokers, names.output)
    dlq = TopicReader(brokers, names.dlq)
    messages: list[Message] = []
    bad: list[Message] = []

    def phase(batch: list[Message]) -> None:
        messages.extend(batch)
        publish_messages(brokers, names, batch)
        out.wait_for(expected_outputs(messages), timeout=60, flows=cluster)

    first = [("A", "B"), ("B", "A"), ("A", "C"), ("C", "BTC_USDT"), ("BTC_USDT", "D"), ("D", "A")]
    phase(
        [toggle(a, b, True) for a, b in first]
        + [asset(name, f"v{i}") for i, name in enumerate(ASSETS)]
    )
    bad += [("assets", b'{"asset": "A"}'), ("assets", b"[1, 2]")]
    phase(updates(rng, 120, "p") + bad[-2:])
    bad += [("active_spreads", b'{"spread": "A_A", "asset_1": "A", "asset_2": "A"}')]
    phase(
        [
            toggle("A", "B", False),  # deactivate: a tombstone
            toggle("D", "A", False),
            toggle("B", "A", True),  # already active: nothing
            toggle("C", "D", False),  # not active: nothing
            toggle("B", "C", True),  # new: one record at once
            toggle("D", "BTC_USDT", True),
            toggle("A", "B", True),  # again, a new activation
            bad[-1],
        ]
    )
    phase(updates(rng, 120, "q"))
    live = [acts[-1] for acts in model(messages).activations.values() if not acts[-1].closed]
    phase([toggle(a.asset_1, a.asset_2, False) for a in live])  # all off: tombstones
    dlq.wait_for(len(bad), flows=cluster)
    out.settle(1.0)  # anything extra (a duplicate) would show up now

    for flow in cluster:
        flow.signal(15)
    codes = [flow.wait(30) for flow in cluster]
    assert codes == [0, 0], [flow.stderr_tail() for flow in cluster]

    letters = [orjson.loads(r.value) for r in dlq.records]  # type: ignore[arg-type]
    check_contract(
        messages,
        spread_records(out.records),
        [(d["stream"], d["message"].encode()) for d in letters],
    )
