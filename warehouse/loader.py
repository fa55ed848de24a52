"""The raw-zone loader: idempotent, all-or-nothing batches with quarantine and cursors.

A batch is an Arrow table for one stream plus its rejected records and the stream's new
cursor. ``land`` commits all three in one DuckLake transaction, so a crash can never
advance a cursor past data that did not land, and a reader sees the whole batch or none
of it. A batch id already in ``raw._batches`` is skipped, so replaying a batch adds
nothing.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse import data_files
from warehouse.lake import Lake, retry_locked

RAW = "raw"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

_BOOKKEEPING = f"""
CREATE SCHEMA IF NOT EXISTS {RAW};
CREATE TABLE IF NOT EXISTS {RAW}._batches (
    batch_id VARCHAR, stream VARCHAR, source VARCHAR, rows_landed BIGINT,
    rows_quarantined BIGINT, cursor VARCHAR, received_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS {RAW}._quarantine (
    batch_id VARCHAR, stream VARCHAR, source VARCHAR, location VARCHAR,
    reason VARCHAR, record VARCHAR, received_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS {RAW}._cursors (
    stream VARCHAR, cursor VARCHAR, batch_id VARCHAR, updated_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS {RAW}._batch_parts (
    batch_id VARCHAR, stream VARCHAR, part_id VARCHAR, label VARCHAR
);
CREATE TABLE IF NOT EXISTS {RAW}._schema_changes (
    stream VARCHAR, column_name VARCHAR, column_type VARCHAR, batch_id VARCHAR,
    changed_at TIMESTAMPTZ
);
"""

# columns the loader adds to every raw row
META_COLUMNS = ("_batch_id", "_source", "_received_at")


class LoadError(ValueError):
    """A batch was refused as a whole; nothing of it landed."""


@dataclass(frozen=True)
class Rejected:
    """A record that could not be used, with where it came from and why."""

    location: str
    reason: str
    record: object = None


@dataclass
class Batch:
    stream: str
    batch_id: str
    source: str
    rows: pa.Table
    rejected: Sequence[Rejected] = field(default_factory=list)
    cursor: str | None = None
    # content ids of the inputs (e.g. file hashes) with a label each (e.g. the file name):
    # a part lands once, whatever batch it travels in
    parts: Sequence[tuple[str, str]] = ()
    # the raw table, when it is not the stream's own: a second stream feeding a table (e.g.
    # Shopify webhooks into shopify_orders) keeps its own cursor, under its stream name
    table: str | None = None


@dataclass(frozen=True)
class LoadResult:
    stream: str
    batch_id: str
    rows_landed: int
    rows_quarantined: int
    skipped: bool
    new_columns: tuple[str, ...] = ()


# connections that already created the bookkeeping tables (six DDL statements per call
# otherwise, each a catalog round trip, on every batch of every stream)
_ensured: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def ensure_raw(con: duckdb.DuckDBPyConnection) -> None:
    if con in _ensured:
        return
    # one DuckLake commit for the six statements instead of one each: on a new lake they
    # took 0.5-1.4 s here (load ~11) and 0.06-0.23 s in one transaction
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:  # the caller's open transaction takes them
        con.execute(_BOOKKEEPING)
    else:
        try:
            con.execute(_BOOKKEEPING)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    _ensured.add(con)


def _check_name(name: str) -> str:
    if not _IDENT.match(name):
        raise LoadError(f"'{name}' is not a valid stream or column name (lower_snake_case)")
    return name


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str] | None:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [RAW, table],
    ).fetchall()
    return {name: dtype for name, dtype in rows} if rows else None


def _duck_type(con: duckdb.DuckDBPyConnection, arrow_type: pa.DataType) -> str:
    if pa.types.is_null(arrow_type):
        return "VARCHAR"
    if (known := _DUCK_TYPES.get(arrow_type)) is not None:
        return known
    con.register("_type_probe", pa.table({"c": pa.array([], type=arrow_type)}))
    try:
        known = _DUCK_TYPES[arrow_type] = str(con.sql("SELECT c FROM _type_probe").types[0])
        return known
    finally:
        con.unregister("_type_probe")


# Arrow type → DuckDB type name, as DuckDB maps it (the same in every connection)
_DUCK_TYPES: dict[pa.DataType, str] = {}


def cursor_of(con: duckdb.DuckDBPyConnection, stream: str) -> str | None:
    ensure_raw(con)
    row = con.execute(
        f"SELECT cursor FROM {RAW}._cursors WHERE stream = ? ORDER BY updated_at DESC LIMIT 1",
        [stream],
    ).fetchone()
    return row[0] if row else None


def batch_landed(con: duckdb.DuckDBPyConnection, batch_id: str) -> bool:
    ensure_raw(con)
    return (
        con.execute(
            f"SELECT count(*) FROM {RAW}._batches WHERE batch_id = ?", [batch_id]
        ).fetchone()[0]
        > 0
    )


def ensure_table(con: duckdb.DuckDBPyConnection, stream: str, schema: pa.Schema) -> None:
    """Create the raw table of a stream that has not landed anything yet.

    Models downstream can then be built (empty) before the first record arrives.
    """
    ensure_raw(con)
    table = _check_name(stream)
    if _existing_columns(con, table) is not None:
        return
    empty = schema.empty_table()
    for name, typ in (
        ("_batch_id", pa.string()),
        ("_source", pa.string()),
        ("_received_at", pa.timestamp("us", tz="UTC")),
    ):
        empty = empty.append_column(name, pa.array([], typ))
    con.register("_empty", empty)
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW}.{table} AS SELECT * FROM _empty")
    finally:
        con.unregister("_empty")


def parts_landed(con: duckdb.DuckDBPyConnection, stream: str) -> set[str]:
    ensure_raw(con)
    rows = con.execute(
        f"SELECT part_id FROM {RAW}._batch_parts WHERE stream = ?", [stream]
    ).fetchall()
    return {r[0] for r in rows}


def _land(con: duckdb.DuckDBPyConnection, batch: Batch) -> LoadResult:
    table = _check_name(batch.table or batch.stream)
    cursor_key = _check_name(batch.stream)
    for name in batch.rows.column_names:
        _check_name(name)
    now = datetime.now(UTC)
    written: list[Path] = []  # our Parquet files: deleted if the transaction rolls back
    con.execute("BEGIN TRANSACTION")
    try:
        if batch_landed(con, batch.batch_id):
            con.execute("ROLLBACK")
            return LoadResult(table, batch.batch_id, 0, 0, skipped=True)
        rows = batch.rows
        n = rows.num_rows
        # constant columns repeated in Arrow: a list of n Python datetimes converted to
        # Arrow took ~0.09 s per 100 000 rows here, pa.repeat ~0.1 ms
        rows = rows.append_column("_batch_id", _constant(batch.batch_id, pa.string(), n))
        rows = rows.append_column("_source", _constant(batch.source, pa.string(), n))
        rows = rows.append_column("_received_at", _constant(now, _RECEIVED_AT, n))
        existing = _existing_columns(con, table)
        new_columns: list[str] = []
        if existing is None or not _land_file(con, table, existing, rows, written):
            new_columns = _insert(con, table, existing, rows, batch.batch_id, now)
        for r in batch.rejected:
            con.execute(
                f"INSERT INTO {RAW}._quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    batch.batch_id,
                    table,
                    batch.source,
                    r.location,
                    r.reason,
                    json.dumps(r.record, ensure_ascii=False, default=str),
                    now,
                ],
            )
        if batch.parts:
            con.executemany(
                f"INSERT INTO {RAW}._batch_parts VALUES (?, ?, ?, ?)",
                [[batch.batch_id, table, pid, label] for pid, label in batch.parts],
            )
        if batch.cursor is not None:
            con.execute(f"DELETE FROM {RAW}._cursors WHERE stream = ?", [cursor_key])
            con.execute(
                f"INSERT INTO {RAW}._cursors VALUES (?, ?, ?, ?)",
                [cursor_key, batch.cursor, batch.batch_id, now],
            )
        con.execute(
            f"INSERT INTO {RAW}._batches VALUES (?, ?, ?, ?, ?, ?, ?)",
            [batch.batch_id, table, batch.source, n, len(batch.rejected), batch.cursor, now],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return LoadResult(table, batch.batch_id, n, len(batch.rejected), False, tuple(new_columns))


def _land_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    existing: dict[str, str],
    rows: pa.Table,
    written: list[Path],
) -> bool:
    """``rows`` as a Parquet file of Arrow's, registered with the table; False (nothing
    done) when the batch or the lake needs the ``INSERT`` path (``warehouse.data_files``)."""
    if rows.num_rows == 0:  # an empty batch (its cursor and quarantine still land)
        return all(name in existing for name in rows.column_names)
    duck_types = [_duck_type(con, t) for t in rows.schema.types]
    if not data_files.writable(rows, existing, duck_types):
        return False
    folder = data_files.table_folder(con, RAW, table)
    if folder is None:
        return False
    written.append(data_files.write_and_add(con, RAW, table, folder, rows))
    return True


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    existing: dict[str, str] | None,
    rows: pa.Table,
    batch_id: str,
    now: datetime,
) -> list[str]:
    """``rows`` into the table through DuckDB (created, or given the batch's new columns,
    each recorded in ``_schema_changes``); the columns added."""
    new_columns: list[str] = []
    con.register("_incoming", rows)
    try:
        if existing is None:
            con.execute(f"CREATE TABLE {RAW}.{table} AS SELECT * FROM _incoming")
            return new_columns
        for name, typ in zip(rows.column_names, rows.schema.types, strict=True):
            if name not in existing:
                duck_type = _duck_type(con, typ)
                con.execute(f'ALTER TABLE {RAW}.{table} ADD COLUMN "{name}" {duck_type}')
                con.execute(
                    f"INSERT INTO {RAW}._schema_changes VALUES (?, ?, ?, ?, ?)",
                    [table, name, duck_type, batch_id, now],
                )
                new_columns.append(name)
        cols = ", ".join(f'"{c}"' for c in rows.column_names)
        con.execute(f"INSERT INTO {RAW}.{table} ({cols}) SELECT {cols} FROM _incoming")
        return new_columns
    finally:
        con.unregister("_incoming")


_RECEIVED_AT = pa.timestamp("us", tz="UTC")


def _constant(value: object, typ: pa.DataType, n: int) -> pa.Array:
    """``n`` times ``value`` as an Arrow array of ``typ``."""
    return pa.repeat(pa.scalar(value, typ), n)


def land(con: duckdb.DuckDBPyConnection, batch: Batch) -> LoadResult:
    """Land one batch atomically; replaying a landed batch id is a no-op."""
    ensure_raw(con)
    return retry_locked(lambda: _land(con, batch))


def land_all(lake: Lake, batches: Sequence[Batch]) -> list[LoadResult]:
    with lake.writing() as con:
        return [land(con, b) for b in batches]
