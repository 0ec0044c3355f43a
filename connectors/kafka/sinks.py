"""Kafka output that checks every delivery report.

Bytewax's stock ``KafkaSink`` ignores delivery reports: a record the broker
refuses is dropped and the flow exits 0. ``KafkaTopicSink`` instead:

- produces with ``acks=all`` and idempotence (no duplicates from retries, no
  reordering per key);
- at the end of every ``write_batch`` flushes and checks the reports, and raises
  ``DeliveryError`` (naming topic, key and error) on the first failure, so the
  flow stops non-zero. Flushing per batch also means that every record of an
  epoch is on the broker before Bytewax commits that epoch's snapshot: a crash
  can then only repeat records (from the last snapshot on), never lose one;
- raises too when ``produce()`` itself refuses a record (e.g. librdkafka's
  local ``MSG_SIZE_TOO_LARGE`` check), and when ``close()`` cannot flush.

Items: records are ``(spread, (spread, value | None))`` -> key spread, value the
record's JSON or None (a tombstone); dead letters are ``(stream, DeadLetter)`` ->
key stream, value the dead letter's JSON, origin also in headers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from bytewax.outputs import DynamicSink, Sink, StatelessSinkPartition
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from connectors.kafka.admin import check_topics
from connectors.serde import encode_dead_letter, encode_record, origin_fields
from dataflow.join import Record
from dataflow.messages import DeadLetter
from dataflow.settings import Settings

X = TypeVar("X")
Headers = list[tuple[str, bytes]] | None
Produced = tuple[bytes | None, bytes | None, Headers]  # (key, value, headers)
# One flow item -> the Kafka records it becomes.
Encoder = Callable[[X], Iterable[Produced]]


class DeliveryError(RuntimeError):
    """A record could not be written to Kafka."""


def encode_record_item(item: tuple[str, list[Record] | Record]) -> list[Produced]:
    """``(key, [(spread, value), ...])`` (or one record) -> Kafka key spread, value
    the record's JSON, or None: a tombstone. The item's own key is the flow's
    routing key (a first leg), not the spread, so each record names its key."""
    records = item[1]
    if type(records) is not list:
        records = [records]  # type: ignore[list-item]
    return [
        (spread.encode(), None if value is None else encode_record((spread, value)), None)
        for spread, value in records  # type: ignore[misc]
    ]


def _dead_letter(stream: str, letter: DeadLetter) -> Produced:
    fields = origin_fields(letter.origin)
    headers = (
        None if fields is None else [(f"origin.{k}", str(v).encode()) for k, v in fields.items()]
    )
    return (stream.encode() if stream else None), encode_dead_letter(letter), headers


def encode_dead_letter_item(item: tuple[str, DeadLetter | list[DeadLetter]]) -> list[Produced]:
    """``(stream, DeadLetter)`` (or a list of them) -> key stream, value JSON, origin headers."""
    stream, letters = item
    if type(letters) is list:
        return [_dead_letter(stream, letter) for letter in letters]
    return [_dead_letter(stream, letters)]  # type: ignore[arg-type]


def _report(exc: Exception) -> None:
    print(f"spread-join: error: {exc}", file=sys.stderr, flush=True)


def _key_text(key: bytes | None) -> str:
    return "null" if key is None else repr(key.decode("utf-8", "backslashreplace"))


class _ProducerPartition(StatelessSinkPartition[X], Generic[X]):
    def __init__(
        self, producer: Producer, topic: str, encode: Encoder, flush_timeout: float
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._encode = encode
        self._flush_timeout = flush_timeout
        self.failures: list[str] = []
        self._raised = False  # write_batch raised: Bytewax is stopping the flow

    def on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failures.append(
                f"could not deliver a record to Kafka topic {msg.topic()!r} with key "
                f"{_key_text(msg.key())}: {err.name()}: {err.str()}"
            )

    def on_error(self, err: KafkaError) -> None:
        # Only fatal errors (e.g. an idempotence violation) are ours to act on;
        # the rest (a broker down) librdkafka logs and retries by itself, and a
        # record that still cannot go out gets a failed report at the timeout.
        if err.fatal():
            self.failures.append(f"fatal Kafka producer error: {err.name()}: {err.str()}")

    def _check(self) -> None:
        if self.failures:
            more = len(self.failures) - 1
            raise DeliveryError(self.failures[0] + (f" (and {more} more failures)" if more else ""))

    def write_batch(self, items: list[X]) -> None:
        produce, encode = self._produce, self._encode
        try:
            for item in items:
                for key, value, headers in encode(item):
                    produce(key, value, headers)
            self._flush()
        except DeliveryError as exc:
            self._raised = True
            # Printed as well: in a multi-process cluster Bytewax 0.21.1 exits
            # with "Send thread panic" and never prints the exception itself.
            _report(exc)
            raise

    def _produce(self, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        while True:
            try:
                if headers is None:
                    self._producer.produce(self._topic, value, key)
                else:
                    self._producer.produce(self._topic, value, key, headers=headers)
                return
            except BufferError:
                self._producer.poll(0.05)  # the local queue is full: let deliveries make room
            except KafkaException as exc:
                err = exc.args[0]
                raise DeliveryError(
                    f"could not produce a record to Kafka topic {self._topic!r} with key "
                    f"{_key_text(key)} ({0 if value is None else len(value)} bytes); the "
                    f"producer refused it before sending: {err.name()}: {err.str()}"
                ) from None

    def _flush(self) -> None:
        left = self._producer.flush(self._flush_timeout)
        self._check()
        if left:
            raise DeliveryError(
                f"{left} records to Kafka topic {self._topic!r} still undelivered after "
                f"{self._flush_timeout:g} s"
            )

    def close(self) -> None:
        if self._raised:
            # Bytewax closes the partition while unwinding from our own error; a
            # second exception there would abort the process before it printed
            # the first one. Best effort, briefly: the flow is failing anyway.
            self._producer.flush(min(5.0, self._flush_timeout))
            return
        try:
            self._flush()
        except DeliveryError as exc:
            # Printed too, in case this close runs while Bytewax unwinds from
            # another error, when raising aborts without a message.
            _report(exc)
            raise


class KafkaTopicSink(DynamicSink[X], Generic[X]):
    """Items to one topic; one idempotent producer per worker."""

    def __init__(
        self,
        brokers: str,
        topic: str,
        encode: Encoder,
        delivery_timeout: float = 30.0,
        linger_ms: int = 5,
        extra_config: dict[str, object] | None = None,
    ) -> None:
        self._brokers = brokers
        self._topic = topic
        self._encode = encode
        self._delivery_timeout = delivery_timeout
        self._linger_ms = linger_ms
        self._extra_config = extra_config or {}

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ProducerPartition[X]:
        # Flush waits a little longer than librdkafka's own delivery timeout, so a
        # record that cannot be sent gets its (more telling) failed report first.
        part: _ProducerPartition[X] = _ProducerPartition(
            None,  # type: ignore[arg-type]  # set below: the callbacks need the partition
            self._topic,
            self._encode,
            self._delivery_timeout + 5.0,
        )
        config: dict[str, object] = {
            "bootstrap.servers": self._brokers,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": self._linger_ms,
            "delivery.timeout.ms": int(self._delivery_timeout * 1000),
            "on_delivery": part.on_delivery,
            # Only failed deliveries call back into Python (a callback per record
            # cost ~10% of the sink); flush() still waits for every record, so a
            # flush that returns 0 with no failure reported means all delivered.
            "delivery.report.only.error": True,
            "error_cb": part.on_error,
            "client.id": f"spread-join-{step_id}-{worker_index}",
        }
        config.update(self._extra_config)
        part._producer = Producer(config)
        return part


def kafka_sinks(settings: Settings, records: Sink, letters: Sink) -> tuple[Sink, Sink]:
    """(records sink, dead-letter sink): Kafka ones where the settings say kafka,
    else the given (non-Kafka) ones. Checks the brokers and topics first."""
    needed = {}
    if settings.sink.kind == "kafka":
        needed["SPREADS_OUTPUT_TOPIC"] = settings.output_topic
        records = KafkaTopicSink(
            settings.brokers, settings.output_topic, encode_record_item, settings.delivery_timeout
        )
    if settings.dlq.kind == "kafka":
        needed["SPREADS_DLQ_TOPIC"] = settings.dlq_topic
        letters = KafkaTopicSink(
            settings.brokers, settings.dlq_topic, encode_dead_letter_item, settings.delivery_timeout
        )
    check_topics(settings.brokers, settings.connect_timeout, needed)
    return records, letters
