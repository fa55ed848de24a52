"""Raw batches written as Parquet by Arrow and registered with DuckLake in the caller's
transaction (``ducklake_add_data_files``), instead of ``INSERT … SELECT`` from Arrow.

An ``INSERT`` copies every value of the Arrow table into DuckDB's vectors before its
Parquet writer compresses them: for 100 000 marketplace trades of ~1.3 KB that is
~140 MB copied a batch, into memory DuckDB's allocator hands back to the kernel between
batches, so each batch pays the page faults again (~3 µs each on these VMs, ~0.8 a
trade). Arrow's writer reads the batch's own buffers: 1.1 µs of CPU a row against
3.5–6.8 (decision 0064). DuckLake takes ownership of a registered file, with the
ordinary transaction semantics: a rollback forgets it (we delete it then), compaction
may merge or delete it later.

Only what Arrow writes as DuckDB reads it back goes this way: flat columns of the types
in ``_plain`` whose DuckDB type equals the table column's; a local, unencrypted data
path. Everything else takes the ``INSERT`` path, which remains the reference.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.lake import LAKE

# DuckDB truncates string statistics to 256 characters; a longer min/max (a record's
# JSON text) would be kept whole in the catalog, once a file
_STATS_MAX = 256
_ROW_GROUP = 122_880  # DuckDB's default, the unit its scans split on
_CODECS = {"uncompressed": "none", "lz4_raw": "lz4"}  # DuckDB's names → Arrow's


def _plain(typ: pa.DataType) -> bool:
    return (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_signed_integer(typ)
        or pa.types.is_floating(typ)
        or pa.types.is_boolean(typ)
        or pa.types.is_date32(typ)
        or pa.types.is_decimal128(typ)
        or (pa.types.is_timestamp(typ) and typ.unit == "us" and typ.tz in (None, "UTC"))
    )


def writable(rows: pa.Table, table_types: dict[str, str], duck_types: list[str]) -> bool:
    """Whether ``rows`` (column DuckDB types ``duck_types``) can be written as a file of
    the raw table whose columns are ``table_types``: every column plain, present in the
    table with the same type (the table may have more: they read as NULL)."""
    return all(
        _plain(f.type) and table_types.get(f.name) == duck
        for f, duck in zip(rows.schema, duck_types, strict=True)
    )


def table_folder(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> Path | None:
    """Where DuckLake keeps ``schema.table``'s data files, or None when we must not write
    there ourselves (encrypted files, a remote data path)."""
    meta = f"__ducklake_metadata_{LAKE}"
    options = dict(
        con.execute(
            f"SELECT key, value FROM {meta}.ducklake_metadata WHERE scope IS NULL"
        ).fetchall()
    )
    data_path = options.get("data_path", "")
    if options.get("encrypted", "false") != "false" or "://" in data_path or not data_path:
        return None
    row = con.execute(
        f"SELECT s.path, s.path_is_relative, t.path, t.path_is_relative "
        f"FROM {meta}.ducklake_table t JOIN {meta}.ducklake_schema s USING (schema_id) "
        "WHERE s.schema_name = ? AND t.table_name = ? "
        "AND t.end_snapshot IS NULL AND s.end_snapshot IS NULL",
        [schema, table],
    ).fetchone()
    if row is None:
        return None
    schema_path, schema_rel, table_path, table_rel = row
    base = Path(data_path) / schema_path if schema_rel else Path(schema_path)
    return base / table_path if table_rel else Path(table_path)


def write_and_add(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, folder: Path, rows: pa.Table
) -> Path:
    """Write ``rows`` as one Parquet file in ``folder`` and register it with the table in
    the open transaction; the caller deletes the file if the transaction rolls back."""
    options = _options(con)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ducklake-{uuid.uuid4()}.parquet"
    stats = [
        f.name
        for f, column in zip(rows.schema, rows.columns, strict=True)
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        or (pc.max(pc.binary_length(column)).as_py() or 0) <= _STATS_MAX
    ]
    try:
        pq.write_table(
            rows,
            path,
            row_group_size=int(options.get("parquet_row_group_size", _ROW_GROUP)),
            compression=_CODECS.get(codec := options.get("parquet_compression", "snappy"), codec),
            compression_level=_level(options.get("parquet_compression_level")),
            write_statistics=stats,
        )
        con.execute(
            "CALL ducklake_add_data_files(?, ?, ?, schema => ?, allow_missing => true)",
            [LAKE, table, str(path), schema],
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _options(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The lake's global Parquet options (``set_option``), as DuckLake's writer uses them."""
    rows = con.execute(
        f"SELECT option_name, value FROM {LAKE}.options() "
        "WHERE scope = 'GLOBAL' AND option_name LIKE 'parquet_%'"
    ).fetchall()
    return dict(rows)


def _level(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None
