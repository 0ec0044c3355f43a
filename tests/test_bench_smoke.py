"""A small run of the tape benchmarks, so `make bench` cannot rot unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = [sys.executable, "-m", "bench.run", "--quick", "--only", "tape,scale,toggles"]


def test_quick_tape_benchmarks_write_a_report(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [*QUICK, "--report", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "[bench" in done.stdout  # progress while it runs
    text = report.read_text()
    assert "| tape, 1 worker: dataflow >= 0.35 x single loop |" in text
    assert "## 4. Scale" in text
    assert (ROOT / "bench" / "out" / "charts" / "throughput.png").stat().st_size > 1000
