"""docker-compose.yml cannot run here (no Docker engine), so this keeps it
consistent with the code: the settings it passes are the ones
``Settings.from_env`` reads, with valid values and the default topic names; the
modules and scripts it runs exist; the broker image matches the broker version
the project tests against; the dependencies match pyproject.toml."""

from __future__ import annotations

import importlib.util
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dataflow.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
BROKER = "kafka"
# Every service but the broker runs the project's code.
APP_SERVICES = sorted(name for name in SERVICES if name != BROKER)


class Recorder(dict):
    """A mapping that remembers which names were looked up."""

    def __init__(self, data: dict[str, str]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:  # type: ignore[no-untyped-def, override]
        self.read.add(key)
        return super().__contains__(key)


def names_settings_read() -> set[str]:
    recorder = Recorder({})
    Settings.from_env(recorder)
    return recorder.read


def env_of(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    assert isinstance(env, dict), f"{service}: write environment as a mapping"
    return {str(k): str(v) for k, v in env.items()}


def argv_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def modules_run(service: str) -> Iterator[str]:
    argv = argv_of(service)
    for i, arg in enumerate(argv[:-1]):
        if arg == "-m":
            yield argv[i + 1]


def test_the_expected_services_are_there() -> None:
    assert set(SERVICES) >= {BROKER, "topics", "feed", "dataflow", "watch"}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_setting_passed_is_one_the_code_reads(service: str) -> None:
    read = names_settings_read()
    passed = {k for k in env_of(service) if k.startswith(("SPREADS_", "KAFKA_"))}
    assert passed, f"{service} passes no settings"
    unknown = passed - read
    assert not unknown, f"{service} passes settings that Settings.from_env never reads: {unknown}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_settings_are_valid_and_topics_are_the_defaults(service: str) -> None:
    settings = Settings.from_env(env_of(service))  # raises on any bad value
    default = Settings()
    for field in ("assets_topic", "control_topic", "output_topic", "dlq_topic"):
        assert getattr(settings, field) == getattr(default, field), (service, field)


def test_every_app_service_reaches_the_broker_where_it_listens() -> None:
    listeners = env_of(BROKER)["KAFKA_ADVERTISED_LISTENERS"].split(",")
    inside = next(url for url in listeners if url.startswith("PLAINTEXT://")).split("//")[1]
    for service in APP_SERVICES:
        assert env_of(service)["KAFKA_BROKERS"] == inside, service


def test_the_dataflow_runs_in_kafka_mode_with_recovery() -> None:
    env = env_of("dataflow")
    settings = Settings.from_env(env)
    assert (settings.source.kind, settings.sink.kind, settings.dlq.kind) == ("kafka",) * 3
    argv = argv_of("dataflow")
    assert argv[-1] == "scripts/kafka-run.sh"
    script = (ROOT / argv[-1]).read_text()
    for name in ("RECOVERY_DIR", "SNAPSHOT_SECONDS", "BACKUP_SECONDS", "PYTHON"):
        assert name in env, name
        assert re.search(rf"\${{{name}\b", script), f"kafka-run.sh does not read {name}"
    assert "bytewax.recovery" in script and "-r " in script and "-s " in script and "-b " in script
    # The recovery dir outlives the container.
    mount = next(v for v in SERVICES["dataflow"]["volumes"] if v.endswith(":/state"))
    assert env["RECOVERY_DIR"].startswith("/state/")
    assert mount.split(":")[0] in COMPOSE["volumes"]


def test_the_commands_run_modules_that_exist() -> None:
    expected = {
        "topics": "connectors.kafka.admin",
        "feed": "generators.feed",
        "watch": "connectors.kafka.admin",
    }
    for service, module in expected.items():
        assert module in modules_run(service), service
        assert importlib.util.find_spec(module) is not None, module
    assert "create-topics" in argv_of("topics")
    assert "watch" in argv_of("watch")


def test_order_of_start() -> None:
    def needs(service: str, other: str, condition: str) -> bool:
        return SERVICES[service]["depends_on"][other]["condition"] == condition

    assert needs("topics", BROKER, "service_healthy")
    assert needs("topics", "deps", "service_completed_successfully")
    for service in ("feed", "dataflow", "watch"):
        assert needs(service, "topics", "service_completed_successfully"), service


def test_the_broker_image_is_the_tested_kafka_version() -> None:
    pom = (ROOT / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom).group(1)  # type: ignore[union-attr]
    assert SERVICES[BROKER]["image"] == f"apache/kafka:{version}"


def test_the_dependencies_installed_are_the_projects() -> None:
    # (tomllib is 3.11+; the project supports 3.10.)
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.S | re.M).group(1)  # type: ignore[union-attr]
    wanted = set(re.findall(r'"([^"]+)"', block))
    installed = set(re.findall(r'"([^"]+)"', SERVICES["deps"]["command"]))
    assert wanted and installed == wanted
