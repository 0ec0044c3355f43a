"""Publish the demo streams to Kafka, paced in real time.

    python -m generators.feed [--count N] [--duration S] [--no-wait]

Assets go to SPREADS_ASSETS_TOPIC keyed by asset and control messages to
SPREADS_CONTROL_TOPIC keyed by spread, so every key keeps its order whatever
the partition count. The generators and their settings are the demo's
(SPREADS_ASSETS, SPREADS_RATE, SPREADS_SEED, SPREADS_TOGGLE_EVERY,
SPREADS_INITIAL_SPREADS); the feed ends after SPREADS_DURATION seconds (or
--duration) of generator time, or after --count messages, else runs until
SIGTERM or Ctrl-C. Every delivery report is checked: a failed send exits 1.
"""

from __future__ import annotations

import argparse
import heapq
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TextIO

import orjson
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from connectors.kafka.admin import KafkaSetupError, check_topics
from dataflow.messages import ACTIVE_SPREADS, ASSETS
from dataflow.settings import Settings, SettingsError
from generators.streams import asset_values, seeded, spread_toggles

# (seconds from start, tie-breaker, topic, key, payload)
Publication = tuple[float, int, str, bytes, bytes]


def publications(settings: Settings) -> Iterator[Publication]:
    """Every demo message in time order, with its topic and key."""

    def assets(index: int, asset: str) -> Iterator[Publication]:
        key = asset.encode()
        for at, payload in asset_values(asset, settings.rate, seeded(settings.seed, ASSETS, asset)):
            yield at, index, settings.assets_topic, key, payload

    def control() -> Iterator[Publication]:
        toggles = spread_toggles(
            settings.assets,
            seeded(settings.seed, ACTIVE_SPREADS),
            initial=settings.initial_spreads,
            every=settings.toggle_every,
        )
        for at, payload in toggles:
            key = orjson.loads(payload)["spread"].encode()
            # Tie-breaker -1: a toggle goes before asset updates of the same instant.
            yield at, -1, settings.control_topic, key, payload

    streams = [control(), *(assets(i, a) for i, a in enumerate(settings.assets))]
    return heapq.merge(*streams)


class Feed:
    """An idempotent producer that remembers the first failed delivery."""

    def __init__(self, brokers: str, delivery_timeout: float) -> None:
        self.failure: str | None = None
        self.delivered = 0
        self.producer = Producer(
            {
                "bootstrap.servers": brokers,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "delivery.timeout.ms": int(delivery_timeout * 1000),
                "on_delivery": self._on_delivery,
            }
        )

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.delivered += 1
        elif self.failure is None:
            self.failure = (
                f"could not deliver to {msg.topic()!r} key {msg.key()!r}: {err.name()}: {err.str()}"
            )

    def send(self, topic: str, key: bytes, payload: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, payload, key)
                break
            except BufferError:
                self.producer.poll(0.05)  # queue full: serve deliveries to make room
        self.producer.poll(0)
        if self.failure:
            raise KafkaSetupError(self.failure)

    def close(self, timeout: float) -> None:
        left = self.producer.flush(timeout)
        if self.failure:
            raise KafkaSetupError(self.failure)
        if left:
            raise KafkaSetupError(f"{left} messages still undelivered after {timeout:g} s")


def run(
    settings: Settings,
    count: int | None = None,
    duration: float | None = None,
    wait: bool = True,
    out: TextIO | None = None,
) -> int:
    """Publish until ``duration`` (generator seconds) or ``count`` messages; returns
    how many were published."""
    out = out or sys.stderr
    check_topics(
        settings.brokers,
        settings.connect_timeout,
        {
            "SPREADS_ASSETS_TOPIC": settings.assets_topic,
            "SPREADS_CONTROL_TOPIC": settings.control_topic,
        },
    )
    stopping: list[bool] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    feed = Feed(settings.brokers, settings.delivery_timeout)
    sent = 0
    start = time.monotonic()
    try:
        for at, _tie, topic, key, payload in publications(settings):
            if stopping or (count is not None and sent >= count):
                break
            if duration is not None and at >= duration:
                break
            while wait and (delay := start + at - time.monotonic()) > 0:
                # Serve delivery reports while waiting, so failures show at once.
                feed.producer.poll(delay)
            feed.send(topic, key, payload)
            sent += 1
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        feed.close(settings.delivery_timeout + 5)
    print(f"feed: published {sent} messages to {settings.brokers}", file=out)
    return sent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generators.feed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--count", type=int, help="stop after this many messages")
    parser.add_argument(
        "--duration", type=float, help="stop at this generator time (default SPREADS_DURATION)"
    )
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="publish as fast as possible instead of in real time",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        duration = args.duration if args.duration is not None else settings.duration
        if not args.wait and args.count is None and duration is None:
            raise SettingsError("expected --count or a duration with --no-wait, got neither")
        run(settings, args.count, duration, args.wait)
    except (KafkaSetupError, SettingsError, KafkaException) as exc:
        print(f"feed: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
