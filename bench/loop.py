"""The single-core limit: the whole job as one plain Python loop.

Reads a tape, parses and validates each message (the same functions the flow
uses), joins, serializes and writes records and dead letters. No framework, both
legs in one dict: what a hand-written single-threaded program would do. Its GC
is tuned like the flow's (``dataflow.flow.tune_gc``), so the ratio compares
like with like.

    python -m bench.loop TAPE OUT DLQ
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from connectors.serde import decode_tape_line, encode_dead_letter, encode_record
from dataflow.messages import (
    ACTIVE_SPREADS,
    ASSETS,
    DeadLetter,
    Toggle,
    parse_asset,
    parse_control,
)


def run(tape: Path, out_path: Path, dlq_path: Path) -> int:
    latest: dict[str, str] = {}
    # asset -> {spread: (asset_1, asset_2)} for the active spreads it is a leg of
    legs: dict[str, dict[str, tuple[str, str]]] = {}
    active: set[str] = set()
    source = f"tape:{tape}"
    count = 0
    with tape.open("rb") as lines, out_path.open("wb") as out, dlq_path.open("wb") as dlq:
        write, write_dlq = out.write, dlq.write

        def emit(spread: str, a1: str, a2: str) -> None:
            write(encode_record((spread, f"{a1}-{latest[a1]}-{a2}-{latest[a2]}")) + b"\n")

        for number, line in enumerate(lines, 1):
            message = decode_tape_line(line, (source, None, number))  # type: ignore[arg-type]
            if message is None:
                continue
            stream, payload, origin = message
            if stream == ASSETS:
                parsed = parse_asset(payload)
                if type(parsed) is tuple:
                    asset, latest[asset] = parsed
                    for spread, (a1, a2) in legs.get(asset, {}).items():
                        if a1 in latest and a2 in latest:
                            emit(spread, a1, a2)
                            count += 1
                    continue
            elif stream == ACTIVE_SPREADS:
                parsed = parse_control(payload)
                if type(parsed) is Toggle:
                    spread, a1, a2, on, _leg = parsed
                    if on and spread not in active:
                        active.add(spread)
                        legs.setdefault(a1, {})[spread] = (a1, a2)
                        legs.setdefault(a2, {})[spread] = (a1, a2)
                        if a1 in latest and a2 in latest:
                            emit(spread, a1, a2)
                            count += 1
                    elif not on and spread in active:
                        active.discard(spread)
                        del legs[a1][spread]
                        del legs[a2][spread]
                        write(encode_record((spread, None)) + b"\n")
                        count += 1
                    continue
            else:
                parsed = f"expected stream 'assets' or 'active_spreads', got {stream!r}"
            write_dlq(encode_dead_letter(DeadLetter(stream, parsed, payload, origin)) + b"\n")
    return count


if __name__ == "__main__":
    gc.set_threshold(50_000, 20, 100)  # as dataflow.flow.tune_gc does
    print(run(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
