"""Bytewax sinks for joined records and dead letters.

``LinesSink`` writes one JSON line per item to a file or to stdout/stderr. It
has a single partition, so exactly one worker writes and lines never interleave,
whatever the worker or process count; on resume a file is cut back to the
offset of the last snapshot, so a recovered run repeats nothing in it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition

V = TypeVar("V")
Encoder = Callable[[V], bytes]  # item -> one line, without the newline


class _LinesPartition(StatefulSinkPartition[V, int], Generic[V]):
    def __init__(self, out: BinaryIO, encode: Encoder, owned: bool) -> None:
        self._out = out
        self._encode = encode
        self._owned = owned

    def write_batch(self, items: list[V]) -> None:
        encode = self._encode
        self._out.write(b"".join([encode(item) + b"\n" for item in items]))
        self._out.flush()

    def snapshot(self) -> int:
        return self._out.tell() if self._owned else 0

    def close(self) -> None:
        if self._owned:
            self._out.close()
        else:
            self._out.flush()


class LinesSink(FixedPartitionedSink[V, int]):
    """JSON lines to ``path``, or to ``sys.stdout``/``sys.stderr`` (``"-"``/``"="``)."""

    STDOUT = "-"
    STDERR = "="

    def __init__(self, path: str | Path, encode: Encoder) -> None:
        self._path = str(path)
        self._encode = encode

    def list_parts(self) -> list[str]:
        return [self._path]

    def part_fn(self, item_key: str) -> int:
        return 0

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _LinesPartition:
        if self._path == self.STDOUT:
            return _LinesPartition(sys.stdout.buffer, self._encode, owned=False)
        if self._path == self.STDERR:
            return _LinesPartition(sys.stderr.buffer, self._encode, owned=False)
        path = Path(self._path)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = open(path, "r+b" if path.exists() else "wb")  # noqa: SIM115 - closed in close()
        out.seek(resume_state or 0)
        out.truncate()
        return _LinesPartition(out, self._encode, owned=True)
