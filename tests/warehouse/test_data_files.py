"""Batches written as Parquet by Arrow and registered with DuckLake (decision 0064):
what lands is what was sent, in the batch's transaction, and anything else takes the
INSERT path."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from warehouse.lake import Lake
from warehouse.loader import Batch, Rejected, cursor_of, ensure_table, land

SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("qty", pa.int64()),
        ("amount", pa.decimal128(18, 2)),
        ("modified_at", pa.timestamp("us", tz="UTC")),
        ("payload", pa.string()),
    ]
)
T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _rows(ids: list[int]) -> pa.Table:
    return pa.table(
        [
            [f"订单-{i}" for i in ids],
            ids,
            [Decimal(f"{i}.25") for i in ids],
            [T0] * len(ids),
            # longer than DuckDB's 256-character statistics
            ['{"note": "' + "长" * 300 + f'", "i": {i}}}' for i in ids],
        ],
        schema=SCHEMA,
    )


def _our_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Data files of raw.orders registered by name (ours carry no field ids)."""
    return [
        r[0]
        for r in con.execute(
            "SELECT f.path FROM __ducklake_metadata_lake.ducklake_data_file f "
            "JOIN __ducklake_metadata_lake.ducklake_table t USING (table_id) "
            "WHERE t.table_name = 'orders' AND f.mapping_id IS NOT NULL AND f.end_snapshot IS NULL"
        ).fetchall()
    ]


def _folder(lake: Lake) -> Path:
    return lake.data_path / "raw" / "orders"


@pytest.fixture
def con(lake: Lake):
    with lake.writing() as con:
        ensure_table(con, "orders", SCHEMA)
        yield con


def test_a_batch_lands_as_a_file_of_ours_with_every_value_as_sent(con, lake: Lake) -> None:
    result = land(con, Batch("orders", "b1", "shop", _rows([1, 2, 3]), cursor="c1"))
    got = con.sql(
        "SELECT order_id, qty, amount, modified_at, payload, _batch_id, _source "
        "FROM raw.orders ORDER BY qty"
    ).fetchall()
    assert result.rows_landed == 3 and cursor_of(con, "orders") == "c1"
    assert len(_our_files(con)) == 1
    assert [r[:5] for r in got] == [
        (f"订单-{i}", i, Decimal(f"{i}.25"), T0, '{"note": "' + "长" * 300 + f'", "i": {i}}}')
        for i in (1, 2, 3)
    ]
    assert {r[5:] for r in got} == {("b1", "shop")}
    # a record's text is not copied whole into the catalog as min/max statistics
    long_stats = con.sql(
        "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_file_column_stats "
        "WHERE length(min_value) > 256 OR length(max_value) > 256"
    ).fetchone()[0]
    assert long_stats == 0


def test_a_failure_after_the_file_was_registered_leaves_no_row_no_cursor_no_file(
    con, lake: Lake
) -> None:
    land(con, Batch("orders", "b1", "shop", _rows([1]), cursor="c1"))
    before = sorted(p.name for p in _folder(lake).iterdir())
    # the quarantine insert after the file fails: a location DuckDB cannot bind
    bad = Batch("orders", "b2", "shop", _rows([2, 3]), cursor="c2")
    bad.rejected = [Rejected(object(), "bad", None)]  # type: ignore[arg-type]
    with pytest.raises(duckdb.Error):
        land(con, bad)
    assert con.sql("SELECT count(*) FROM raw.orders").fetchone()[0] == 1
    assert cursor_of(con, "orders") == "c1"
    assert sorted(p.name for p in _folder(lake).iterdir()) == before
    # and the batch lands whole when sent again
    land(con, Batch("orders", "b2", "shop", _rows([2, 3]), cursor="c2"))
    assert con.sql("SELECT count(*) FROM raw.orders").fetchone()[0] == 3


def test_a_batch_without_a_newer_column_reads_null_there(con) -> None:
    wider = _rows([1]).append_column("channel", pa.array(["web"]))
    land(con, Batch("orders", "b1", "shop", wider, cursor="c1"))  # adds the column (INSERT)
    land(con, Batch("orders", "b2", "shop", _rows([2]), cursor="c2"))  # ours, one column short
    got = con.sql("SELECT qty, channel FROM raw.orders ORDER BY qty").fetchall()
    assert got == [(1, "web"), (2, None)]
    assert len(_our_files(con)) == 1


def test_a_column_of_another_type_takes_the_insert_path(con) -> None:
    narrow = _rows([1]).set_column(1, "qty", pa.array([1], pa.int32()))
    land(con, Batch("orders", "b1", "shop", narrow, cursor="c1"))
    assert con.sql("SELECT qty, typeof(qty) FROM raw.orders").fetchall() == [(1, "BIGINT")]
    assert _our_files(con) == []


def test_the_lake_compression_option_is_followed(con, lake: Lake) -> None:
    con.execute("CALL lake.set_option('parquet_compression', 'zstd')")
    land(con, Batch("orders", "b1", "shop", _rows([1, 2]), cursor="c1"))
    (name,) = _our_files(con)
    codec = con.execute(
        "SELECT DISTINCT compression FROM parquet_metadata(?)", [str(_folder(lake) / name)]
    ).fetchall()
    assert codec == [("ZSTD",)]


def test_files_of_ours_and_duckdb_s_compact_into_the_same_rows(con) -> None:
    land(
        con,
        Batch(
            "orders",
            "b1",
            "shop",
            _rows([1]).set_column(1, "qty", pa.array([1], pa.int32())),
            cursor="c1",
        ),
    )
    land(con, Batch("orders", "b2", "shop", _rows([2, 3]), cursor="c2"))
    land(con, Batch("orders", "b3", "shop", _rows([4]), cursor="c3"))
    query = "SELECT order_id, qty, amount, modified_at, payload FROM raw.orders ORDER BY qty"
    before = con.sql(query).fetchall()
    con.execute("CALL ducklake_merge_adjacent_files('lake', 'orders', schema => 'raw')")
    files = con.sql(
        "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file f "
        "JOIN __ducklake_metadata_lake.ducklake_table t USING (table_id) "
        "WHERE t.table_name = 'orders' AND f.end_snapshot IS NULL"
    ).fetchone()[0]
    assert files == 1
    assert con.sql(query).fetchall() == before and len(before) == 4
