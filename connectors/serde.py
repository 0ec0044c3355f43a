"""Bytes in, bytes out: tape lines, joined records and dead letters."""

from __future__ import annotations

import orjson

from dataflow.messages import DeadLetter, Origin, RawMessage

_new = tuple.__new__  # builds a NamedTuple without its slow keyword-aware __new__


def decode_tape_line(line: bytes, origin: Origin) -> RawMessage | None:
    """``<stream>\\t<payload>`` -> RawMessage; None for blank and ``#`` lines."""
    line = line.rstrip(b"\r\n")
    if not line.strip() or line.startswith(b"#"):
        return None
    stream, tab, payload = line.partition(b"\t")
    if not tab:
        return _new(RawMessage, (None, line, origin))
    return _new(RawMessage, (stream.decode("utf-8", "backslashreplace"), payload, origin))


def encode_tape_line(stream: str, payload: bytes) -> bytes:
    return stream.encode() + b"\t" + payload + b"\n"


def encode_record(record: tuple[str, str | None]) -> bytes:
    """A joined ``(spread, value)`` record (value None: tombstone) as JSON."""
    spread, value = record
    return orjson.dumps({"spread": spread, "value": value})


def encode_records(records: list[tuple[str, str | None]]) -> bytes:
    """Many records as JSON lines, without the last newline."""
    dumps = orjson.dumps
    return b"\n".join([dumps({"spread": spread, "value": value}) for spread, value in records])


def origin_fields(origin: Origin | None) -> dict | None:
    if origin is None:
        return None
    source, partition, offset = origin
    if partition is None:
        return {"source": source, "line": offset}
    return {"topic": source, "partition": partition, "offset": offset}


def encode_dead_letter(letter: DeadLetter) -> bytes:
    """A dead letter as JSON: its stream, the reason and the raw payload as text."""
    payload = letter.payload
    doc = {
        "stream": letter.stream,
        "error": letter.error,
        "message": None if payload is None else payload.decode("utf-8", "backslashreplace"),
    }
    if letter.origin is not None:
        doc["origin"] = origin_fields(letter.origin)
    return orjson.dumps(doc)
