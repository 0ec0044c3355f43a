"""All settings, read from the environment in one place: ``Settings.from_env()``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """A setting has a value the flow cannot use."""


@dataclass(frozen=True)
class Endpoint:
    """Where a stream comes from or goes to: ``kind`` plus an optional path."""

    # source: demo | tape | kafka; sink: stdout | jsonl | kafka; dlq: stderr | jsonl | kafka
    kind: str
    path: str | None = None

    @classmethod
    def parse(
        cls, name: str, text: str, kinds: tuple[str, ...], with_path: tuple[str, ...]
    ) -> Endpoint:
        kind, sep, path = text.partition(":")
        if kind in with_path:
            if not sep or not path:
                raise SettingsError(f"expected {name}={kind}:PATH, got {text!r}")
            return cls(kind, path)
        if kind in kinds and not sep:
            return cls(kind)
        choices = ", ".join([*kinds, *(f"{k}:PATH" for k in with_path)])
        raise SettingsError(f"expected {name} to be one of {choices}; got {text!r}")


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"expected {name} to be a {kind.__name__}, got {text!r}") from None
    if value < 0 or (value == 0 and kind is float):
        raise SettingsError(f"expected {name} to be above 0, got {text!r}")
    return value


@dataclass(frozen=True)
class Settings:
    source: Endpoint = Endpoint("demo")
    sink: Endpoint = Endpoint("stdout")
    dlq: Endpoint = Endpoint("stderr")
    # Demo generators.
    assets: tuple[str, ...] = ("A", "B", "C", "D", "E")
    rate: float = 1.0  # updates per second per asset
    seed: int | None = None
    duration: float | None = None  # seconds; None runs forever
    toggle_every: float = 3.0  # mean seconds between spread toggles
    initial_spreads: int = 3
    # Kafka.
    brokers: str = "127.0.0.1:9092"
    assets_topic: str = "assets"
    control_topic: str = "active_spreads"
    output_topic: str = "spreads"
    dlq_topic: str = "spreads.dlq"
    assets_from: str = "latest"  # without recovery state: earliest | latest
    control_from: str = "earliest"
    connect_timeout: float = 10.0  # seconds to wait for the brokers before failing
    delivery_timeout: float = 30.0  # seconds a record may take to reach Kafka before failing

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        get = env.get
        assets = tuple(
            a.strip() for a in get("SPREADS_ASSETS", "A,B,C,D,E").split(",") if a.strip()
        )
        if len(assets) < 2 or len(set(assets)) != len(assets):
            raise SettingsError(
                "expected SPREADS_ASSETS to list two or more distinct assets, "
                f"got {get('SPREADS_ASSETS')!r}"
            )
        seed_text = get("SPREADS_SEED", "")
        try:
            seed = int(seed_text) if seed_text else None
        except ValueError:
            raise SettingsError(f"expected SPREADS_SEED to be an int, got {seed_text!r}") from None
        duration_text = get("SPREADS_DURATION", "")
        for name in ("SPREADS_ASSETS_FROM", "SPREADS_CONTROL_FROM"):
            if get(name, "earliest") not in ("earliest", "latest"):
                raise SettingsError(f"expected {name} to be earliest or latest, got {get(name)!r}")
        return cls(
            source=Endpoint.parse(
                "SPREADS_SOURCE", get("SPREADS_SOURCE", "demo"), ("demo", "kafka"), ("tape",)
            ),
            sink=Endpoint.parse(
                "SPREADS_SINK", get("SPREADS_SINK", "stdout"), ("stdout", "kafka"), ("jsonl",)
            ),
            dlq=Endpoint.parse(
                "SPREADS_DLQ", get("SPREADS_DLQ", "stderr"), ("stderr", "kafka"), ("jsonl",)
            ),
            assets=assets,
            rate=_number(env, "SPREADS_RATE", 1.0),
            seed=seed,
            duration=_number(env, "SPREADS_DURATION", 0.0) if duration_text else None,
            toggle_every=_number(env, "SPREADS_TOGGLE_EVERY", 3.0),
            initial_spreads=int(_number(env, "SPREADS_INITIAL_SPREADS", 3, int)),
            brokers=get("KAFKA_BROKERS", "127.0.0.1:9092"),
            assets_topic=get("SPREADS_ASSETS_TOPIC", "assets"),
            control_topic=get("SPREADS_CONTROL_TOPIC", "active_spreads"),
            output_topic=get("SPREADS_OUTPUT_TOPIC", "spreads"),
            dlq_topic=get("SPREADS_DLQ_TOPIC", "spreads.dlq"),
            assets_from=get("SPREADS_ASSETS_FROM", "latest"),
            control_from=get("SPREADS_CONTROL_FROM", "earliest"),
            connect_timeout=_number(env, "SPREADS_CONNECT_TIMEOUT", 10.0),
            delivery_timeout=_number(env, "SPREADS_DELIVERY_TIMEOUT", 30.0),
        )
