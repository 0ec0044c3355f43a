"""Kafka administration: reachability and topic checks, topic creation, a watcher.

As a command (settings from the environment, see ``dataflow.settings``)::

    python -m connectors.kafka.admin check
    python -m connectors.kafka.admin create-topics --partitions 4
    python -m connectors.kafka.admin watch [--topic spreads] [--from earliest]

The checks exist because librdkafka never gives up on an unreachable broker:
Bytewax's stock source would wait forever in ``list_parts``. Every client call
here has a bounded timeout and fails with a message naming the brokers.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, TextIO

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ClusterMetadata, NewTopic

from dataflow.settings import Settings, SettingsError

# Topic roles, with the setting that names each topic (for error messages).
TOPIC_SETTINGS = {
    "assets": "SPREADS_ASSETS_TOPIC",
    "control": "SPREADS_CONTROL_TOPIC",
    "output": "SPREADS_OUTPUT_TOPIC",
    "dlq": "SPREADS_DLQ_TOPIC",
}
# The control topic is the log of which spreads are on and the output topic
# the latest record of each live spread: compaction keeps exactly that.
COMPACTED_ROLES = ("control", "output")


class KafkaSetupError(RuntimeError):
    """The brokers cannot be reached, or a topic the flow needs is missing."""


class TopicSpec(NamedTuple):
    name: str
    partitions: int
    config: dict[str, str]


def quiet_logger() -> logging.Logger:
    """A logger that drops librdkafka's log lines ("Connect ... failed" every
    few ms), for short-lived clients whose own error message says what went wrong."""
    logger = logging.getLogger("spread_join.kafka.quiet")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        logger.setLevel(logging.CRITICAL + 1)
    return logger


def admin_client(brokers: str, quiet: bool = True) -> AdminClient:
    config: dict[str, object] = {"bootstrap.servers": brokers}
    if quiet:
        config["logger"] = quiet_logger()
    return AdminClient(config)


def cluster_metadata(
    brokers: str, timeout: float, client: AdminClient | None = None
) -> ClusterMetadata:
    """The cluster's metadata, or ``KafkaSetupError`` within ``timeout`` seconds."""
    client = client or admin_client(brokers)
    try:
        metadata = client.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise KafkaSetupError(
            f"expected a Kafka broker answering at {brokers} (KAFKA_BROKERS) within "
            f"{timeout:g} s (SPREADS_CONNECT_TIMEOUT), got no answer: {exc.args[0].str()}. "
            "Is the broker running (make kafka-up) and KAFKA_BROKERS right?"
        ) from None
    if not metadata.brokers:  # pragma: no cover - a cluster answers with itself
        raise KafkaSetupError(f"expected Kafka brokers at {brokers}, got an empty cluster")
    return metadata


def check_topics(
    brokers: str,
    timeout: float,
    topics: Mapping[str, str],
    client: AdminClient | None = None,
) -> ClusterMetadata:
    """Check the brokers answer and that every topic exists.

    ``topics`` maps a setting name (e.g. ``SPREADS_ASSETS_TOPIC``) to a topic.
    Raises ``KafkaSetupError`` naming the brokers, or the missing topics.
    """
    metadata = cluster_metadata(brokers, timeout, client)
    missing = []
    for setting, topic in topics.items():
        info = metadata.topics.get(topic)
        if info is None:
            missing.append(f"{topic!r} ({setting})")
        elif info.error is not None:
            missing.append(f"{topic!r} ({setting}): {info.error.str()}")
    if missing:
        raise KafkaSetupError(
            f"expected topics on the Kafka brokers at {brokers}, missing: "
            f"{', '.join(missing)}. Create them with "
            "`python -m connectors.kafka.admin create-topics` (make kafka-topics)."
        )
    return metadata


def topic_names(settings: Settings) -> dict[str, str]:
    """Role -> topic name, from the settings."""
    return {
        "assets": settings.assets_topic,
        "control": settings.control_topic,
        "output": settings.output_topic,
        "dlq": settings.dlq_topic,
    }


def topic_specs(
    settings: Settings,
    partitions: int,
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> list[TopicSpec]:
    """The four topics with ``partitions`` each; ``extra`` maps topic -> config."""
    specs = []
    for role, name in topic_names(settings).items():
        config = {"cleanup.policy": "compact"} if role in COMPACTED_ROLES else {}
        config.update((extra or {}).get(name, {}))
        specs.append(TopicSpec(name, partitions, config))
    return specs


def create_topics(
    brokers: str,
    specs: Iterable[TopicSpec],
    timeout: float = 10.0,
    replication_factor: int = 1,
    exist_ok: bool = True,
) -> dict[str, str]:
    """Create the topics; returns topic -> "created" or "exists"."""
    client = admin_client(brokers)
    cluster_metadata(brokers, timeout, client)  # fail fast, naming the brokers
    specs = list(specs)
    futures = client.create_topics(
        [NewTopic(s.name, s.partitions, replication_factor, config=s.config) for s in specs],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    result = {}
    for name, future in futures.items():
        try:
            future.result(timeout=timeout + 5)
            result[name] = "created"
        except KafkaException as exc:
            error = exc.args[0]
            if exist_ok and error.name() == "TOPIC_ALREADY_EXISTS":
                result[name] = "exists"
            else:
                raise KafkaSetupError(
                    f"could not create topic {name!r} on {brokers}: {error.str()}"
                ) from None
    return result


def delete_topics(brokers: str, names: Sequence[str], timeout: float = 10.0) -> None:
    """Delete topics, ignoring the ones that do not exist."""
    if not names:
        return
    client = admin_client(brokers)  # kept alive until the futures resolve
    futures = client.delete_topics(list(names), operation_timeout=timeout)
    for future in futures.values():
        try:
            future.result(timeout=timeout + 5)
        except KafkaException as exc:
            if exc.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                raise


def watch(
    brokers: str,
    topic: str,
    start: str,
    timeout: float,
    count: int | None = None,
    idle: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Print ``<key>\\t<value>`` lines (``null`` for a tombstone) from every
    partition of ``topic``; stop after ``count`` records or ``idle`` quiet
    seconds, if given. Returns how many were printed."""
    out = out or sys.stdout
    metadata = check_topics(brokers, timeout, {"--topic": topic})
    partitions = metadata.topics[topic].partitions
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"spreads-watch-{uuid.uuid4().hex}",  # assign() only; never commits
            "enable.auto.commit": False,
            "logger": quiet_logger(),
        }
    )
    offset = OFFSET_BEGINNING if start == "earliest" else OFFSET_END
    consumer.assign([TopicPartition(topic, p, offset) for p in partitions])
    printed = 0
    last = time.monotonic()
    try:
        while count is None or printed < count:
            message = consumer.poll(0.2)
            if message is None:
                if idle is not None and time.monotonic() - last > idle:
                    break
                continue
            if message.error():
                raise KafkaSetupError(f"error reading {topic!r}: {message.error().str()}")
            last = time.monotonic()
            key, value = message.key(), message.value()
            key_text = "null" if key is None else key.decode("utf-8", "backslashreplace")
            value_text = "null" if value is None else value.decode("utf-8", "backslashreplace")
            out.write(f"{key_text}\t{value_text}\n")
            out.flush()
            printed += 1
    except (KeyboardInterrupt, BrokenPipeError):
        pass  # Ctrl-C, or the reader went away (watch | head)
    finally:
        consumer.close()
    return printed


def _parse_configs(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """``TOPIC:KEY=VALUE`` options -> topic -> {key: value}."""
    configs: dict[str, dict[str, str]] = {}
    for item in items:
        topic, colon, pair = item.rpartition(":")
        key, equals, value = pair.partition("=")
        if not colon or not topic or not equals or not key:
            raise SettingsError(f"expected --config TOPIC:KEY=VALUE, got {item!r}")
        configs.setdefault(topic, {})[key] = value
    return configs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.kafka.admin",
        description="Kafka topics for the spread join; settings from SPREADS_*/KAFKA_BROKERS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="check the brokers answer and the four topics exist")
    create = commands.add_parser(
        "create-topics", help="create the four topics (control and output compacted)"
    )
    create.add_argument("--partitions", type=int, default=4, help="partitions per topic (4)")
    create.add_argument("--replication-factor", type=int, default=1)
    create.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="TOPIC:KEY=VALUE",
        help="an extra topic config, e.g. spreads:max.message.bytes=1000000 (repeatable)",
    )
    watcher = commands.add_parser("watch", help="print the output topic (or --topic) as it grows")
    watcher.add_argument("--topic", help="topic to watch (default SPREADS_OUTPUT_TOPIC)")
    watcher.add_argument("--from", dest="start", choices=("earliest", "latest"), default="earliest")
    watcher.add_argument("--count", type=int, help="stop after this many records")
    watcher.add_argument("--idle", type=float, help="stop after this many quiet seconds")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        brokers, timeout = settings.brokers, settings.connect_timeout
        if args.command == "check":
            names = topic_names(settings)
            metadata = check_topics(
                brokers, timeout, {TOPIC_SETTINGS[role]: t for role, t in names.items()}
            )
            for role, name in names.items():
                parts = len(metadata.topics[name].partitions)
                print(f"{TOPIC_SETTINGS[role]}={name}: {parts} partitions")
            print(f"brokers at {brokers}: ok")
        elif args.command == "create-topics":
            if args.partitions < 1:
                raise SettingsError(f"expected --partitions >= 1, got {args.partitions}")
            specs = topic_specs(settings, args.partitions, _parse_configs(args.config))
            done = create_topics(brokers, specs, timeout, args.replication_factor)
            for spec in specs:
                if done[spec.name] == "created":
                    print(f"{spec.name}: created ({spec.partitions} partitions, {spec.config})")
                else:  # left as it is: say what it has
                    parts = len(cluster_metadata(brokers, timeout).topics[spec.name].partitions)
                    print(f"{spec.name}: exists ({parts} partitions), left as it is")
        else:
            watch(
                brokers, args.topic or settings.output_topic, args.start, timeout,
                args.count, args.idle,
            )  # fmt: skip
    except (KafkaSetupError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
