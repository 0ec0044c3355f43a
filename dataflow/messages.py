"""Message shapes and validation. Pure: no Bytewax import.

Every raw message is either turned into a typed event or into a ``DeadLetter``
whose ``error`` says what was expected and what arrived.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

ASSETS = "assets"
ACTIVE_SPREADS = "active_spreads"
STREAMS = (ASSETS, ACTIVE_SPREADS)


class Origin(NamedTuple):
    """Where a raw message came from: a Kafka topic/partition/offset or a tape line."""

    source: str  # topic name or tape path
    partition: int | None  # Kafka partition; None for tapes and generators
    offset: int  # Kafka offset, tape line number, generator sequence number


class RawMessage(NamedTuple):
    """One message as it arrived: its stream name and the raw payload bytes."""

    stream: str | None  # None: the transport could not tell (e.g. a tape line without a tab)
    payload: bytes | None  # None: a Kafka record with a null value
    origin: Origin | None = None


class Toggle(NamedTuple):
    """A validated control message, as delivered to one of its two legs."""

    spread: str
    asset_1: str
    asset_2: str
    on: bool
    leg: int = 0  # which leg receives it: 0 for asset_1, 1 for asset_2


class DeadLetter(NamedTuple):
    """A message that could not be used, with the reason and the raw payload."""

    stream: str | None
    error: str
    payload: bytes | None
    origin: Origin | None = None


def describe(value: object) -> str:
    """Name a JSON value's type and show it briefly, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        return "empty string" if value == "" else f"string {_short(orjson.dumps(value))}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__  # pragma: no cover - orjson yields only the above


def _short(raw: bytes, limit: int = 60) -> str:
    text = raw.decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_object(payload: bytes | None) -> dict | str:
    """Decode a payload into a JSON object, or return the error text."""
    if payload is None:
        return "expected a JSON object, got a null payload (a tombstone)"
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return f"expected a UTF-8 JSON object, got invalid JSON ({exc})"
    if type(doc) is not dict:
        return f"expected a JSON object, got {describe(doc)}"
    return doc


def _non_empty_string(doc: dict, field: str) -> str | None:
    """Return the error text if ``doc[field]`` is not a non-empty string."""
    if field not in doc:
        return f"expected field {field!r} (a non-empty string), got no such field"
    value = doc[field]
    if type(value) is not str or value == "":
        return f"expected {field!r} to be a non-empty string, got {describe(value)}"
    return None


def parse_asset(payload: bytes | None) -> tuple[str, str] | str:
    """Validate an ``assets`` message: ``(asset, value)``, or the error text."""
    doc = load_object(payload)
    if type(doc) is str:
        return doc
    asset = doc.get("asset")
    value = doc.get("value")
    # Fast path: the common, valid shape.
    if type(asset) is str and asset and type(value) is str:
        return asset, value
    error = _non_empty_string(doc, "asset")
    if error:
        return error
    if "value" not in doc:
        return "expected field 'value' (a string), got no such field"
    return f"expected 'value' to be a string, got {describe(value)}"


def parse_control(payload: bytes | None) -> Toggle | str:
    """Validate an ``active_spreads`` message: a ``Toggle``, or the error text."""
    doc = load_object(payload)
    if type(doc) is str:
        return doc
    for field in ("spread", "asset_1", "asset_2"):
        error = _non_empty_string(doc, field)
        if error:
            return error
    spread, asset_1, asset_2 = doc["spread"], doc["asset_1"], doc["asset_2"]
    if "trigger" not in doc:
        return "expected field 'trigger' (a JSON boolean), got no such field"
    trigger = doc["trigger"]
    if type(trigger) is not bool:
        return f"expected 'trigger' to be a JSON boolean, got {describe(trigger)}"
    if asset_1 == asset_2:
        return f"expected 'asset_1' and 'asset_2' to differ, got {asset_1!r} for both"
    expected = f"{asset_1}_{asset_2}"
    if spread != expected:
        return f"expected 'spread' to be asset_1 + '_' + asset_2 = {expected!r}, got {spread!r}"
    return Toggle(spread, asset_1, asset_2, trigger)


# What the routing step emits: an asset-keyed event (a new value or a toggle),
# or a dead letter keyed by its stream name.
AssetEvent = str | Toggle


def route(message: RawMessage) -> list[tuple[str, AssetEvent | DeadLetter]]:
    """Turn one raw message into asset-keyed events, or one keyed dead letter.

    A control message goes to *both* legs' keys, so that each asset sees its
    toggles and its value updates in input order.
    """
    stream, payload = message.stream, message.payload
    if stream == ASSETS:
        parsed = parse_asset(payload)
        if type(parsed) is tuple:
            return [parsed]
    elif stream == ACTIVE_SPREADS:
        parsed = parse_control(payload)
        if type(parsed) is Toggle:
            return [(parsed.asset_1, parsed), (parsed.asset_2, parsed._replace(leg=1))]
    elif stream is None:
        parsed = "expected a tape line '<stream>\\t<payload>', got a line without a tab"
    else:
        parsed = f"expected stream 'assets' or 'active_spreads', got {stream!r}"
    return [(stream or "", DeadLetter(stream, parsed, payload, message.origin))]
