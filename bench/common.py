"""Shared helpers for the benchmarks: running flows, timing, peak memory, medians."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def progress(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float  # the largest of the processes' peak resident sets


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPREADS_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def peak_rss_kb(pid: int) -> int:
    """A live process's peak resident set so far (VmHWM), 0 once it is gone.

    Read from /proc rather than wait4's ru_maxrss, which also counts the pages
    a child shares with this (large) bench process between fork and exec."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_processes(argvs: list[list[str]], env: Mapping[str, str], timeout: float = 900) -> Run:
    """Start the commands together; wait for all; time them and track peak RSS."""
    start = time.perf_counter()
    procs = [subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL) for argv in argvs]
    peaks = dict.fromkeys(range(len(procs)), 0)
    try:
        while any(proc.poll() is None for proc in procs):
            for n, proc in enumerate(procs):
                peaks[n] = max(peaks[n], peak_rss_kb(proc.pid))
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{argvs} took over {timeout} s")
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        for proc in procs:
            if proc.returncode != 0:
                raise RuntimeError(f"{proc.args} exited {proc.returncode}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return Run(seconds, max(peaks.values()) / 1024)


def flow_argvs(processes: int = 1, workers: int = 1) -> list[list[str]]:
    base = [sys.executable, "-m", "bytewax.run", "dataflow.flow", "-w", str(workers)]
    if processes == 1:
        return [base]
    addresses = ";".join(f"127.0.0.1:{free_port()}" for _ in range(processes))
    return [[*base, "-i", str(i), "-a", addresses] for i in range(processes)]


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    import bytewax  # noqa: F401 - version below

    return (
        f"{os.cpu_count()} cores ({cpu}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"bytewax {version('bytewax')}, confluent-kafka {version('confluent-kafka')}"
    )
