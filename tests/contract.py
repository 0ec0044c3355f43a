"""An independent, plainly written model of the spread-join contract, and a checker.

It shares no code with ``dataflow``: it re-reads the messages with ``json`` and
follows the issue's words one by one. Given the input in an order that every key
saw (one ordered stream), it computes each spread's activations and each leg's
*feed* (its value at activation, if any, then each update while active). The
checker then asks: are the records of each activation what *some* interleaving of
the two feeds gives, when each feed event emits one record once both legs have
a value? And is each closed activation followed by exactly one tombstone?
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class Activation:
    asset_1: str
    asset_2: str
    feed_1: list[str] = field(default_factory=list)
    feed_2: list[str] = field(default_factory=list)
    closed: bool = False

    def record(self, value_1: str, value_2: str) -> str:
        return f"{self.asset_1}-{value_1}-{self.asset_2}-{value_2}"


# A spread is its name and its legs: "A_B_C" may be "A_B" + "C" or "A" + "B_C".
Identity = tuple[str, str, str]  # (spread, asset_1, asset_2)


@dataclass
class Model:
    activations: dict[Identity, list[Activation]] = field(default_factory=dict)
    dead_letters: list[tuple[str | None, bytes | None]] = field(default_factory=list)
    latest: dict[str, str] = field(default_factory=dict)


def _json_object(payload: bytes | None) -> dict | None:
    try:
        doc = json.loads(payload)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _asset_update(payload: bytes | None) -> tuple[str, str] | None:
    doc = _json_object(payload)
    if doc is None:
        return None
    asset, value = doc.get("asset"), doc.get("value")
    if isinstance(asset, str) and asset != "" and isinstance(value, str):
        return asset, value
    return None


def _control(payload: bytes | None) -> tuple[str, str, str, bool] | None:
    doc = _json_object(payload)
    if doc is None:
        return None
    spread, a1, a2, trigger = (doc.get(k) for k in ("spread", "asset_1", "asset_2", "trigger"))
    for name in (spread, a1, a2):
        if not isinstance(name, str) or name == "":
            return None
    if trigger is not True and trigger is not False:
        return None
    if a1 == a2 or spread != a1 + "_" + a2:
        return None
    return spread, a1, a2, trigger


def model(messages: Iterable[tuple[str | None, bytes | None]]) -> Model:
    """Play the messages in order, the way the contract describes."""
    m = Model()
    active: dict[Identity, Activation] = {}
    for stream, payload in messages:
        if stream == "assets":
            update = _asset_update(payload)
            if update is None:
                m.dead_letters.append((stream, payload))
                continue
            asset, value = update
            m.latest[asset] = value
            for activation in active.values():
                if activation.asset_1 == asset:
                    activation.feed_1.append(value)
                if activation.asset_2 == asset:
                    activation.feed_2.append(value)
        elif stream == "active_spreads":
            control = _control(payload)
            if control is None:
                m.dead_letters.append((stream, payload))
                continue
            spread, a1, a2, trigger = control
            identity = (spread, a1, a2)
            if trigger and identity not in active:
                activation = Activation(a1, a2)
                if a1 in m.latest:
                    activation.feed_1.append(m.latest[a1])
                if a2 in m.latest:
                    activation.feed_2.append(m.latest[a2])
                active[identity] = activation
                m.activations.setdefault(identity, []).append(activation)
            elif not trigger and identity in active:
                active.pop(identity).closed = True
        else:
            m.dead_letters.append((stream, payload))
    return m


def is_interleaving(activation: Activation, values: Sequence[str]) -> bool:
    """Could some interleaving of the two feeds emit exactly ``values``?"""
    feed_1, feed_2 = activation.feed_1, activation.feed_2
    n1, n2 = len(feed_1), len(feed_2)

    def closure(states: set[tuple[int, int]]) -> set[tuple[int, int]]:
        # While one leg has no value, the other leg's events emit nothing.
        out = set(states)
        for i, j in states:
            if j == 0:
                out.update((k, 0) for k in range(i, n1 + 1))
            if i == 0:
                out.update((0, k) for k in range(j, n2 + 1))
        return out

    states = closure({(0, 0)})
    for value in values:
        nxt = set()
        for i, j in states:
            if i < n1 and j > 0 and activation.record(feed_1[i], feed_2[j - 1]) == value:
                nxt.add((i + 1, j))
            if j < n2 and i > 0 and activation.record(feed_1[i - 1], feed_2[j]) == value:
                nxt.add((i, j + 1))
        states = closure(nxt)
        if not states:
            return False
    return (n1, n2) in states


def _brief(items: list[str], most: int = 12) -> str:
    """A list for an error message: all of a short one, the ends of a long one."""
    if len(items) <= most:
        return repr(items)
    half = most // 2
    return f"[{', '.join(map(repr, items[:half]))}, ... {len(items) - most} more ..., " + (
        f"{', '.join(map(repr, items[-half:]))}] ({len(items)} in all)"
    )


def _check_name(
    spread: str,
    values: list[str | None],
    identities: dict[Identity, list[Activation]],
) -> None:
    """Split one spread name's records into its leg pairs' activations and check each."""
    order = list(identities)
    acts = [identities[identity] for identity in order]

    def owner(value: str) -> int:
        for n, (_spread, a1, a2) in enumerate(order):
            if value.startswith(f"{a1}-") and f"-{a2}-" in value:
                return n
        raise AssertionError(f"{spread}: record {value!r} matches none of its leg pairs")

    def describe(n: int, k: int, segment: list[str]) -> str:
        activation = acts[n][k]
        return (
            f"{spread} ({activation.asset_1} + {activation.asset_2}), activation {k + 1}: "
            f"records {_brief(segment)} are no interleaving of feeds "
            f"{_brief(activation.feed_1)} and {_brief(activation.feed_2)}"
        )

    # (tombstones seen, records of the current activation) per leg pair. A record
    # names its leg pair; a tombstone does not, so with several pairs under one
    # name every pair whose activation is closed is tried (depth-first).
    def search(i: int, state: tuple[tuple[int, tuple[str, ...]], ...]) -> str | None:
        while i < len(values) and values[i] is not None:
            n = owner(values[i])  # type: ignore[arg-type]
            k, segment = state[n]
            if k >= len(acts[n]):
                return f"{spread}: record {values[i]!r} after the last tombstone"
            state = (*state[:n], (k, (*segment, values[i])), *state[n + 1 :])  # type: ignore[arg-type]
            i += 1
        if i == len(values):
            for n, (k, segment) in enumerate(state):
                closed = sum(a.closed for a in acts[n])
                if k != closed:
                    return f"{spread}: {closed} deactivations but {k} tombstones"
                if k < len(acts[n]) and not is_interleaving(acts[n][k], list(segment)):
                    return describe(n, k, list(segment))
                if k == len(acts[n]) and segment:
                    return f"{spread}: records after the last tombstone: {segment}"
            return None
        failure = f"{spread}: a tombstone where no activation had closed: {values}"
        for n, (k, segment) in enumerate(state):
            if k < len(acts[n]) and acts[n][k].closed:
                if not is_interleaving(acts[n][k], list(segment)):
                    failure = describe(n, k, list(segment))
                    continue
                failure = search(i + 1, (*state[:n], (k + 1, ()), *state[n + 1 :]))
                if failure is None:
                    return None
        return failure

    failure = search(0, tuple((0, ()) for _ in order))
    assert failure is None, failure


def check_contract(
    messages: Sequence[tuple[str | None, bytes | None]],
    records: Sequence[tuple[str, str | None]],
    dead_letters: Sequence[tuple[str | None, bytes | None]] | None = None,
) -> Model:
    """Assert that ``records`` (spread, value-or-None), in output order, obey the
    contract for ``messages``; and, if given, that the dead letters (stream,
    payload) are exactly the bad messages. Returns the model."""
    m = model(messages)
    by_spread: dict[str, list[str | None]] = {}
    for spread, value in records:
        by_spread.setdefault(spread, []).append(value)
    by_name: dict[str, dict[Identity, list[Activation]]] = {}
    for identity, activations in m.activations.items():
        by_name.setdefault(identity[0], {})[identity] = activations
    unknown = set(by_spread) - set(by_name)
    assert not unknown, f"records for spreads that were never active: {sorted(unknown)}"
    for spread, identities in by_name.items():
        _check_name(spread, by_spread.get(spread, []), identities)
    if dead_letters is not None:
        assert Counter(dead_letters) == Counter(m.dead_letters), (
            f"dead letters {list(dead_letters)} != expected {m.dead_letters}"
        )
    return m
