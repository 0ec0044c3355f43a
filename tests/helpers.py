"""Running the real dataflow in tests: in-process, at any worker count."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from dataflow.flow import build_flow
from dataflow.messages import DeadLetter, RawMessage
from dataflow.settings import Settings

Message = tuple[str | None, bytes | None]


def run_flow(
    messages: Sequence[Message],
    *,
    workers: int = 1,
    batch_size: int = 1,
) -> tuple[list[tuple[str, str | None]], list[DeadLetter]]:
    """Run the flow on ``messages`` (stream, payload); return (records, dead letters)."""
    raw = [RawMessage(stream, payload) for stream, payload in messages]
    records: list = []
    letters: list = []
    flow = build_flow(
        Settings(),
        inputs=[TestingSource(raw, batch_size=batch_size)],
        record_sink=TestingSink(records),
        dead_letter_sink=TestingSink(letters),
    )
    if workers == 1:
        run_main(flow)
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)
    return [record for _spread, batch in records for record in batch], [
        letter for _stream, letter in letters
    ]


def random_stream(
    rng: random.Random, names: list[str], count: int, toggle_share: float
) -> list[Message]:
    """``count`` messages: with ``toggle_share`` a toggle of a random pair (on 60% of
    the time), else an update of a random asset to the value ``v<n>``."""
    messages = []
    for n in range(count):
        if rng.random() < toggle_share:
            a, b = rng.sample(names, 2)
            messages.append(toggle(a, b, rng.random() < 0.6))
        else:
            messages.append(asset(rng.choice(names), f"v{n}"))
    return messages


def asset(name: str, value: str) -> Message:
    return "assets", f'{{"asset": "{name}", "value": "{value}"}}'.encode()


def toggle(asset_1: str, asset_2: str, on: bool) -> Message:
    trigger = "true" if on else "false"
    return "active_spreads", (
        f'{{"spread": "{asset_1}_{asset_2}", "asset_1": "{asset_1}", '
        f'"asset_2": "{asset_2}", "trigger": {trigger}}}'
    ).encode()
