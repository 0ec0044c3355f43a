"""Recovery through ``python -m bytewax.recovery`` and ``-r/-s/-b``.

- SIGKILL mid-stream, restart on the same recovery directory: spreads stay
  active, latest values are kept, no record is lost, and the records repeated
  are only those of the last snapshot interval before the kill.
- SIGTERM stops cleanly (exit 0, all flushed, final state snapshotted), so a
  restart repeats nothing at all.
- A resume offset that is gone from the broker stops the flow loudly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from confluent_kafka import Producer

from connectors.kafka.admin import create_topics, delete_topics, topic_specs
from dataflow.settings import Settings
from tests.contract import check_contract, model
from tests.kafka.support import (
    Flows,
    Message,
    Record,
    TopicReader,
    Topics,
    asset,
    flow_env,
    init_recovery,
    key_of,
    publish_messages,
    spread_records,
    toggle,
    valid_for_spread,
)

SNAPSHOT_SECONDS = 1


def recovery_args(db: Path) -> list[str]:
    return ["-r", str(db), "-s", str(SNAPSHOT_SECONDS), "-b", "0"]


def expected_outputs(messages: Sequence[Message]) -> int:
    """Records plus tombstones, when every activation starts with both legs valued
    (or, in the first phase, each leg gets one value)."""
    return sum(
        len(a.feed_1) + len(a.feed_2) - 1 + a.closed
        for acts in model(messages).activations.values()
        for a in acts
    )


class Publisher(threading.Thread):
    """Publishes asset updates at a steady pace in the background."""

    def __init__(self, brokers: str, topic: str, messages: list[Message], seconds: float) -> None:
        super().__init__(daemon=True)
        self.producer = Producer({"bootstrap.servers": brokers, "acks": "all", "linger.ms": 2})
        self.topic, self.messages, self.seconds = topic, messages, seconds
        self.errors: list[str] = []

    def run(self) -> None:
        def report(err, msg) -> None:  # type: ignore[no-untyped-def]
            if err is not None:
                self.errors.append(err.str())

        start = time.monotonic()
        pace = self.seconds / len(self.messages)
        for i, message in enumerate(self.messages):
            time.sleep(max(0.0, start + i * pace - time.monotonic()))
            self.producer.produce(self.topic, message[1], key_of(message), on_delivery=report)
            self.producer.poll(0)
        self.producer.flush(30)


def test_sigkill_then_resume_loses_nothing(
    brokers: str, topics: Callable[..., Topics], flows: Flows, tmp_path: Path
) -> None:
    names = topics(partitions=4, prefix="kill")
    db = tmp_path / "recovery"
    init_recovery(db, 2)
    env = flow_env(brokers, names)
    first = flows.start("run-1", env, "-w", "2", *recovery_args(db))
    out = TopicReader(brokers, names.output)

    # Phase 1: E_D's only record comes now, long before the kill: it must never
    # be repeated. D and E get no more updates until the last phase.
    spreads = [("A", "B"), ("B", "C"), ("C", "A"), ("A", "D"), ("E", "D")]
    messages: list[Message] = [toggle(a, b, True) for a, b in spreads]
    messages += [asset(name, f"{name.lower()}0") for name in "ABCDE"]
    publish_messages(brokers, names, messages)
    out.wait_for(expected_outputs(messages), flows=[first])

    # Phase 2: a steady stream of A, B, C updates; SIGKILL in the middle of it.
    stream = [asset("ABC"[i % 3], f"s{i}") for i in range(600)]
    messages += stream
    publisher = Publisher(brokers, names.assets, stream, seconds=5.0)
    publisher.start()
    time.sleep(3.5)
    first.assert_running()
    first.kill()
    killed_ms = time.time() * 1000
    before = list(out.settle(1.0))  # all that run 1 wrote
    second = flows.start("run-2", env, "-w", "2", *recovery_args(db))
    publisher.join(30)
    assert not publisher.errors

    # Phase 3 (control only, after the stream's records are out): D_E starts
    # with D's and E's values from phase 1, which only the restored state has.
    final = {"A_B": "A-s597-B-s598", "B_C": "B-s598-C-s599", "C_A": "C-s599-A-s597"}

    def stream_done(records: list[Record]) -> bool:
        last = dict(spread_records(records))  # each spread's latest record
        return all(last.get(spread) == value for spread, value in final.items())

    out.wait_for(stream_done, flows=[second])
    phase_3 = [toggle("D", "E", True), *(toggle(a, b, False) for a, b in spreads)]
    messages += phase_3
    publish_messages(brokers, names, phase_3)
    tombstones = len(spreads)
    out.wait_for(lambda rs: sum(r.value is None for r in rs) >= tombstones, flows=[second])
    out.wait_for(lambda rs: any(r.key == b"D_E" for r in rs), flows=[second])
    out.settle(0.5)
    second.signal(15)
    assert second.wait(30) == 0, second.stderr_tail()

    # Per spread: run 1's records, minus a repeated tail, then run 2's.
    after = out.records[len(before) :]
    m = model(messages)
    combined: list[tuple[str, str | None]] = []
    repeated: list[Record] = []
    for spread in sorted({identity[0] for identity in m.activations}):
        mine = [r for r in before if r.key == spread.encode()]
        theirs = spread_records(r for r in after if r.key == spread.encode())
        values_1 = [v for _, v in spread_records(mine)]
        values_2 = [v for _, v in theirs]
        cuts = range(len(values_1), -1, -1)  # fewest repeats first
        cut = next((k for k in cuts if valid_for_spread(m, spread, values_1[:k] + values_2)), None)
        assert cut is not None, f"{spread}: no way to read run 2 as run 1's continuation"
        repeated += mine[cut:]
        combined += [(spread, v) for v in values_1[:cut] + values_2]
    check_contract(messages, combined)

    # Only the last snapshot interval repeats (plus a little slack for the
    # commit itself); E_D's early record is never repeated.
    window_ms = (SNAPSHOT_SECONDS + 1.5) * 1000
    assert all(r.timestamp_ms >= killed_ms - window_ms for r in repeated), [
        (r.key, killed_ms - r.timestamp_ms) for r in repeated
    ]
    assert [v for s, v in combined if s == "E_D"] == ["E-e0-D-d0", None]
    assert ("D_E", "D-d0-E-e0") in combined
    assert len(repeated) < len(before) / 2


def test_sigterm_stops_cleanly_and_resumes_without_repeats(
    brokers: str, topics: Callable[..., Topics], flows: Flows, tmp_path: Path
) -> None:
    names = topics(partitions=4, prefix="term")
    db = tmp_path / "recovery"
    init_recovery(db, 1)
    env = flow_env(brokers, names)
    out = TopicReader(brokers, names.output)

    messages: list[Message] = [toggle("A", "B", True), toggle("C", "A", True)]
    messages += [asset(name, f"{name.lower()}0") for name in "ABCD"]
    run_1 = flows.start("run-1", env, *recovery_args(db))
    publish_messages(brokers, names, messages)
    out.wait_for(expected_outputs(messages), flows=[run_1])
    burst = [asset("ABC"[i % 3], f"x{i}") for i in range(300)]
    messages += burst
    publish_messages(brokers, names, burst)
    out.wait_for(expected_outputs(messages), flows=[run_1])
    run_1.signal(15)
    assert run_1.wait(30) == 0, run_1.stderr_tail()
    assert "stopping cleanly" in run_1.stderr()

    # While it is down, the assets move on; on restart they are all read.
    down = [asset("ABC"[i % 3], f"y{i}") for i in range(90)]
    messages += down
    publish_messages(brokers, names, down)
    run_2 = flows.start("run-2", env, *recovery_args(db))
    out.wait_for(expected_outputs(messages), flows=[run_2])
    # D kept its phase-1 value through the stop: B_D starts with it.
    last = [toggle("B", "D", True), toggle("A", "B", False)]
    messages += last
    publish_messages(brokers, names, last)
    out.wait_for(expected_outputs(messages), flows=[run_2])
    out.settle(1.0)
    run_2.signal(15)
    assert run_2.wait(30) == 0, run_2.stderr_tail()

    records = spread_records(out.records)
    assert len(records) == expected_outputs(messages)  # not one repeated
    check_contract(messages, records)
    assert ("B_D", "B-y88-D-d0") in records


def test_a_resume_offset_gone_from_the_broker_stops_the_flow(
    brokers: str, topics: Callable[..., Topics], flows: Flows, tmp_path: Path
) -> None:
    names = topics(partitions=1, prefix="gone")
    db = tmp_path / "recovery"
    init_recovery(db, 1)
    env = flow_env(brokers, names)
    out = TopicReader(brokers, names.output)
    run_1 = flows.start("run-1", env, *recovery_args(db))
    messages: list[Message] = []
    first = [toggle("A", "B", True), asset("A", "a"), asset("B", "b")]
    for batch in (first, [asset("AB"[i % 2], f"v{i}") for i in range(8)]):
        messages += batch
        publish_messages(brokers, names, batch)
        out.wait_for(expected_outputs(messages), flows=[run_1])
    assert len(out.records) == 9
    run_1.signal(15)
    assert run_1.wait(30) == 0, run_1.stderr_tail()

    # Re-create the assets topic: the stored offset is now past its end.
    delete_topics(brokers, [names.assets])
    settings = Settings.from_env(env)
    spec = [s for s in topic_specs(settings, 1) if s.name == names.assets]
    deadline = time.monotonic() + 30
    while True:
        try:
            create_topics(brokers, spec, exist_ok=False)
            break
        except Exception:
            assert time.monotonic() < deadline, "could not re-create the assets topic"
            time.sleep(0.5)
    run_2 = flows.start("run-2", env, *recovery_args(db))
    code = run_2.wait(60)
    err = run_2.stderr()
    assert code != 0
    assert "KafkaSourceError" in err
    assert f"error reading Kafka topic {names.assets!r} partition 0 at offset" in err
    assert "_AUTO_OFFSET_RESET" in err
