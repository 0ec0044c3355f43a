"""Fixtures for the Kafka tests: the broker, fresh topics, flow processes.

These tests need a real broker. ``make test`` provides one (KAFKA_BROKERS if
set, else its own, via scripts/with-kafka.sh). Without KAFKA_BROKERS every test
here fails, on purpose: a broker test that skips itself would let CI pass
without ever running it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.kafka.admin import KafkaSetupError, cluster_metadata
from tests.kafka.support import Flows, Topics, drop_topics, make_topics


@pytest.fixture(scope="session")
def brokers() -> str:
    address = os.environ.get("KAFKA_BROKERS", "")
    if not address:
        pytest.fail(
            "KAFKA_BROKERS is not set: the Kafka tests need a real broker. Run them via "
            "`make test` (or `bash scripts/with-kafka.sh .venv/bin/python -m pytest tests/kafka`), "
            "which starts one.",
            pytrace=False,
        )
    try:
        cluster_metadata(address, 15.0)
    except KafkaSetupError as exc:
        pytest.fail(f"{exc} (run the Kafka tests via `make test`)", pytrace=False)
    return address


@pytest.fixture
def topics(brokers: str) -> Iterator[Callable[..., Topics]]:
    """A factory of fresh, uniquely named topic sets, deleted afterwards."""
    made: list[Topics] = []

    def make(partitions: int = 4, config: dict | None = None, prefix: str = "t") -> Topics:
        created = make_topics(brokers, partitions, config, prefix)
        made.append(created)
        return created

    yield make
    for created in made:
        try:
            drop_topics(brokers, created)
        except Exception as exc:  # cleanup must not hide the test's own result
            print(f"could not delete {created}: {exc}")


@pytest.fixture
def flows(tmp_path: Path) -> Iterator[Flows]:
    """Starts flow processes; kills whatever is left of them afterwards."""
    started = Flows(tmp_path / "logs")
    yield started
    started.cleanup()
