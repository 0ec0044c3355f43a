"""Generators and the source that plays them, with injected randomness and clock."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from connectors.sources import GeneratorSource
from dataflow.messages import parse_asset, parse_control
from generators.streams import asset_values, seeded, spread_toggles


def test_asset_values_are_timed_64_bit_hex_at_the_rate() -> None:
    events = list(itertools.islice(asset_values("A", 4.0, random.Random(1)), 5))
    assert [at for at, _ in events] == [0.0, 0.25, 0.5, 0.75, 1.0]
    for _, payload in events:
        asset, value = parse_asset(payload)  # type: ignore[misc]
        assert asset == "A"
        assert value.startswith("0x") and len(value) == 18
        int(value, 16)


def test_same_seed_same_streams_and_streams_are_independent() -> None:
    def take(rng: random.Random) -> list:
        return list(itertools.islice(asset_values("A", 1.0, rng), 10))

    assert take(seeded(5, "assets", "A")) == take(seeded(5, "assets", "A"))
    assert take(seeded(5, "assets", "A")) != take(seeded(6, "assets", "A"))
    a = [p for _, p in take(seeded(5, "assets", "A"))]
    b = [p.replace(b'"B"', b'"A"') for _, p in take(seeded(5, "assets", "B"))]
    assert a != b


def test_spread_toggles_start_with_a_few_and_alternate_per_spread() -> None:
    events = list(itertools.islice(spread_toggles("ABCD", random.Random(3), 3, 2.0), 200))
    toggles = [(at, parse_control(payload)) for at, payload in events]
    assert [at for at, _ in toggles[:3]] == [0.0, 0.0, 0.0]
    assert all(t.on for _, t in toggles[:3])  # type: ignore[union-attr]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(toggles[2:])]
    assert all(1.0 <= gap <= 3.0 for gap in gaps)
    state: dict[str, bool] = {}
    for _, t in toggles:
        assert not isinstance(t, str), t
        assert state.get(t.spread, False) != t.on  # every toggle changes something
        state[t.spread] = t.on


def test_generators_reject_impossible_settings() -> None:
    with pytest.raises(ValueError, match="expected a rate above 0"):
        next(asset_values("A", 0, random.Random()))
    with pytest.raises(ValueError, match="expected at least two assets"):
        next(spread_toggles(["A"], random.Random()))


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_generator_source_plays_events_when_due_and_ends_at_duration() -> None:
    clock = FakeClock()
    source = GeneratorSource(
        "assets", {"A": lambda: asset_values("A", 2.0, random.Random(0))}, 2.0, clock
    )
    part = source.build_part("in", "A", None)
    assert len(part.next_batch()) == 1  # t=0
    assert part.next_batch() == []
    assert part.next_awake() == clock.now + timedelta(seconds=0.5)
    clock.advance(1.2)
    batch = part.next_batch()  # t=0.5, 1.0
    assert [orjson.loads(m.payload)["asset"] for m in batch] == ["A", "A"]
    assert all(m.stream == "assets" for m in batch)
    clock.advance(10)
    assert len(part.next_batch()) == 1  # t=1.5, and nothing at or after 2.0
    with pytest.raises(StopIteration):
        part.next_batch()


def test_generator_source_wakes_for_the_end_when_no_event_is_due_before_it() -> None:
    clock = FakeClock()
    source = GeneratorSource("c", {"c": lambda: iter([(0.0, b"x"), (9.0, b"y")])}, 3.0, clock)
    part = source.build_part("in", "c", None)
    assert len(part.next_batch()) == 1
    assert part.next_awake() == clock.now + timedelta(seconds=3.0)
    clock.advance(3.0)
    with pytest.raises(StopIteration):
        part.next_batch()
