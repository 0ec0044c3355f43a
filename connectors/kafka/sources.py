"""Kafka input: Bytewax's ``KafkaSource``, one per topic, yielding ``RawMessage``\\ s.

What this adds to the stock connector, and why:

- ``list_parts`` and offset look-ups have bounded timeouts and clear errors
  (the stock ``list_parts`` waits forever for an unreachable broker).
- Reading "from latest" starts at a *concrete* offset (the partition's high
  watermark when the partition is built), not at the logical ``OFFSET_END``.
  Otherwise a partition that has read nothing yet snapshots ``OFFSET_END``,
  and a resume after a crash would skip whatever arrived in between.
- Partitions read straight into ``RawMessage`` tuples, never blocking (see
  ``_RawPartition``).
- Every consumer error stops the flow with a message naming the topic,
  partition and offset (see ``KafkaSourceError``): such an item is never a
  record of the topic, and going on past it could skip data silently.
  Transient trouble (a broker restarting) never shows up as one: librdkafka
  reconnects by itself and only logs it.
- SIGTERM (and Ctrl-C) stop the flow cleanly: the partitions end
  (``StopIteration``), the sinks flush and close, the final state is
  snapshotted, and the run exits 0. A second signal aborts.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

# Private, but stable in the pinned bytewax 0.21.1: its consumer set-up is reused.
from bytewax.connectors.kafka import KafkaSource, _KafkaSourcePartition
from bytewax.inputs import Source, StatefulSourcePartition
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition
from confluent_kafka import KafkaError as ConfluentKafkaError

from connectors.kafka.admin import KafkaSetupError, check_topics, quiet_logger
from dataflow.messages import ACTIVE_SPREADS, ASSETS, RawMessage
from dataflow.settings import Settings, SettingsError

_new = tuple.__new__

# Set by SIGTERM or Ctrl-C: every Kafka partition of this process ends at its next poll.
STOP = threading.Event()


class KafkaSourceError(RuntimeError):
    """The consumer reported an error for a partition: the flow cannot go on safely."""


def _on_stop_signal(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    if STOP.is_set():
        # A second signal: the clean stop is stuck somewhere; abort the usual way.
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    STOP.set()
    print(
        f"spread-join: {name} received, stopping cleanly (again to abort)",
        file=sys.stderr,
        flush=True,
    )


# Each signal, with the handler it has when nobody else installed one.
_DEFAULTS = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}


def install_stop_handlers() -> list[str]:
    """Make SIGTERM (and Ctrl-C) a clean stop; returns the signals handled.

    Bytewax 0.21.1 installs no SIGTERM handler, so SIGTERM would kill the
    process on the spot, unflushed; Ctrl-C raises KeyboardInterrupt inside a
    source and aborts. Python runs a handler in the main thread, which Bytewax
    visits often (it runs worker 0 there with one worker, and checks for signals
    every 1 ms while waiting for worker threads otherwise). A signal that
    already has another handler (an embedding program's, or SIG_IGN) is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return []
    handled = []
    for signum, default in _DEFAULTS.items():
        if signal.getsignal(signum) is default:
            signal.signal(signum, _on_stop_signal)
            handled.append(signum.name)
    return handled


class _RawPartition(_KafkaSourcePartition):
    """The stock partition (consumer set-up, offsets, snapshots, metrics), reading
    straight into ``RawMessage``\\ s: the stock ``next_batch`` builds a
    ``KafkaSourceMessage`` dataclass per record, which cost more than all of our
    parsing (about 10% of a Kafka-to-Kafka run)."""

    def __init__(self, stream: str, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self._stream = stream

    def next_batch(self) -> list[RawMessage]:  # type: ignore[override]
        if STOP.is_set():
            raise StopIteration
        # Never block: the stock 1 ms timeout made every partition without a full
        # batch ready (an idle control topic, say) stall the worker 1 ms a visit.
        # Bytewax itself waits 1 ms before polling a partition that gave nothing.
        messages = self._consumer.consume(self._batch_size, 0)
        stream, topic, partition = self._stream, self._topic, self._part_idx
        out = []
        for message in messages:
            error = message.error()
            if error is not None:
                # With tail=True there is no partition-EOF "error": any error is real.
                text = _describe_error(error, topic, partition, message.offset())
                # Printed as well: a multi-process cluster never prints the exception.
                print(f"spread-join: error: {text}", file=sys.stderr, flush=True)
                raise KafkaSourceError(text)
            # RawMessage(stream, value, Origin(topic, partition, offset)), built as
            # plain tuples: several times faster than the NamedTuple constructors.
            out.append(
                _new(RawMessage, (stream, message.value(), (topic, partition, message.offset())))
            )
        if messages:
            self._offset = messages[-1].offset() + 1  # resume after the last one read
        return out


def _describe_error(err: ConfluentKafkaError, topic: str, partition: int, offset: int) -> str:
    text = (
        f"error reading Kafka topic {topic!r} partition {partition} "
        f"at offset {offset}: {err.name()}: {err.str()}"
    )
    if err.code() == ConfluentKafkaError._AUTO_OFFSET_RESET:  # the resume offset is gone
        text += (
            ". The offset to resume at is no longer on the broker (retention, or the "
            "topic was re-created). To start afresh, use a new recovery directory."
        )
    return text


class KafkaStreamSource(KafkaSource):
    """One topic as one stream; each Kafka partition is one Bytewax partition."""

    def __init__(
        self,
        stream: str,
        brokers: str,
        topic: str,
        setting: str,
        start: str,
        timeout: float,
        batch_size: int = 1000,
    ) -> None:
        super().__init__(
            brokers.split(","),
            [topic],
            tail=True,
            starting_offset=OFFSET_BEGINNING if start == "earliest" else OFFSET_END,
            add_config={
                # A resume offset that is gone must not silently jump to the end.
                "auto.offset.reset": "error",
            },
            batch_size=batch_size,
            raise_on_errors=False,  # errors come to us as items: see _describe_error
        )
        self._stream = stream
        self._brokers_text = brokers
        self._topic = topic
        self._setting = setting
        self._start = start
        self._timeout = timeout

    def list_parts(self) -> list[str]:
        metadata = check_topics(self._brokers_text, self._timeout, {self._setting: self._topic})
        return [f"{p}-{self._topic}" for p in sorted(metadata.topics[self._topic].partitions)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: int | None
    ) -> StatefulSourcePartition[RawMessage, int | None]:
        if resume_state is None and self._start == "latest":
            # Passed as the resume state, it is where the stock partition starts.
            resume_state = self._high_watermark(int(for_part.split("-", 1)[0]))
        partition = int(for_part.split("-", 1)[0])
        # The stock build_part's consumer configuration (bytewax 0.21.1).
        config = {
            "group.id": "BYTEWAX_IGNORED",  # offsets live in Bytewax's recovery state
            "enable.auto.commit": "false",
            "bootstrap.servers": self._brokers_text,
            "enable.partition.eof": "false",  # tail the topic
            "statistics.interval.ms": 1000,
            **self._add_config,
        }
        return _RawPartition(
            self._stream, step_id, config, self._topic, partition,
            self._starting_offset, resume_state, self._batch_size, False,
        )  # fmt: skip

    def _high_watermark(self, partition: int) -> int:
        consumer = Consumer(
            {
                "bootstrap.servers": self._brokers_text,
                "group.id": "spreads-offsets",  # never joins: only a look-up
                "logger": quiet_logger(),
            }
        )
        try:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(self._topic, partition), timeout=self._timeout
            )
        except KafkaException as exc:
            raise KafkaSetupError(
                f"could not read the end offset of {self._topic!r} partition {partition} "
                f"from {self._brokers_text} within {self._timeout:g} s: {exc.args[0].str()}"
            ) from None
        finally:
            consumer.close()
        return high


def build_sources(settings: Settings) -> list[Source[RawMessage]]:
    """The assets and control sources; checks the brokers and topics first."""
    if settings.assets_topic == settings.control_topic:
        raise SettingsError(
            "expected SPREADS_ASSETS_TOPIC and SPREADS_CONTROL_TOPIC to differ, "
            f"got {settings.assets_topic!r} for both"
        )
    check_topics(
        settings.brokers,
        settings.connect_timeout,
        {
            "SPREADS_ASSETS_TOPIC": settings.assets_topic,
            "SPREADS_CONTROL_TOPIC": settings.control_topic,
        },
    )
    install_stop_handlers()
    brokers, timeout = settings.brokers, settings.connect_timeout
    return [
        KafkaStreamSource(
            ASSETS, brokers, settings.assets_topic, "SPREADS_ASSETS_TOPIC",
            settings.assets_from, timeout,
        ),
        KafkaStreamSource(
            ACTIVE_SPREADS, brokers, settings.control_topic, "SPREADS_CONTROL_TOPIC",
            settings.control_from, timeout,
        ),
    ]  # fmt: skip
