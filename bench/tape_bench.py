"""Tape benchmarks, no Kafka: throughput against the single loop, scale, toggles."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import OUT, Run, clean_env, flow_argvs, median_run, progress, run_processes
from bench.make_tape import write_tape


def tape_env(tape: Path, tag: str) -> dict[str, str]:
    return clean_env(
        SPREADS_SOURCE=f"tape:{tape}",
        SPREADS_SINK=f"jsonl:{OUT / f'{tag}.jsonl'}",
        SPREADS_DLQ=f"jsonl:{OUT / f'{tag}.dlq.jsonl'}",
    )


def loop_run(tape: Path) -> Run:
    argv = [sys.executable, "-m", "bench.loop", str(tape), str(OUT / "loop.jsonl")]
    return run_processes([[*argv, str(OUT / "loop.dlq.jsonl")]], clean_env())


def repeat(label: str, runs: int, once) -> Run:
    results = []
    for n in range(runs):
        result = once()
        progress(
            f"  {label} run {n + 1}/{runs}: {result.seconds:.2f} s, {result.peak_rss_mb:.0f} MB"
        )
        results.append(result)
    return median_run(results)


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def throughput(lines: int, runs: int) -> dict:
    """1,000,000-line tape: the single loop, the flow at 1 worker and as 2 processes."""
    tape = OUT / "throughput.tape"
    progress(f"writing a {lines:,}-line tape (200 assets, 400 spreads, a toggle per 1,000)")
    write_tape(tape, lines=lines, assets=200, spreads=400, toggle_every=1000)
    env = tape_env(tape, "throughput")
    loop = repeat("single loop", runs, lambda: loop_run(tape))
    loop_records = count_lines(OUT / "loop.jsonl")
    one = repeat("dataflow, 1 worker", runs, lambda env=env: run_processes(flow_argvs(1), env))
    one_records = count_lines(OUT / "throughput.jsonl")
    two = repeat("dataflow, 2 processes", runs, lambda: run_processes(flow_argvs(2), env))
    return {
        "lines": lines,
        "rows": [
            ("single loop", loop, loop_records),
            ("dataflow, 1 worker", one, one_records),
            ("dataflow, 2 processes", two, count_lines(OUT / "throughput.jsonl")),
        ],
        "ratio_1w": loop.seconds / one.seconds,
        "ratio_2p": loop.seconds / two.seconds,
    }


def scale(sizes: tuple[int, ...], updates: int, runs: int) -> list[dict]:
    """Peak RSS and throughput with many active spreads (fan-out 4 per asset)."""
    rows = []
    for spreads in sizes:
        assets = spreads // 2
        tape = OUT / f"scale-{spreads}.tape"
        lines = assets + spreads + updates
        progress(f"scale: {spreads:,} spreads on {assets:,} assets, then {updates:,} updates")
        write_tape(tape, lines, assets, spreads, toggle_every=10**12, prime=True)
        env = tape_env(tape, f"scale-{spreads}")
        label = f"{spreads:,} spreads"
        result = repeat(label, runs, lambda env=env: run_processes(flow_argvs(1), env))
        rows.append(
            {
                "spreads": spreads,
                "lines": lines,
                "run": result,
                "records": count_lines(OUT / f"scale-{spreads}.jsonl"),
            }
        )
    return rows


def toggles(lines: int, runs: int) -> dict:
    """Half the lines toggle spreads, half move assets: how many toggles a second?"""
    tape = OUT / "toggles.tape"
    progress(f"toggles: {lines:,} lines, every 2nd a toggle, 200 assets, 400 spreads")
    write_tape(tape, lines, assets=200, spreads=400, toggle_every=2)
    env = tape_env(tape, "toggles")
    result = repeat("toggle storm", runs, lambda env=env: run_processes(flow_argvs(1), env))
    toggled = 400 + (lines - 400) // 2
    return {
        "lines": lines,
        "run": result,
        "toggles_per_s": toggled / result.seconds,
        "updates_per_s": (lines - toggled) / result.seconds,
    }
