"""Run every benchmark, print progress, write BENCHMARKS.md and charts.

python -m bench.run            (`make bench`: sets up, starts a broker)
python -m bench.run --quick    (a small smoke run, into a temp folder)
python -m bench.run --only tape,scale,toggles,kafka,latency
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from bench import tape_bench
from bench.common import OUT, ROOT, machine, progress

TARGETS = {
    "ratio": 0.35,
    "kafka_scaling": 1.5,
    "p99_ms_at_10k": 20.0,
    "rss_mb_at_100k": 400.0,
}
SECTIONS = ("tape", "scale", "toggles", "kafka", "latency")


def run(sections: tuple[str, ...], quick: bool) -> dict:
    results: dict = {}
    runs = 1 if quick else 3
    if "tape" in sections:
        progress("== 1. tape throughput, no Kafka")
        results["tape"] = tape_bench.throughput(20_000 if quick else 1_000_000, runs)
    if "scale" in sections:
        progress("== 4a. scale: active spreads")
        sizes = (1_000, 2_000) if quick else (1_000, 10_000, 100_000)
        results["scale"] = tape_bench.scale(sizes, 5_000 if quick else 200_000, runs)
    if "toggles" in sections:
        progress("== 4b. toggles absorbed while updates flow")
        results["toggles"] = tape_bench.toggles(10_000 if quick else 400_000, runs)
    if "kafka" in sections:
        from bench import kafka_bench

        progress("== 2. Kafka to Kafka throughput, 4 partitions")
        updates = 20_000 if quick else 1_000_000
        results["kafka"] = []
        for processes in (1, 2):
            samples = []
            for n in range(runs):
                sample = kafka_bench.throughput(processes, updates)
                progress(
                    f"  {processes} process(es) run {n + 1}/{runs}: "
                    f"{sample['updates_per_s']:,.0f} updates/s in, "
                    f"{sample['records_per_s']:,.0f} records/s out"
                )
                samples.append(sample)
            samples.sort(key=lambda s: s["updates_per_s"])
            results["kafka"].append(samples[len(samples) // 2])
    if "latency" in sections:
        from bench import kafka_bench

        progress("== 3. end-to-end latency through Kafka")
        results["latency"] = []
        for rate in (1_000, 10_000):
            samples = []
            for n in range(runs):
                sample = kafka_bench.latency(rate, 5 if quick else 20)
                progress(
                    f"  {rate:,}/s run {n + 1}/{runs}: p50 {sample['p50']:.1f} ms, "
                    f"p99 {sample['p99']:.1f} ms, max {sample['max']:.1f} ms "
                    f"over {sample['records']:,} records"
                )
                samples.append(sample)
            # Each figure is the median of that figure over the runs.
            results["latency"].append(
                {key: statistics.median(s[key] for s in samples) for key in samples[0]}
            )
    return results


def status(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(results: dict, command: str, seconds: float, charts: str) -> str:
    """The Markdown report; ``charts`` is the charts folder relative to it."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d')} in {seconds / 60:.1f} minutes.",
        f"Machine: {machine()}. The broker runs on the same machine.",
        "Each figure is the median of the runs shown in the progress log (3 unless said),",
        "and each ratio is taken within one `make bench` run.",
        "",
        "## Targets",
        "",
        "| target | today | status |",
        "| --- | --- | --- |",
    ]
    if "tape" in results:
        ratio = results["tape"]["ratio_1w"]
        lines.append(
            f"| tape, 1 worker: dataflow >= {TARGETS['ratio']} x single loop "
            f"| {ratio:.2f} x | {status(ratio >= TARGETS['ratio'])} |"
        )
    if "kafka" in results and len(results["kafka"]) == 2:
        one, two = results["kafka"]
        factor = two["updates_per_s"] / one["updates_per_s"]
        lines.append(
            f"| Kafka, 2 processes >= {TARGETS['kafka_scaling']} x 1 process | {factor:.2f} x "
            f"| {status(factor >= TARGETS['kafka_scaling'])} |"
        )
    if "latency" in results:
        at_10k = [row for row in results["latency"] if row["rate"] == 10_000]
        if at_10k:
            p99 = at_10k[0]["p99"]
            lines.append(
                f"| latency at 10,000 updates/s: p99 <= {TARGETS['p99_ms_at_10k']:.0f} ms "
                f"| {p99:.1f} ms | {status(p99 <= TARGETS['p99_ms_at_10k'])} |"
            )
    if "scale" in results:
        at_100k = [row for row in results["scale"] if row["spreads"] == 100_000]
        if at_100k:
            rss = at_100k[0]["run"].peak_rss_mb
            lines.append(
                f"| 100,000 active spreads: peak RSS <= {TARGETS['rss_mb_at_100k']:.0f} MB "
                f"| {rss:.0f} MB | {status(rss <= TARGETS['rss_mb_at_100k'])} |"
            )
    if "tape" in results:
        tape = results["tape"]
        lines += [
            "",
            "## 1. Tape throughput, no Kafka",
            "",
            f"A generated tape of {tape['lines']:,} lines: 200 assets, 400 active spreads, a",
            "toggle every 1,000 lines, the rest asset updates; tape in, JSON lines out (records",
            "and dead letters). The single loop (`bench/loop.py`) does the same whole job in one",
            "plain Python loop, with the flow's own parse and serialize functions: it is the",
            "single-core limit, and the ratio is what the framework costs.",
            "",
            "| program | seconds | lines/s | records out | peak RSS | vs loop |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        loop_seconds = tape["rows"][0][1].seconds
        for label, result, records in tape["rows"]:
            lines.append(
                f"| {label} | {result.seconds:.2f} | {tape['lines'] / result.seconds:,.0f} "
                f"| {records:,} | {result.peak_rss_mb:.0f} MB "
                f"| {loop_seconds / result.seconds:.2f} |"
            )
        lines += [
            "",
            "Two processes are slower than one here: a tape is one partition, read by one",
            "worker, so every other step's data crosses between the processes (pickled) and",
            "the one-writer file sink takes all records back. Processes pay off where the",
            "input has partitions (Kafka, below). Record counts differ a little because",
            "different interleavings of the two legs are all allowed by the contract.",
            "",
            f"![tape throughput]({charts}/throughput.png)",
        ]
    if "kafka" in results:
        lines += [
            "",
            "## 2. Kafka to Kafka",
            "",
            "Input topics of 4 partitions filled first (400 spreads on 200 assets, then",
            "asset updates keyed by asset); the flow reads them from the beginning and writes",
            "the records to a 4-partition output topic. Rates are taken over the steady middle",
            "(from 10% to 90% of the output, read from the output's watermarks every 50 ms),",
            "leaving out start-up; 'seconds' is that window.",
            "",
            "| processes | updates in | records out | seconds | updates/s in | records/s out "
            "| flow cores | broker cores | flow CPU s per 1M updates |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in results["kafka"]:
            lines.append(
                f"| {row['processes']} | {row['updates']:,} | {row['records']:,} "
                f"| {row['seconds']:.2f} | {row['updates_per_s']:,.0f} "
                f"| {row['records_per_s']:,.0f} | {row['flow_cores']:.2f} "
                f"| {row['broker_cores']:.2f} | {row['flow_cpu_per_m']:.1f} |"
            )
        if len(results["kafka"]) == 2:
            one, two = results["kafka"]
            extra = two["flow_cpu_per_m"] / one["flow_cpu_per_m"] - 1
            lines += [
                "",
                f"Scaling factor, 2 processes over 1: "
                f"**{two['updates_per_s'] / one['updates_per_s']:.2f} x**.",
                "",
                "Where the ceiling is: this machine has 2 cores and the broker runs on it. One",
                f"process already keeps {one['flow_cores']:.2f} cores busy (its worker thread",
                "plus librdkafka's threads) and the broker "
                f"{one['broker_cores']:.2f}; two processes get "
                f"{two['flow_cores']:.2f} cores between them",
                f"(broker {two['broker_cores']:.2f}), and spend {extra:+.0%} CPU per update on",
                "exchanging keyed data between the processes (pickled over TCP). The factor is",
                "bounded by (cores two processes get / cores one uses) / (1 + exchange cost).",
            ]
        lines += ["", f"![kafka throughput]({charts}/kafka.png)"]
    if "latency" in results:
        lines += [
            "",
            "## 3. End-to-end latency",
            "",
            "From producing an asset update to consuming its spread record, through the broker",
            "and the flow (1 process), at fixed input rates; 100 assets, 200 active spreads",
            "(fan-out about 4). Producer and consumer are processes of their own, on the same",
            "2 cores as the flow and the broker. Each figure is the median of 3 runs' figures:",
            "the tail moves from run to run (see the progress log), with the broker's JVM",
            "pauses and the 2 cores shared by four busy processes.",
            "",
            "| updates/s | seconds | records | p50 ms | p95 ms | p99 ms | max ms |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in results["latency"]:
            lines.append(
                f"| {row['rate']:,} | {row['seconds']:.0f} | {row['records']:,} "
                f"| {row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | {row['max']:.1f} |"
            )
        lines += ["", f"![latency]({charts}/latency.png)"]
    if "scale" in results:
        lines += [
            "",
            "## 4. Scale",
            "",
            "Many active spreads, fan-out 4 per asset (spreads / 2 assets): every asset gets a",
            "value, every spread is activated, then 200,000 asset updates; tape in, 1 worker.",
            "",
            "| active spreads | lines | seconds | lines/s | records out | peak RSS |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in results["scale"]:
            result = row["run"]
            lines.append(
                f"| {row['spreads']:,} | {row['lines']:,} | {result.seconds:.2f} "
                f"| {row['lines'] / result.seconds:,.0f} | {row['records']:,} "
                f"| {result.peak_rss_mb:.0f} MB |"
            )
        lines += ["", f"![scale]({charts}/scale.png)"]
    if "toggles" in results:
        toggles = results["toggles"]
        lines += [
            "",
            "### Toggles while updates flow",
            "",
            f"{toggles['lines']:,} lines, every second one a toggle (alternately off an active",
            "spread, on an inactive one; about 400 stay active on 200 assets), the others",
            "asset updates; tape in, 1 worker.",
            "",
            "| seconds | activations + deactivations/s | updates/s alongside |",
            "| ---: | ---: | ---: |",
            f"| {toggles['run'].seconds:.2f} | {toggles['toggles_per_s']:,.0f} "
            f"| {toggles['updates_per_s']:,.0f} |",
        ]
    lines += ["", (ROOT / "bench" / "optimizations.md").read_text().rstrip(), ""]
    return "\n".join(lines)


def draw(results: dict, charts: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts.mkdir(parents=True, exist_ok=True)
    if "tape" in results:
        tape = results["tape"]
        fig, ax = plt.subplots(figsize=(6, 3.2))
        labels = [label for label, _, _ in tape["rows"]]
        rates = [tape["lines"] / result.seconds / 1000 for _, result, _ in tape["rows"]]
        ax.barh(labels, rates, color=["#888", "#1f77b4", "#ff7f0e"])
        ax.set_xlabel("thousand tape lines / s (higher is better)")
        ax.set_title("Tape throughput, 1M lines")
        fig.tight_layout()
        fig.savefig(charts / "throughput.png", dpi=110)
        plt.close(fig)
    if "kafka" in results:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        rows = results["kafka"]
        ax.bar(
            [f"{r['processes']} process(es)" for r in rows],
            [r["updates_per_s"] / 1000 for r in rows],
            color="#1f77b4",
        )
        ax.set_ylabel("thousand updates / s in")
        ax.set_title("Kafka to Kafka, 4 partitions")
        fig.tight_layout()
        fig.savefig(charts / "kafka.png", dpi=110)
        plt.close(fig)
    if "latency" in results:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        rows = results["latency"]
        keys = ["p50", "p95", "p99", "max"]
        width = 0.8 / len(rows)
        for n, row in enumerate(rows):
            ax.bar(
                [k + n * width for k in range(len(keys))],
                [row[key] for key in keys],
                width,
                label=f"{row['rate']:,} updates/s",
            )
        ax.set_xticks([k + width * (len(rows) - 1) / 2 for k in range(len(keys))], keys)
        ax.set_yscale("log")
        ax.set_ylabel("ms, log scale")
        ax.axhline(TARGETS["p99_ms_at_10k"], color="red", lw=0.8, ls="--", label="p99 target")
        ax.legend()
        ax.set_title("End-to-end latency through Kafka")
        fig.tight_layout()
        fig.savefig(charts / "latency.png", dpi=110)
        plt.close(fig)
    if "scale" in results:
        rows = results["scale"]
        fig, ax = plt.subplots(figsize=(6, 3.2))
        xs = [row["spreads"] for row in rows]
        ax.plot(xs, [row["run"].peak_rss_mb for row in rows], "o-", label="peak RSS, MB")
        ax.axhline(TARGETS["rss_mb_at_100k"], color="red", lw=0.8, ls="--", label="RSS target")
        ax.set_xscale("log")
        ax.set_xlabel("active spreads")
        ax.set_ylabel("MB")
        ax2 = ax.twinx()
        ax2.plot(
            xs,
            [row["lines"] / row["run"].seconds / 1000 for row in rows],
            "s--",
            color="#ff7f0e",
            label="k lines/s",
        )
        ax2.set_ylabel("thousand lines / s")
        fig.legend(loc="upper center", ncol=3, fontsize=8)
        fig.tight_layout()
        fig.savefig(charts / "scale.png", dpi=110)
        plt.close(fig)


def jsonable(results: dict) -> str:
    return json.dumps(results, default=lambda o: o.__dict__, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--report", type=Path, help="where to write the Markdown report")
    args = parser.parse_args()
    sections = tuple(s for s in args.only.split(",") if s)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"expected sections among {', '.join(SECTIONS)}, got {sorted(unknown)}")
    report_path = args.report or (OUT / "BENCHMARKS.md" if args.quick else ROOT / "BENCHMARKS.md")
    charts = OUT / "charts" if args.quick else ROOT / "bench" / "charts"
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = run(sections, args.quick)
    (OUT / "results.json").write_text(jsonable(results))
    draw(results, charts)
    command = "make bench" + (" (quick)" if args.quick else "")
    relative = os.path.relpath(charts, report_path.parent)
    report_path.write_text(report(results, command, time.monotonic() - started, relative))
    progress(f"wrote {report_path} and {charts}/ in {(time.monotonic() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
