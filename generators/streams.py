"""The demo's two timed streams: asset values and spread toggles."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

import orjson

Timed = tuple[float, bytes]  # (seconds from start, raw payload)


def asset_values(asset: str, rate: float, rng: random.Random) -> Iterator[Timed]:
    """``asset`` moves ``rate`` times a second, to a random 64-bit hex value."""
    if rate <= 0:
        raise ValueError(f"expected a rate above 0 updates/s, got {rate}")
    for tick in itertools.count():
        value = f"0x{rng.getrandbits(64):016x}"
        yield tick / rate, orjson.dumps({"asset": asset, "value": value})


def control_message(asset_1: str, asset_2: str, trigger: bool) -> bytes:
    return orjson.dumps(
        {
            "spread": f"{asset_1}_{asset_2}",
            "asset_1": asset_1,
            "asset_2": asset_2,
            "trigger": trigger,
        }
    )


def spread_toggles(
    assets: Sequence[str],
    rng: random.Random,
    initial: int = 3,
    every: float = 3.0,
) -> Iterator[Timed]:
    """Activate ``initial`` random spreads at once, then every ``every`` seconds
    on average flip one random spread among all ordered pairs: on if it is off,
    off if it is on."""
    pairs = [(a, b) for a in assets for b in assets if a != b]
    if not pairs:
        raise ValueError(f"expected at least two assets, got {list(assets)}")
    active: set[tuple[str, str]] = set()
    for pair in rng.sample(pairs, min(initial, len(pairs))):
        active.add(pair)
        yield 0.0, control_message(*pair, True)
    at = 0.0
    while True:
        at += rng.uniform(0.5 * every, 1.5 * every)
        pair = rng.choice(pairs)
        trigger = pair not in active
        if trigger:
            active.add(pair)
        else:
            active.discard(pair)
        yield at, control_message(*pair, trigger)


def seeded(seed: int | None, *labels: str) -> random.Random:
    """A random generator for one stream: repeatable when ``seed`` is given,
    and independent of the other streams' generators."""
    if seed is None:
        return random.Random()
    return random.Random(f"{seed}:{':'.join(labels)}")
