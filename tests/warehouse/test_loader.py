"""The raw-zone loader: idempotent, atomic batches with quarantine and schema evolution."""

from __future__ import annotations

import pyarrow as pa
import pytest

from warehouse.lake import Lake
from warehouse.loader import Batch, LoadError, Rejected, cursor_of, land


def _batch(batch_id: str, ids: list[int], **extra: list[object]) -> Batch:
    cols = {"id": ids, "name": [f"n{i}" for i in ids], **extra}
    return Batch("things", batch_id, "test", pa.table(cols), cursor=f"c-{batch_id}")


def test_same_batch_twice_adds_nothing(lake: Lake) -> None:
    with lake.writing() as con:
        first = land(con, _batch("b1", [1, 2, 3]))
        again = land(con, _batch("b1", [1, 2, 3]))
        rows = con.sql("SELECT count(*) FROM raw.things").fetchone()[0]
        batches = con.sql("SELECT count(*) FROM raw._batches WHERE batch_id = 'b1'").fetchone()[0]
    assert (first.rows_landed, first.skipped) == (3, False)
    assert (again.rows_landed, again.skipped) == (0, True)
    assert rows == 3 and batches == 1


def test_quarantine_and_cursor_land_with_the_rows(lake: Lake) -> None:
    batch = _batch("b1", [1, 2])
    batch.rejected = [Rejected("file.csv:7", "Qty 'x' is not a whole number", {"qty": "x"})]
    with lake.writing() as con:
        land(con, batch)
        q = con.sql("SELECT stream, location, reason, record FROM raw._quarantine").fetchall()
        cur = cursor_of(con, "things")
    assert q == [("things", "file.csv:7", "Qty 'x' is not a whole number", '{"qty": "x"}')]
    assert cur == "c-b1"


def test_added_column_is_kept_and_recorded(lake: Lake) -> None:
    with lake.writing() as con:
        land(con, _batch("b1", [1]))
        result = land(con, _batch("b2", [2], member_level=["gold"]))
        rows = con.sql("SELECT id, member_level FROM raw.things ORDER BY id").fetchall()
        changes = con.sql("SELECT stream, column_name FROM raw._schema_changes").fetchall()
    assert result.new_columns == ("member_level",)
    assert rows == [(1, None), (2, "gold")]
    assert changes == [("things", "member_level")]


def test_a_failing_batch_lands_nothing_and_keeps_the_cursor(lake: Lake) -> None:
    with lake.writing() as con:
        land(con, _batch("b1", [1]))
        # a column whose type cannot be stored in the existing one fails the insert
        bad = Batch("things", "b2", "test", pa.table({"id": ["not-a-number"]}), cursor="c-b2")
        with pytest.raises(Exception, match="(?i)conver|cast"):
            land(con, bad)
        assert con.sql("SELECT count(*) FROM raw.things").fetchone()[0] == 1
        assert cursor_of(con, "things") == "c-b1"
        assert con.sql("SELECT count(*) FROM raw._batches").fetchone()[0] == 1


def test_bad_names_are_refused_before_anything_lands(lake: Lake) -> None:
    with lake.writing() as con, pytest.raises(LoadError, match="not a valid stream"):
        land(con, Batch("Things; drop", "b1", "test", pa.table({"id": [1]})))


def test_small_batches_land_in_parquet_and_a_fresh_reader_sees_them(lake: Lake) -> None:
    # 3 rows across schema versions of other tables: DuckLake would inline them in the catalog
    with lake.writing() as con:
        land(con, _batch("b1", [1, 2, 3]))
        land(con, Batch("others", "o1", "test", pa.table({"k": [1]})))
        land(con, _batch("b2", [4], member_level=["gold"]))
        files = con.execute(
            "SELECT count(*) FROM ducklake_list_files('lake', 'things', schema => 'raw')"
        ).fetchone()[0]
        inlined = con.execute(
            "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_inlined_data_tables"
        ).fetchone()[0]
    assert files == 2 and inlined == 0
    with lake.reading() as fresh:
        assert fresh.execute("SELECT count(*) FROM raw.things").fetchone()[0] == 4


def test_what_does_not_fit_in_memory_spills_beside_the_lake(lake: Lake, tmp_path, monkeypatch):
    """DuckDB's default spill folder is ``.tmp`` in the working directory (a checkout, for
    dbt run from models/); the lake's connections spill into ``<lake>/spill`` instead."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    small = Lake(lake.catalog_path, lake.data_path, lake.extension_dir, memory_limit="64MB")
    with small.writing() as con:
        assert con.execute("select current_setting('temp_directory')").fetchone()[0] == str(
            lake.spill_path
        )
        top = con.execute(
            "select max(rn) from (select row_number() over (order by hash(i)) as rn"
            " from range(8000000) as t(i))"
        ).fetchone()[0]
    assert top == 8_000_000
    assert not (cwd / ".tmp").exists()
