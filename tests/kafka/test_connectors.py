"""The Kafka source and sink pieces, in-process against the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
import pytest

from connectors.kafka import sources
from connectors.kafka.admin import KafkaSetupError
from connectors.kafka.sinks import (
    DeliveryError,
    KafkaTopicSink,
    encode_dead_letter_item,
    encode_record_item,
)
from connectors.kafka.sources import KafkaSourceError, KafkaStreamSource
from dataflow.messages import DeadLetter, Origin, RawMessage
from tests.kafka.support import TopicReader, Topics, free_port, publish


def source(brokers: str, topic: str, start: str) -> KafkaStreamSource:
    return KafkaStreamSource("assets", brokers, topic, "SPREADS_ASSETS_TOPIC", start, 5.0)


def poll_until(part, count: int, timeout: float = 15.0) -> list[RawMessage]:  # type: ignore[no-untyped-def]
    got: list[RawMessage] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"got {len(got)} of {count}"
        got += part.next_batch()
    return got


def test_latest_starts_at_a_concrete_offset_and_maps_origins(
    brokers: str, topics: Callable[..., Topics]
) -> None:
    names = topics(partitions=1, prefix="src")
    publish(brokers, [(names.assets, b"A", b"old %d" % i) for i in range(5)])
    src = source(brokers, names.assets, "latest")
    assert src.list_parts() == [f"0-{names.assets}"]
    part = src.build_part("in_0", f"0-{names.assets}", None)
    try:
        # Not OFFSET_END (-1): a resume from this snapshot must not skip what
        # arrives before the partition first reads something.
        assert part.snapshot() == 5
        publish(brokers, [(names.assets, b"A", b"new"), (names.assets, b"A", None)])
        got = poll_until(part, 2)
        assert got == [
            RawMessage("assets", b"new", Origin(names.assets, 0, 5)),
            RawMessage("assets", None, Origin(names.assets, 0, 6)),
        ]
        assert part.snapshot() == 7
        sources.STOP.set()  # what SIGTERM does
        with pytest.raises(StopIteration):
            part.next_batch()
    finally:
        sources.STOP.clear()
        part.close()


def test_earliest_reads_from_the_beginning(brokers: str, topics: Callable[..., Topics]) -> None:
    names = topics(partitions=1, prefix="src")
    publish(brokers, [(names.assets, b"A", b"m%d" % i) for i in range(3)])
    part = source(brokers, names.assets, "earliest").build_part("in_0", f"0-{names.assets}", None)
    try:
        assert [m.payload for m in poll_until(part, 3)] == [b"m0", b"m1", b"m2"]
    finally:
        part.close()


def test_a_consumer_error_raises_naming_topic_partition_offset(
    brokers: str, topics: Callable[..., Topics]
) -> None:
    names = topics(partitions=1, prefix="src")
    publish(brokers, [(names.assets, b"A", b"only")])
    # A resume offset beyond the end, as after the topic was re-created.
    part = source(brokers, names.assets, "earliest").build_part("in_0", f"0-{names.assets}", 50)
    try:
        with pytest.raises(KafkaSourceError) as caught:
            poll_until(part, 1)
    finally:
        part.close()
    text = str(caught.value)
    assert f"error reading Kafka topic {names.assets!r} partition 0 at offset 50" in text
    assert "_AUTO_OFFSET_RESET" in text
    assert "new recovery directory" in text


def test_list_parts_gives_up_on_an_unreachable_broker() -> None:
    dead = f"127.0.0.1:{free_port()}"
    src = KafkaStreamSource("assets", dead, "assets", "SPREADS_ASSETS_TOPIC", "latest", 1.0)
    start = time.monotonic()
    with pytest.raises(KafkaSetupError, match=dead):
        src.list_parts()
    assert time.monotonic() - start < 5


def test_record_items_become_records_keyed_by_spread_and_tombstones() -> None:
    # The item's key is the flow's routing key (the first leg, "A"), not the spread.
    item = ("A", [("A_B", "A-1-B-2"), ("A_C", None)])
    assert encode_record_item(item) == [  # type: ignore[arg-type]
        (b"A_B", b'{"spread":"A_B","value":"A-1-B-2"}', None),
        (b"A_C", None, None),
    ]
    # A single record (not in a list) is taken too.
    assert encode_record_item(("A_B", ("A_B", None))) == [(b"A_B", None, None)]


def test_dead_letters_carry_origin_in_value_and_headers() -> None:
    letter = DeadLetter("assets", "expected x, got y", b"{oops", Origin("assets", 3, 42))
    [(key, value, headers)] = encode_dead_letter_item(("assets", letter))
    assert key == b"assets"
    assert orjson.loads(value)["origin"] == {"topic": "assets", "partition": 3, "offset": 42}
    assert headers == [
        ("origin.topic", b"assets"),
        ("origin.partition", b"3"),
        ("origin.offset", b"42"),
    ]
    tape = DeadLetter(None, "expected a tab", b"x", Origin("tape:t", None, 7))
    [(key, _, headers)] = encode_dead_letter_item(("", tape))
    assert key is None
    assert headers == [("origin.source", b"tape:t"), ("origin.line", b"7")]


def test_the_sink_writes_and_checks_every_delivery(
    brokers: str, topics: Callable[..., Topics]
) -> None:
    names = topics(partitions=2, prefix="sink", config={"output": {"max.message.bytes": "1000"}})
    sink = KafkaTopicSink(brokers, names.output, encode_record_item, delivery_timeout=10)
    part = sink.build("records", 0, 1)
    part.write_batch([("A_B", [("A_B", "A-1-B-2")]), ("B_C", [("B_C", None)])])
    reader = TopicReader(brokers, names.output)
    got = {(r.key, r.value) for r in reader.wait_for(2)}
    reader.close()
    assert got == {(b"A_B", b'{"spread":"A_B","value":"A-1-B-2"}'), (b"B_C", None)}
    with pytest.raises(DeliveryError, match=r"key 'A_C': MSG_SIZE_TOO_LARGE"):
        part.write_batch([("A_C", [("A_C", "x" * 5000)])])
    part.close()  # after a failure: flushes, does not raise a second time
