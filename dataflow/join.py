"""The spread join, as two pure state machines. No Bytewax import.

Keyed state is per key, so one asset-keyed step cannot see the other leg's value.
The join therefore runs in two keyed steps:

1. ``AssetLegs`` (keyed by asset) holds the asset's latest value and the spreads
   it is an active leg of, each with an *activation number*. It turns value
   updates and toggles into ``LegEvent``\\ s keyed by spread.
2. ``SpreadJoin`` (keyed by spread) pairs the two legs' events *of the same
   activation* and emits joined records, and one tombstone once both legs have
   closed the activation.

Both legs receive the same control messages in the same order (a spread's toggles
come from one ordered stream), so they number activations identically without
talking to each other. Events of one leg arrive in order; the two legs interleave
arbitrarily, which is exactly the freedom the contract allows.
"""

from __future__ import annotations

from dataflow.messages import AssetEvent, Toggle

OPEN, UPDATE, CLOSE = 0, 1, 2


# What one leg tells its spread, as a plain tuple (built millions of times a
# second, where a NamedTuple would cost ten times more):
#   (kind, leg, activation, value, names)
#   kind: OPEN, UPDATE or CLOSE
#   leg: 0 for asset_1, 1 for asset_2
#   activation: the n-th activation of this spread, counted by each leg alike
#   value: the leg's latest value (None: no value yet, or CLOSE)
#   names: (asset_1, asset_2) on OPEN, else None
LegEvent = tuple[int, int, int, "str | None", "tuple[str, str] | None"]


# A joined record: (spread, "A-<value>-B-<value>"), or (spread, None), the
# tombstone of a deactivation.
Record = tuple[str, str | None]


class AssetLegs:
    """One asset's latest value and the spreads it is an active leg of."""

    __slots__ = ("activations", "active", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        # spread -> (leg, activation) for the spreads this asset is active in.
        self.active: dict[str, tuple[int, int]] = {}
        # spread -> how many times it was activated, kept after deactivation so
        # the next activation gets a fresh number.
        self.activations: dict[str, int] = {}

    def apply(self, event: AssetEvent) -> list[tuple[str, LegEvent]]:
        """Apply one value update or toggle; return the ``(spread, LegEvent)``\\ s."""
        if type(event) is str:
            self.value = event
            return [
                (spread, (UPDATE, leg, activation, event, None))
                for spread, (leg, activation) in self.active.items()
            ]
        return self.toggle(event)

    def toggle(self, toggle: Toggle) -> list[tuple[str, LegEvent]]:
        spread = toggle.spread
        if toggle.on:
            if spread in self.active:
                return []  # already active: nothing happens
            leg = toggle.leg
            activation = self.activations.get(spread, 0) + 1
            self.activations[spread] = activation
            self.active[spread] = (leg, activation)
            names = (toggle.asset_1, toggle.asset_2)
            return [(spread, (OPEN, leg, activation, self.value, names))]
        if spread not in self.active:
            return []  # not active: nothing happens
        leg, activation = self.active.pop(spread)
        return [(spread, (CLOSE, leg, activation, None, None))]

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

    def __init__(self) -> None:
        self.spread = ""  # known from the first OPEN
        self.prefixes = ("", "")  # ("A-", "-B-")
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
        # activation -> Pairing. More than one is open only while one leg has
        # already moved on to a newer activation that the other has not reached.
        self.pairings: dict[int, Pairing] = {}

    def apply(self, event: LegEvent) -> list[Record]:
        """Apply one leg event; return the records (or the tombstone) it causes."""
        kind, leg, activation, value, names = event
        pairing = self.pairings.get(activation)
        if pairing is None:
            pairing = self.pairings[activation] = Pairing()
        if kind == CLOSE:
            pairing.closed[leg] = True
            if pairing.closed[0] and pairing.closed[1]:
                del self.pairings[activation]
                return [(pairing.spread, None)]
            return []
        if kind == OPEN:
            asset_1, asset_2 = names  # type: ignore[misc]
            pairing.spread = f"{asset_1}_{asset_2}"
            pairing.prefixes = (f"{asset_1}-", f"-{asset_2}-")
            if value is None:
                return []  # the leg has no value yet: not a feed event
        values = pairing.values
        values[leg] = value
        if values[0] is None or values[1] is None:
            return []
        return [pairing.record()]

    @property
    def idle(self) -> bool:
        """True when no activation is open: the state can be dropped."""
        return not self.pairings

    def snapshot(self) -> dict[int, tuple]:
        return {
            activation: (p.spread, p.prefixes, tuple(p.values), tuple(p.closed))
            for activation, p in self.pairings.items()
        }

    @classmethod
    def restore(cls, state: dict[int, tuple]) -> SpreadJoin:
        join = cls()
        for activation, (spread, prefixes, values, closed) in state.items():
            pairing = Pairing()
            pairing.spread, pairing.prefixes = spread, prefixes
            pairing.values, pairing.closed = list(values), list(closed)
            join.pairings[activation] = pairing
        return join
