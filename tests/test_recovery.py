"""Recovery of the join's state through Bytewax's own snapshots (no Kafka): a run
aborts midway, the next resumes from its last snapshot, and together they obey
the contract, repeating only what came after that snapshot."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflow.flow import build_flow
from dataflow.messages import RawMessage
from dataflow.settings import Settings
from tests.contract import check_contract
from tests.helpers import Message, asset, random_stream


def run_once(items: list, db: Path) -> list[tuple[str, str | None]]:
    records: list = []
    flow = build_flow(
        Settings(),
        inputs=[TestingSource(items, batch_size=7)],
        record_sink=TestingSink(records),
        dead_letter_sink=TestingSink([]),
    )
    try:
        run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(str(db)))
    except Exception as exc:  # the ABORT sentinel stops the first run
        assert "abort" in repr(exc).lower(), exc
    return [record for _key, batch in records for record in batch]


def resumed(first: list, second: list) -> list:
    """Per spread, the second run's records after those it repeats of the first's."""
    combined = []
    for spread in dict.fromkeys(s for s, _ in first + second):
        mine = [r for r in first if r[0] == spread]
        theirs = [r for r in second if r[0] == spread]
        overlap = max(
            k for k in range(min(len(mine), len(theirs)) + 1) if mine[len(mine) - k :] == theirs[:k]
        )
        combined += mine + theirs[overlap:]
    return combined


def test_an_aborted_run_resumes_with_its_state(tmp_path: Path) -> None:
    names = ["A", "B", "C", "D"]
    messages: list[Message] = [asset(n, f"{n}0") for n in names]
    messages += random_stream(random.Random(4), names, 400, toggle_share=0.15)
    raw = [RawMessage(stream, payload) for stream, payload in messages]
    items = [*raw[:250], TestingSource.ABORT(), *raw[250:]]
    init_db_dir(tmp_path, 1)
    first = run_once(items, tmp_path)
    second = run_once(items, tmp_path)
    # Together they obey the contract: the second run kept the first's latest values,
    # active spreads and open joins, and lost nothing.
    check_contract(messages, resumed(first, second))
    # And it resumed rather than starting again: a whole fresh run emits more.
    (tmp_path / "fresh").mkdir()
    init_db_dir(tmp_path / "fresh", 1)
    whole = run_once(raw, tmp_path / "fresh")
    assert 0 < len(first) < len(whole)
    assert 0 < len(second) < len(whole)
