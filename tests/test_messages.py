"""Validation: each rule, with the error text it produces."""

from __future__ import annotations

import pytest

from dataflow.messages import DeadLetter, RawMessage, Toggle, parse_asset, parse_control, route


def test_valid_asset_update_ignores_other_keys() -> None:
    assert parse_asset(b'{"asset": "A", "value": "0x1", "venue": "X"}') == ("A", "0x1")


def test_asset_value_may_be_any_string_even_empty() -> None:
    assert parse_asset(b'{"asset": "BTC_USDT", "value": ""}') == ("BTC_USDT", "")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"not json", "expected a UTF-8 JSON object, got invalid JSON ("),
        (b"\xff\xfe", "expected a UTF-8 JSON object, got invalid JSON ("),
        (b"[1, 2]", "expected a JSON object, got array"),
        (b'"A"', 'expected a JSON object, got string "A"'),
        (b"null", "expected a JSON object, got null"),
        (None, "expected a JSON object, got a null payload (a tombstone)"),
        (b'{"value": "0x1"}', "expected field 'asset' (a non-empty string), got no such field"),
        (b'{"asset": "", "value": "0x1"}', "expected 'asset' to be a non-empty string, got empty"),
        (b'{"asset": 7, "value": "0x"}', "expected 'asset' to be a non-empty string, got number 7"),
        (b'{"asset": "A"}', "expected field 'value' (a string), got no such field"),
        (b'{"asset": "A", "value": 12}', "expected 'value' to be a string, got number 12"),
        (b'{"asset": "A", "value": null}', "expected 'value' to be a string, got null"),
    ],
)
def test_invalid_asset_updates(payload: bytes | None, error: str) -> None:
    result = parse_asset(payload)
    assert isinstance(result, str)
    assert result.startswith(error), result


def test_valid_control_message() -> None:
    payload = b'{"spread": "A_B", "asset_1": "A", "asset_2": "B", "trigger": false, "x": 1}'
    assert parse_control(payload) == Toggle("A_B", "A", "B", False)


def test_assets_may_contain_underscores() -> None:
    payload = (
        b'{"spread": "BTC_USDT_ETH_USDT", "asset_1": "BTC_USDT", '
        b'"asset_2": "ETH_USDT", "trigger": true}'
    )
    assert parse_control(payload) == Toggle("BTC_USDT_ETH_USDT", "BTC_USDT", "ETH_USDT", True)


def control(**fields: object) -> bytes:
    import orjson

    doc = {"spread": "A_B", "asset_1": "A", "asset_2": "B", "trigger": True}
    doc.update(fields)
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"{", "expected a UTF-8 JSON object, got invalid JSON ("),
        (b"true", "expected a JSON object, got boolean true"),
        (control(spread=...), "expected field 'spread' (a non-empty string), got no such field"),
        (control(asset_1=""), "expected 'asset_1' to be a non-empty string, got empty string"),
        (control(asset_2=["B"]), "expected 'asset_2' to be a non-empty string, got array"),
        (control(trigger=...), "expected field 'trigger' (a JSON boolean), got no such field"),
        (control(trigger="true"), "expected 'trigger' to be a JSON boolean, got string \"true\""),
        (control(trigger=1), "expected 'trigger' to be a JSON boolean, got number 1"),
        (control(trigger=None), "expected 'trigger' to be a JSON boolean, got null"),
        (
            control(spread="A_A", asset_2="A"),
            "expected 'asset_1' and 'asset_2' to differ, got 'A' for both",
        ),
        (
            control(spread="B_A"),
            "expected 'spread' to be asset_1 + '_' + asset_2 = 'A_B', got 'B_A'",
        ),
        (
            control(spread="AB"),
            "expected 'spread' to be asset_1 + '_' + asset_2 = 'A_B', got 'AB'",
        ),
    ],
)
def test_invalid_control_messages(payload: bytes, error: str) -> None:
    result = parse_control(payload)
    assert isinstance(result, str)
    assert result.startswith(error), result


def test_route_sends_a_toggle_to_both_legs_in_order() -> None:
    payload = control()
    routed = route(RawMessage("active_spreads", payload))
    assert routed == [
        ("A", Toggle("A_B", "A", "B", True, leg=0)),
        ("B", Toggle("A_B", "A", "B", True, leg=1)),
    ]


def test_route_keys_updates_by_asset() -> None:
    assert route(RawMessage("assets", b'{"asset": "A", "value": "v"}')) == [("A", "v")]


@pytest.mark.parametrize(
    ("stream", "error"),
    [
        ("quotes", "expected stream 'assets' or 'active_spreads', got 'quotes'"),
        (None, "expected a tape line '<stream>\\t<payload>', got a line without a tab"),
    ],
)
def test_route_dead_letters_unknown_streams(stream: str | None, error: str) -> None:
    [(key, letter)] = route(RawMessage(stream, b"{}"))
    assert letter == DeadLetter(stream, error, b"{}", None)
    assert key == (stream or "")


def test_route_dead_letter_keeps_raw_payload_and_reason() -> None:
    [(key, letter)] = route(RawMessage("assets", b'{"asset": "A"}'))
    assert key == "assets"
    assert letter.payload == b'{"asset": "A"}'
    assert letter.error == "expected field 'value' (a string), got no such field"
