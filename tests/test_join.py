"""The pure join logic, driven directly: AssetLegs and SpreadJoin."""

from __future__ import annotations

from dataflow.join import CLOSE, OPEN, UPDATE, AssetLegs, LegEvent, SpreadJoin
from dataflow.messages import Toggle

ON = Toggle("A_B", "A", "B", True)
OFF = Toggle("A_B", "A", "B", False)


def test_update_without_active_spreads_only_sets_value() -> None:
    legs = AssetLegs()
    assert legs.apply("v1") == []
    assert legs.value == "v1"


def test_activation_opens_with_current_value_and_counts() -> None:
    legs = AssetLegs()
    legs.apply("v1")
    assert legs.apply(ON) == [("A_B", (OPEN, 0, 1, "v1", ("A", "B")))]
    assert legs.apply(ON) == []  # already active
    assert legs.apply("v2") == [("A_B", (UPDATE, 0, 1, "v2", None))]
    assert legs.apply(OFF) == [("A_B", (CLOSE, 0, 1, None, None))]
    assert legs.apply(OFF) == []  # not active
    assert legs.apply("v3") == []
    assert legs.apply(ON._replace(leg=0)) == [("A_B", (OPEN, 0, 2, "v3", ("A", "B")))]


def test_second_leg_opens_without_value() -> None:
    legs = AssetLegs()
    assert legs.apply(ON._replace(leg=1)) == [("A_B", (OPEN, 1, 1, None, ("A", "B")))]


def test_asset_in_many_spreads_fans_out() -> None:
    legs = AssetLegs()
    legs.apply(ON)
    legs.apply(Toggle("C_A", "C", "A", True, leg=1))
    assert legs.apply("v") == [
        ("A_B", (UPDATE, 0, 1, "v", None)),
        ("C_A", (UPDATE, 1, 1, "v", None)),
    ]


def test_asset_legs_snapshot_round_trip_is_independent() -> None:
    legs = AssetLegs()
    legs.apply("v")
    legs.apply(ON)
    state = legs.snapshot()
    legs.apply(OFF)
    restored = AssetLegs.restore(state)
    assert restored.value == "v"
    assert restored.active == {"A_B": (0, 1)}
    assert restored.apply("w") == [("A_B", (UPDATE, 0, 1, "w", None))]


def open_(leg: int, activation: int, value: str | None) -> LegEvent:
    return (OPEN, leg, activation, value, ("A", "B"))


def test_join_emits_once_both_legs_have_values() -> None:
    join = SpreadJoin()
    assert join.apply(open_(0, 1, "a1")) == []
    assert join.apply(open_(1, 1, "b1")) == [("A_B", "A-a1-B-b1")]
    assert join.apply((UPDATE, 1, 1, "b2", None)) == [("A_B", "A-a1-B-b2")]
    assert join.apply((UPDATE, 0, 1, "a2", None)) == [("A_B", "A-a2-B-b2")]


def test_join_waits_for_a_leg_without_value() -> None:
    join = SpreadJoin()
    assert join.apply(open_(0, 1, None)) == []
    assert join.apply(open_(1, 1, "b1")) == []
    assert join.apply((UPDATE, 1, 1, "b2", None)) == []
    assert join.apply((UPDATE, 0, 1, "a1", None)) == [("A_B", "A-a1-B-b2")]


def test_tombstone_once_both_legs_closed_and_late_updates_still_join() -> None:
    join = SpreadJoin()
    join.apply(open_(0, 1, "a1"))
    join.apply(open_(1, 1, "b1"))
    assert join.apply((CLOSE, 0, 1, None, None)) == []
    # Leg 1's update came before its close: still part of this activation.
    assert join.apply((UPDATE, 1, 1, "b2", None)) == [("A_B", "A-a1-B-b2")]
    assert not join.idle
    assert join.apply((CLOSE, 1, 1, None, None)) == [("A_B", None)]
    assert join.idle


def test_activations_never_mix() -> None:
    join = SpreadJoin()
    join.apply(open_(0, 1, "a1"))
    join.apply((CLOSE, 0, 1, None, None))
    # Leg 0 is already in activation 2 while leg 1 still is in activation 1.
    assert join.apply(open_(0, 2, "a2")) == []
    assert join.apply(open_(1, 1, "b1")) == [("A_B", "A-a1-B-b1")]
    assert join.apply((CLOSE, 1, 1, None, None)) == [("A_B", None)]
    assert join.apply(open_(1, 2, "b1")) == [("A_B", "A-a2-B-b1")]


def test_join_snapshot_round_trip() -> None:
    join = SpreadJoin()
    join.apply(open_(0, 1, "a1"))
    restored = SpreadJoin.restore(join.snapshot())
    assert restored.apply(open_(1, 1, "b1")) == [("A_B", "A-a1-B-b1")]
    assert join.apply((CLOSE, 0, 1, None, None)) == []
    assert restored.pairings[1].closed == [False, False]
