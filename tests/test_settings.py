"""Settings: read from the environment in one place, with clear errors."""

from __future__ import annotations

import pytest

from dataflow.settings import Endpoint, Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.source == Endpoint("demo")
    assert s.sink == Endpoint("stdout")
    assert s.dlq == Endpoint("stderr")
    assert s.assets == ("A", "B", "C", "D", "E")
    assert (s.rate, s.seed, s.duration) == (1.0, None, None)


def test_everything_from_env() -> None:
    s = Settings.from_env(
        {
            "SPREADS_SOURCE": "tape:/tmp/x.tape",
            "SPREADS_SINK": "jsonl:out.jsonl",
            "SPREADS_DLQ": "kafka",
            "SPREADS_ASSETS": "BTC_USDT, ETH_USDT",
            "SPREADS_RATE": "2.5",
            "SPREADS_SEED": "7",
            "SPREADS_DURATION": "30",
        }
    )
    assert s.source == Endpoint("tape", "/tmp/x.tape")
    assert s.sink == Endpoint("jsonl", "out.jsonl")
    assert s.dlq == Endpoint("kafka")
    assert s.assets == ("BTC_USDT", "ETH_USDT")
    assert (s.rate, s.seed, s.duration) == (2.5, 7, 30.0)


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"SPREADS_SOURCE": "tape"}, "expected SPREADS_SOURCE=tape:PATH, got 'tape'"),
        ({"SPREADS_SOURCE": "file:x"}, "expected SPREADS_SOURCE to be one of demo, kafka, tape"),
        ({"SPREADS_SINK": "stdout:x"}, "expected SPREADS_SINK to be one of stdout, kafka"),
        ({"SPREADS_RATE": "fast"}, "expected SPREADS_RATE to be a float, got 'fast'"),
        ({"SPREADS_RATE": "0"}, "expected SPREADS_RATE to be above 0, got '0'"),
        ({"SPREADS_SEED": "x"}, "expected SPREADS_SEED to be an int, got 'x'"),
        ({"SPREADS_ASSETS": "A"}, "expected SPREADS_ASSETS to list two or more distinct"),
        ({"SPREADS_ASSETS": "A,A"}, "expected SPREADS_ASSETS to list two or more distinct"),
        ({"SPREADS_ASSETS_FROM": "start"}, "expected SPREADS_ASSETS_FROM to be earliest or"),
    ],
)
def test_bad_settings_say_what_was_expected(env: dict[str, str], error: str) -> None:
    with pytest.raises(SettingsError, match=error.replace("(", r"\(")):
        Settings.from_env(env)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().rate = 2.0  # type: ignore[misc]
