"""Processes the concurrency tests run against one lake (python lake_workers.py ROLE ...)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyarrow as pa

from warehouse.lake import Lake
from warehouse.loader import Batch, land

ROWS_PER_BATCH = 1000


def _lake(home: str) -> Lake:
    root = Path(home)
    return Lake(root / "lake" / "catalog.sqlite", root / "lake" / "data", Path(sys.argv[3]))


def writer(home: str, batches: int) -> None:
    lake = _lake(home)
    with lake.writing() as con:
        for i in range(batches):
            ids = list(range(i * ROWS_PER_BATCH, (i + 1) * ROWS_PER_BATCH))
            land(
                con,
                Batch("events", f"b{i}", "test", pa.table({"id": ids, "batch_no": [i] * len(ids)})),
            )


def reader(home: str, seconds: float) -> None:
    """Query while the writer writes; every batch seen must be whole."""
    lake = _lake(home)
    errors: list[str] = []
    queries = 0
    con = lake.reader()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            rows = (
                con.sql("SELECT batch_no, count(*) FROM raw.events GROUP BY batch_no").fetchall()
                if _has_events(con)
                else []
            )
            queries += 1
            torn = [(b, n) for b, n in rows if n != ROWS_PER_BATCH]
            if torn:
                errors.append(f"torn batches {torn}")
        except Exception as exc:  # every failure is counted, none hidden
            errors.append(repr(exc))
        # a fresh connection now and then, as a new dashboard session would
        if queries % 10 == 0:
            con.close()
            con = lake.reader()
    con.close()
    print(json.dumps({"queries": queries, "errors": errors}))


def _has_events(con) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        con.sql(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'events'"
        ).fetchall()
    )


def big_batch(home: str, rows: int) -> None:
    """Land one large batch, telling the parent just before the commit work starts."""
    lake = _lake(home)
    table = pa.table({"id": pa.array(range(rows), pa.int64()), "batch_no": pa.array([0] * rows)})
    with lake.writing() as con:
        Path(home, "started").touch()
        land(con, Batch("big", "big-1", "test", table, cursor="after-big"))
    Path(home, "finished").touch()


if __name__ == "__main__":
    role, home = sys.argv[1], sys.argv[2]
    arg = sys.argv[4]
    {
        "writer": lambda: writer(home, int(arg)),
        "reader": lambda: reader(home, float(arg)),
        "big": lambda: big_batch(home, int(arg)),
    }[role]()
