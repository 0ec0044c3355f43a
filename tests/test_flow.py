"""The real dataflow through bytewax.testing, at 1 and 2 workers, small and large batches."""

from __future__ import annotations

import pytest

from tests.contract import check_contract
from tests.helpers import asset, random_stream, run_flow, toggle

SCALES = [
    pytest.param(1, 1, id="1-worker"),
    pytest.param(2, 1, id="2-workers"),
    pytest.param(1, 1000, id="1-worker-big-batches"),
    pytest.param(2, 1000, id="2-workers-big-batches"),
]


@pytest.mark.parametrize(("workers", "batch_size"), SCALES)
def test_records_only_for_active_spreads(workers: int, batch_size: int) -> None:
    messages = [
        asset("A", "a1"),
        asset("B", "b1"),
        asset("C", "c1"),
        toggle("A", "B", True),
        asset("A", "a2"),
        asset("C", "c2"),
    ]
    records, letters = run_flow(messages, workers=workers, batch_size=batch_size)
    assert letters == []
    # Activation with both values emits at once; then each leg move emits.
    # A's update may be seen before or after B's activation: both are allowed.
    assert records in (
        [("A_B", "A-a1-B-b1"), ("A_B", "A-a2-B-b1")],
        [("A_B", "A-a2-B-b1")],
    )
    check_contract(messages, records, [])


@pytest.mark.parametrize(("workers", "batch_size"), SCALES)
def test_deactivation_emits_one_tombstone_then_nothing(workers: int, batch_size: int) -> None:
    messages = [
        toggle("A", "B", True),
        asset("A", "a1"),
        asset("B", "b1"),
        toggle("A", "B", False),
        toggle("A", "B", False),
        asset("A", "a2"),
        asset("B", "b2"),
    ]
    records, _ = run_flow(messages, workers=workers, batch_size=batch_size)
    assert records[-1] == ("A_B", None)
    assert records.count(("A_B", None)) == 1
    assert records[:-1] == [("A_B", "A-a1-B-b1")]
    check_contract(messages, records, [])


@pytest.mark.parametrize(("workers", "batch_size"), SCALES)
def test_an_asset_serves_many_spreads_on_either_side(workers: int, batch_size: int) -> None:
    messages = [
        asset("A", "a1"),
        asset("B", "b1"),
        toggle("A", "B", True),
        toggle("B", "A", True),
        toggle("B", "A", True),  # already active
        asset("B", "b2"),
    ]
    records, _ = run_flow(messages, workers=workers, batch_size=batch_size)
    assert sorted(records) == sorted(
        [
            ("A_B", "A-a1-B-b1"),
            ("B_A", "B-b1-A-a1"),
            ("A_B", "A-a1-B-b2"),
            ("B_A", "B-b2-A-a1"),
        ]
    )
    check_contract(messages, records, [])


@pytest.mark.parametrize(("workers", "batch_size"), SCALES)
def test_bad_messages_become_dead_letters_and_the_flow_goes_on(
    workers: int, batch_size: int
) -> None:
    bad = [
        ("assets", b"{"),
        ("active_spreads", b'{"spread": "A_B", "asset_1": "A", "asset_2": "B", "trigger": 1}'),
        ("quotes", b"{}"),
        ("assets", None),
    ]
    messages = [bad[0], toggle("A", "B", True), bad[1], asset("A", "a"), bad[2]]
    messages += [asset("B", "b"), bad[3]]
    records, letters = run_flow(messages, workers=workers, batch_size=batch_size)
    assert records == [("A_B", "A-a-B-b")]
    assert sorted((d.stream or "", d.payload or b"") for d in letters) == sorted(
        (s or "", p or b"") for s, p in bad
    )
    assert all(d.error.startswith("expected ") for d in letters)
    check_contract(messages, records, [(d.stream, d.payload) for d in letters])


@pytest.mark.parametrize(("workers", "batch_size"), SCALES)
def test_rapid_toggles_never_mix_activations(workers: int, batch_size: int) -> None:
    messages = [asset("A", "a0"), asset("B", "b0")]
    for round_ in range(20):
        messages += [
            toggle("A", "B", True),
            asset("A", f"a{round_}"),
            toggle("A", "B", False),
            asset("B", f"b{round_}"),
        ]
    records, _ = run_flow(messages, workers=workers, batch_size=batch_size)
    assert records.count(("A_B", None)) == 20
    check_contract(messages, records, [])


@pytest.mark.parametrize(("workers", "batch_size"), SCALES)
def test_a_long_mixed_stream_satisfies_the_contract(workers: int, batch_size: int) -> None:
    import random

    names = ["A", "B", "C", "D", "X_Y", "Y"]
    messages = random_stream(random.Random(7), names, 3000, toggle_share=0.1)
    records, letters = run_flow(messages, workers=workers, batch_size=batch_size)
    assert letters == []
    model = check_contract(messages, records, [])
    assert len(records) > 1000
    # The last record of each still-open activation carries both legs' last values.
    assert sum(len(acts) for acts in model.activations.values()) > 50
