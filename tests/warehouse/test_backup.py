"""Backup → restore gives the same answers; a bad backup folder changes nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from warehouse.backup import backup, restore
from warehouse.lake import Lake, LakeError
from warehouse.loader import Batch, land

QUERY = "SELECT count(*), sum(id), string_agg(name, ',' ORDER BY id) FROM raw.things"


def _fill(lake: Lake, batch_id: str, ids: range) -> None:
    table = pa.table({"id": list(ids), "name": [f"n{i}" for i in ids]})
    with lake.writing() as con:
        land(con, Batch("things", batch_id, "test", table))


def test_backup_then_restore_gives_identical_results(lake: Lake, tmp_path: Path) -> None:
    _fill(lake, "b1", range(0, 50_000))  # large enough to be Parquet files, not inlined
    _fill(lake, "b2", range(50_000, 50_010))
    with lake.reading() as con:
        before = con.sql(QUERY).fetchall()
    backup(lake, tmp_path / "bk")

    _fill(lake, "b3", range(60_000, 60_100))  # changes after the backup are rolled back
    restore(lake, tmp_path / "bk")
    with lake.reading() as con:
        assert con.sql(QUERY).fetchall() == before
    # the restored lake is writable and knows what it has landed
    with lake.writing() as con:
        assert land(
            con, Batch("things", "b1", "test", pa.table({"id": [1], "name": ["x"]}))
        ).skipped


def test_restore_from_a_folder_that_is_no_backup_changes_nothing(
    lake: Lake, tmp_path: Path
) -> None:
    _fill(lake, "b1", range(10))
    (tmp_path / "junk").mkdir()
    with pytest.raises(LakeError, match="not an OpsLake backup"):
        restore(lake, tmp_path / "junk")
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.things").fetchone()[0] == 10


def test_backup_refuses_a_non_empty_target(lake: Lake, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(LakeError, match="not empty"):
        backup(lake, tmp_path / "full")
