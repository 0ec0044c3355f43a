"""The pure join logic, driven directly: AssetLegs and SpreadJoin."""

from __future__ import annotations

from dataflow.join import CLOSE, OPEN, UPDATE, AssetLegs, LegEvent, SpreadJoin
from dataflow.messages import Toggle

ON = Toggle("A_B", "A", "B", True)
OFF = Toggle("A_B", "A", "B", False)
FIRST, SECOND = (1, "A", "B"), (2, "A", "B")  # activations of A_B


def test_update_without_active_spreads_only_sets_value() -> None:
    legs = AssetLegs()
    assert legs.apply("v1") == []
    assert legs.value == "v1"


def test_activation_opens_with_current_value_and_counts() -> None:
    legs = AssetLegs()
    legs.apply("v1")
    assert legs.apply(ON) == [("A_B", (OPEN, 0, FIRST, "v1"))]
    assert legs.apply(ON) == []  # already active
    assert legs.apply("v2") == [("A_B", (UPDATE, 0, FIRST, "v2"))]
    assert legs.apply(OFF) == [("A_B", (CLOSE, 0, FIRST, None))]
    assert legs.apply(OFF) == []  # not active
    assert legs.apply("v3") == []
    assert legs.apply(ON) == [("A_B", (OPEN, 0, SECOND, "v3"))]


def test_second_leg_opens_without_value() -> None:
    legs = AssetLegs()
    assert legs.apply(ON._replace(leg=1)) == [("A_B", (OPEN, 1, FIRST, None))]


def test_asset_in_many_spreads_fans_out() -> None:
    legs = AssetLegs()
    legs.apply(ON)
    legs.apply(Toggle("C_A", "C", "A", True, leg=1))
    assert legs.apply("v") == [
        ("A_B", (UPDATE, 0, FIRST, "v")),
        ("C_A", (UPDATE, 1, (1, "C", "A"), "v")),
    ]


def test_an_asset_may_be_either_leg_of_one_spread_name() -> None:
    # "A_A_A" is both A + A_A and A_A + A: asset A is leg 0 of one, leg 1 of the other.
    legs = AssetLegs()
    assert legs.apply(Toggle("A_A_A", "A", "A_A", True)) == [
        ("A_A_A", (OPEN, 0, (1, "A", "A_A"), None))
    ]
    assert legs.apply(Toggle("A_A_A", "A_A", "A", True, leg=1)) == [
        ("A_A_A", (OPEN, 1, (1, "A_A", "A"), None))
    ]
    assert len(legs.apply("v")) == 2


def test_asset_legs_snapshot_round_trip_is_independent() -> None:
    legs = AssetLegs()
    legs.apply("v")
    legs.apply(ON)
    state = legs.snapshot()
    legs.apply(OFF)
    restored = AssetLegs.restore(state)
    assert restored.value == "v"
    assert restored.active == {("A_B", 0): FIRST}
    assert restored.apply("w") == [("A_B", (UPDATE, 0, FIRST, "w"))]


def open_(leg: int, activation: tuple, value: str | None) -> LegEvent:
    return (OPEN, leg, activation, value)


def test_join_emits_once_both_legs_have_values() -> None:
    join = SpreadJoin()
    assert join.apply(open_(0, FIRST, "a1")) == []
    assert join.apply(open_(1, FIRST, "b1")) == [("A_B", "A-a1-B-b1")]
    assert join.apply((UPDATE, 1, FIRST, "b2")) == [("A_B", "A-a1-B-b2")]
    assert join.apply((UPDATE, 0, FIRST, "a2")) == [("A_B", "A-a2-B-b2")]


def test_join_waits_for_a_leg_without_value() -> None:
    join = SpreadJoin()
    assert join.apply(open_(0, FIRST, None)) == []
    assert join.apply(open_(1, FIRST, "b1")) == []
    assert join.apply((UPDATE, 1, FIRST, "b2")) == []
    assert join.apply((UPDATE, 0, FIRST, "a1")) == [("A_B", "A-a1-B-b2")]


def test_tombstone_once_both_legs_closed_and_late_updates_still_join() -> None:
    join = SpreadJoin()
    join.apply(open_(0, FIRST, "a1"))
    join.apply(open_(1, FIRST, "b1"))
    assert join.apply((CLOSE, 0, FIRST, None)) == []
    # Leg 1's update came before its close: still part of this activation.
    assert join.apply((UPDATE, 1, FIRST, "b2")) == [("A_B", "A-a1-B-b2")]
    assert not join.idle
    assert join.apply((CLOSE, 1, FIRST, None)) == [("A_B", None)]
    assert join.idle


def test_activations_never_mix() -> None:
    join = SpreadJoin()
    join.apply(open_(0, FIRST, "a1"))
    join.apply((CLOSE, 0, FIRST, None))
    # Leg 0 is already in activation 2 while leg 1 still is in activation 1.
    assert join.apply(open_(0, SECOND, "a2")) == []
    assert join.apply(open_(1, FIRST, "b1")) == [("A_B", "A-a1-B-b1")]
    assert join.apply((CLOSE, 1, FIRST, None)) == [("A_B", None)]
    assert join.apply(open_(1, SECOND, "b1")) == [("A_B", "A-a2-B-b1")]


def test_leg_pairs_sharing_a_name_never_mix() -> None:
    join = SpreadJoin()
    x, y = (1, "A_B", "C"), (1, "A", "B_C")
    join.apply(open_(0, x, "ab"))
    join.apply(open_(0, y, "a"))
    assert join.apply(open_(1, x, "c")) == [("A_B_C", "A_B-ab-C-c")]
    assert join.apply(open_(1, y, "bc")) == [("A_B_C", "A-a-B_C-bc")]


def test_join_snapshot_round_trip() -> None:
    join = SpreadJoin()
    join.apply(open_(0, FIRST, "a1"))
    restored = SpreadJoin.restore(join.snapshot())
    assert restored.apply(open_(1, FIRST, "b1")) == [("A_B", "A-a1-B-b1")]
    assert join.apply((CLOSE, 0, FIRST, None)) == []
    assert restored.pairings[FIRST].closed == [False, False]


def test_spread_joins_hold_each_spread_of_a_first_leg_and_drop_closed_ones() -> None:
    from dataflow.join import SpreadJoins

    joins = SpreadJoins()
    ac = (1, "A", "C")
    assert joins.apply("A_B", open_(0, FIRST, "a")) == []
    assert joins.apply("A_C", open_(0, ac, "a")) == []
    assert joins.apply("A_B", open_(1, FIRST, "b")) == [("A_B", "A-a-B-b")]
    assert joins.apply("A_C", open_(1, ac, "c")) == [("A_C", "A-a-C-c")]
    joins.apply("A_B", (CLOSE, 0, FIRST, None))
    assert joins.apply("A_B", (CLOSE, 1, FIRST, None)) == [("A_B", None)]
    assert set(joins.joins) == {"A_C"}
    restored = SpreadJoins.restore(joins.snapshot())
    assert restored.apply("A_C", (UPDATE, 1, ac, "c2")) == [("A_C", "A-a-C-c2")]
    joins.apply("A_C", (CLOSE, 0, ac, None))
    joins.apply("A_C", (CLOSE, 1, ac, None))
    assert joins.idle
