"""Write the benchmark tape: asset updates, with spreads toggled now and then.

Default: 1,000,000 lines, 200 assets, 400 spreads activated up front, then one
toggle every 1,000 lines (alternately off an active spread, on an inactive one,
so about 400 stay active), the rest asset updates with random 64-bit values.

    python -m bench.make_tape OUT [--lines N] [--assets N] [--spreads N] [--seed N]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from connectors.serde import encode_tape_line
from generators.streams import control_message


def sample_pairs(names: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """``count`` distinct ordered pairs of distinct names, without listing all pairs."""
    if count > len(names) * (len(names) - 1):
        raise ValueError(f"expected at most {len(names) * (len(names) - 1)} spreads, got {count}")
    chosen: dict[tuple[str, str], None] = {}
    while len(chosen) < count:
        a, b = rng.sample(names, 2)
        chosen[(a, b)] = None
    return list(chosen)


def update_line(asset: str, rng: random.Random) -> bytes:
    value = f"0x{rng.getrandbits(64):016x}"
    return encode_tape_line(
        "assets", b'{"asset":"%s","value":"%s"}' % (asset.encode(), value.encode())
    )


def write_tape(
    path: Path,
    lines: int = 1_000_000,
    assets: int = 200,
    spreads: int = 400,
    toggle_every: int = 1000,
    seed: int = 1,
    prime: bool = False,
) -> None:
    """``prime``: give every asset a value before the spreads are activated."""
    rng = random.Random(seed)
    names = [f"ASSET{n:06d}" for n in range(assets)]
    active = sample_pairs(names, spreads, rng)
    active_set = set(active)
    out: list[bytes] = []
    if prime:
        out += [update_line(asset, rng) for asset in names]
    out += [encode_tape_line("active_spreads", control_message(*p, True)) for p in active]
    switch_off = True
    for n in range(max(0, lines - len(out))):
        if n % toggle_every == toggle_every - 1:
            turn_off = switch_off and bool(active)
            if turn_off:
                pair = active.pop(rng.randrange(len(active)))
                active_set.discard(pair)
            else:
                pair = tuple(rng.sample(names, 2))
                while pair in active_set:
                    pair = tuple(rng.sample(names, 2))
                active.append(pair)
                active_set.add(pair)
            out.append(encode_tape_line("active_spreads", control_message(*pair, not turn_off)))
            switch_off = not switch_off
        else:
            out.append(update_line(names[rng.randrange(assets)], rng))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--spreads", type=int, default=400)
    parser.add_argument("--toggle-every", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prime", action="store_true", help="a value for every asset first")
    args = parser.parse_args()
    write_tape(
        args.out, args.lines, args.assets, args.spreads, args.toggle_every, args.seed, args.prime
    )


if __name__ == "__main__":
    main()
