"""The connector core: a stream reads from its saved cursor and yields batches.

A stream knows its name, primary key, cursor field and Arrow schema. The runner asks
the lake for the stream's cursor, lets the stream read from there and lands every
batch it yields with the loader, which stores the new cursor in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from warehouse.lake import Lake
from warehouse.loader import Batch, LoadResult, cursor_of, ensure_table, land, parts_landed

Progress = Callable[[str, int, int | None], None]


class SourceError(RuntimeError):
    """A source could not be read; the message says which and why."""


class Stream(Protocol):
    name: str
    source: str
    primary_key: tuple[str, ...]
    cursor_field: str | None
    schema: pa.Schema

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        """Yield batches newer than ``cursor`` whose parts are not in ``landed_parts``.

        Each batch carries the stream's cursor after it (API streams) or the content ids
        of the inputs it holds (file streams)."""
        ...


@dataclass(frozen=True)
class StreamResult:
    stream: str
    batches: int
    batches_skipped: int
    rows_landed: int
    rows_quarantined: int
    cursor: str | None
    new_columns: tuple[str, ...]


def batch_id(*parts: object) -> str:
    """A deterministic batch id, so the same input always maps to the same batch."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:32]


def run_stream(lake: Lake, stream: Stream, progress: Progress | None = None) -> StreamResult:
    results: list[LoadResult] = []
    # a stream may feed another stream's raw table (``table``); its cursor stays its own
    table = getattr(stream, "table", None) or stream.name
    with lake.writing() as con:
        ensure_table(con, table, stream.schema)
        cursor = cursor_of(con, stream.name)
        for batch in stream.read(cursor, parts_landed(con, table)):
            results.append(land(con, batch))
            if progress:
                progress(stream.name, len(results), None)
        final_cursor = cursor_of(con, stream.name)
    new_cols: list[str] = []
    for r in results:
        new_cols.extend(r.new_columns)
    return StreamResult(
        stream=stream.name,
        batches=len(results),
        batches_skipped=sum(r.skipped for r in results),
        rows_landed=sum(r.rows_landed for r in results),
        rows_quarantined=sum(r.rows_quarantined for r in results),
        cursor=final_cursor,
        new_columns=tuple(new_cols),
    )
