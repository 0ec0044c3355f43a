"""The spread join, as two pure state machines. No Bytewax import.

Keyed state is per key, so one asset-keyed step cannot see the other leg's value.
The join therefore runs in two keyed steps:

1. ``AssetLegs`` (keyed by asset) holds the asset's latest value and the spreads
   it is an active leg of, each with an *activation*. It turns value updates and
   toggles into ``LegEvent``\\ s keyed by spread.
2. ``SpreadJoin`` pairs the two legs' events *of the same activation* and emits
   joined records, and one tombstone once both legs have closed the activation.
   The joins are keyed by each spread's *first leg* (``SpreadJoins``): a spread's
   asset_1 events then stay on the worker that holds that asset's ``AssetLegs``,
   and only asset_2 events travel (half the traffic of keying by spread).

Both legs receive the same control messages in the same order (a spread's toggles
come from one ordered stream), so they number activations identically without
talking to each other. Events of one leg arrive in order; the two legs interleave
arbitrarily, which is exactly the freedom the contract allows.

A spread is identified by its name *and* its legs: with ``_`` allowed in asset
names, ``A_B_C`` may be ``A_B`` + ``C`` or ``A`` + ``B_C``. Each such pair is
joined on its own (never mixing their values) and they share the output key.
"""

from __future__ import annotations

from dataflow.messages import AssetEvent, Toggle

OPEN, UPDATE, CLOSE = 0, 1, 2

# Which activation of which leg pair an event belongs to: (n, asset_1, asset_2),
# n counting the activations of that pair. Built once per activation; both legs
# build equal ones.
Activation = tuple[int, str, str]

# What one leg tells its spread, as a plain tuple (built millions of times a
# second, where a NamedTuple would cost ten times more):
#   (kind, leg, activation, value)
#   kind: OPEN, UPDATE or CLOSE
#   leg: 0 for asset_1, 1 for asset_2
#   activation: an Activation
#   value: the leg's latest value (None: no value yet, or CLOSE)
LegEvent = tuple[int, int, Activation, "str | None"]

# A joined record: (spread, "A-<value>-B-<value>"), or (spread, None), the
# tombstone of a deactivation.
Record = tuple[str, str | None]


class AssetLegs:
    """One asset's latest value and the spreads it is an active leg of."""

    __slots__ = ("activations", "active", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        # (spread, leg) -> Activation, for the spreads this asset is active in.
        # The leg is part of the key: in "A_A_A" asset "A" may be either leg.
        self.active: dict[tuple[str, int], Activation] = {}
        # (spread, leg) -> how many times activated, kept after deactivation so
        # the next activation gets a fresh number.
        self.activations: dict[tuple[str, int], int] = {}

    def apply(self, event: AssetEvent) -> list[tuple[str, LegEvent]]:
        """Apply one value update or toggle; return the ``(spread, LegEvent)``\\ s."""
        if type(event) is str:
            self.value = event
            return [
                (spread, (UPDATE, leg, activation, event))
                for (spread, leg), activation in self.active.items()
            ]
        return self.toggle(event)

    def toggle(self, toggle: Toggle) -> list[tuple[str, LegEvent]]:
        spread, leg = toggle.spread, toggle.leg
        key = (spread, leg)
        if toggle.on:
            if key in self.active:
                return []  # already active: nothing happens
            count = self.activations.get(key, 0) + 1
            self.activations[key] = count
            activation = self.active[key] = (count, toggle.asset_1, toggle.asset_2)
            return [(spread, (OPEN, leg, activation, self.value))]
        activation = self.active.pop(key, None)
        if activation is None:
            return []  # not active: nothing happens
        return [(spread, (CLOSE, leg, activation, None))]

    def snapshot(self) -> tuple[str | None, dict, dict]:
        return self.value, dict(self.active), dict(self.activations)

    @classmethod
    def restore(cls, state: tuple[str | None, dict, dict]) -> AssetLegs:
        legs = cls()
        legs.value, active, activations = state
        legs.active, legs.activations = dict(active), dict(activations)
        return legs


class Pairing:
    """One activation of a spread as the join sees it so far."""

    __slots__ = ("closed", "prefixes", "spread", "values")

    def __init__(self, asset_1: str, asset_2: str) -> None:
        self.spread = f"{asset_1}_{asset_2}"
        self.prefixes = (f"{asset_1}-", f"-{asset_2}-")
        self.values: list[str | None] = [None, None]
        self.closed = [False, False]

    def record(self) -> Record:
        first, second = self.values
        prefix_1, prefix_2 = self.prefixes
        return self.spread, f"{prefix_1}{first}{prefix_2}{second}"


class SpreadJoin:
    """One spread's open activations; pairs leg events into joined records."""

    __slots__ = ("pairings",)

    def __init__(self) -> None:
        # Activation -> Pairing. More than one is open only while one leg has
        # already moved on to a newer activation that the other has not reached
        # (or while two leg pairs share the spread's name).
        self.pairings: dict[Activation, Pairing] = {}

    def apply(self, event: LegEvent) -> list[Record]:
        """Apply one leg event; return the records (or the tombstone) it causes."""
        kind, leg, activation, value = event
        pairing = self.pairings.get(activation)
        if pairing is None:
            pairing = self.pairings[activation] = Pairing(activation[1], activation[2])
        if kind == CLOSE:
            pairing.closed[leg] = True
            if pairing.closed[0] and pairing.closed[1]:
                del self.pairings[activation]
                return [(pairing.spread, None)]
            return []
        if value is None:
            return []  # OPEN of a leg without a value yet: not a feed event
        values = pairing.values
        values[leg] = value
        if values[0] is None or values[1] is None:
            return []
        return [pairing.record()]

    @property
    def idle(self) -> bool:
        """True when no activation is open: the state can be dropped."""
        return not self.pairings

    def snapshot(self) -> dict[Activation, tuple]:
        return {
            activation: (tuple(p.values), tuple(p.closed))
            for activation, p in self.pairings.items()
        }

    @classmethod
    def restore(cls, state: dict[Activation, tuple]) -> SpreadJoin:
        join = cls()
        for activation, (values, closed) in state.items():
            pairing = Pairing(activation[1], activation[2])
            pairing.values, pairing.closed = list(values), list(closed)
            join.pairings[activation] = pairing
        return join


class SpreadJoins:
    """The joins of all spreads whose first leg (asset_1) is one asset."""

    __slots__ = ("joins",)

    def __init__(self) -> None:
        self.joins: dict[str, SpreadJoin] = {}

    def apply(self, spread: str, event: LegEvent) -> list[Record]:
        join = self.joins.get(spread)
        if join is None:
            join = self.joins[spread] = SpreadJoin()
        records = join.apply(event)
        if join.idle:
            del self.joins[spread]  # no activation open: nothing to keep
        return records

    @property
    def idle(self) -> bool:
        return not self.joins

    def snapshot(self) -> dict[str, dict]:
        return {spread: join.snapshot() for spread, join in self.joins.items()}

    @classmethod
    def restore(cls, state: dict[str, dict]) -> SpreadJoins:
        joins = cls()
        joins.joins = {spread: SpreadJoin.restore(s) for spread, s in state.items()}
        return joins
