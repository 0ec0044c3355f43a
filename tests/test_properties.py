"""Property tests: random interleavings of updates, toggles and bad messages run
through the real dataflow, checked against the independent model in
``tests/contract.py``, at 1 and 2 workers, with small and large batches."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract import Activation, check_contract, is_interleaving
from tests.helpers import Message, asset, run_flow, toggle

# Names with the separator in them: spread "A_B_C" is both A_B + C and A + B_C,
# and "A_A_A" both A + A_A and A_A + A; such leg pairs must be joined apart.
ASSETS = ["A", "B", "C", "A_B", "B_C", "A_A"]
SHARED_NAMES = [["A_B", "C"], ["A", "B_C"], ["A", "A_A"], ["A_A", "A"]]
VALUES = [f"0x{n:016x}" for n in range(4)]  # few values, so repeats happen

updates = st.builds(asset, st.sampled_from(ASSETS), st.sampled_from(VALUES))
pairs = st.one_of(
    st.lists(st.sampled_from(ASSETS), min_size=2, max_size=2, unique=True),
    st.sampled_from(SHARED_NAMES),
)
toggles = st.builds(lambda pair, on: toggle(pair[0], pair[1], on), pairs, st.booleans())
bad_messages = st.one_of(
    st.tuples(st.sampled_from(["assets", "active_spreads"]), st.binary(max_size=12)),
    st.tuples(st.just("assets"), st.just(b'{"asset": "A", "value": 1}')),
    st.tuples(
        st.just("active_spreads"),
        st.sampled_from(
            [
                b'{"spread": "A_B", "asset_1": "A", "asset_2": "B", "trigger": "true"}',
                b'{"spread": "B_A", "asset_1": "A", "asset_2": "B", "trigger": true}',
                b'{"spread": "A_A", "asset_1": "A", "asset_2": "A", "trigger": true}',
            ]
        ),
    ),
    st.tuples(st.just("quotes"), st.just(b"{}")),
    st.tuples(st.just("assets"), st.none()),
)
message = st.one_of(updates, updates, toggles, bad_messages)
streams = st.lists(message, max_size=80)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(messages: list[Message], workers: int, batch_size: int) -> None:
    records, letters = run_flow(messages, workers=workers, batch_size=batch_size)
    check_contract(messages, records, [(d.stream, d.payload) for d in letters])
    for letter in letters:
        assert letter.error.startswith("expected "), letter


@PROPERTY
@given(streams)
def test_contract_one_worker_one_item_batches(messages: list[Message]) -> None:
    check(messages, workers=1, batch_size=1)


@PROPERTY
@given(streams, st.sampled_from([3, 1000]))
def test_contract_one_worker_large_batches(messages: list[Message], batch_size: int) -> None:
    check(messages, workers=1, batch_size=batch_size)


@PROPERTY
@given(streams, st.sampled_from([1, 5, 1000]))
def test_contract_two_workers(messages: list[Message], batch_size: int) -> None:
    check(messages, workers=2, batch_size=batch_size)


# The checker itself must be able to fail: a few hand-made counterexamples.


def test_checker_rejects_a_lost_update() -> None:
    messages = [asset("A", "a1"), asset("B", "b1"), toggle("A", "B", True), asset("A", "a2")]
    try:
        check_contract(messages, [("A_B", "A-a1-B-b1")])
    except AssertionError:
        return
    raise AssertionError("a lost last update was accepted")


def test_checker_rejects_duplicates_mixing_and_missing_tombstones() -> None:
    act = Activation("A", "B", ["a1", "a2"], ["b1"])
    assert is_interleaving(act, ["A-a1-B-b1", "A-a2-B-b1"])
    assert is_interleaving(act, ["A-a2-B-b1"])
    assert not is_interleaving(act, ["A-a1-B-b1", "A-a1-B-b1", "A-a2-B-b1"])
    assert not is_interleaving(act, ["A-a2-B-b1", "A-a1-B-b1"])
    assert not is_interleaving(act, ["A-a1-B-b1"])
    messages = [asset("A", "a"), asset("B", "b"), toggle("A", "B", True), toggle("A", "B", False)]
    for wrong in ([("A_B", "A-a-B-b")], [("A_B", None)], [("A_B", None), ("A_B", "A-a-B-b")]):
        try:
            check_contract(messages, wrong)
        except AssertionError:
            continue
        raise AssertionError(f"accepted {wrong}")
    check_contract(messages, [("A_B", "A-a-B-b"), ("A_B", None)])


def test_checker_rejects_records_of_inactive_spreads_and_wrong_dead_letters() -> None:
    messages = [asset("A", "a"), ("assets", b"{")]
    for records, letters in (([("A_B", "A-a-B-b")], [("assets", b"{")]), ([], [])):
        try:
            check_contract(messages, records, letters)
        except AssertionError:
            continue
        raise AssertionError(f"accepted {records}, {letters}")
    assert orjson.loads(b"{}") == {}
