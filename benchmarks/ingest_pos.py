"""Raw-zone load of POS CSV files vs DuckDB's own read_csv → Parquet on the same files.

Both report rows per second; the ratio is subject/baseline (higher is better).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.harness import Figure, alternate
from ingest.core import run_stream
from ingest.sources.pos import PosSalesStream
from warehouse.lake import Lake

HEADER = (
    "Date,Time,Store,Terminal,Transaction ID,SKU,Item,Qty,Price,Gross Sales,Discounts,"
    "Net Sales,Event Type,Payment Method,Customer Phone"
)


def make_files(folder: Path, lines: int, files: int = 50) -> int:
    """Write ``lines`` POS lines over ``files`` daily files (deterministic)."""
    per_file = lines // files
    for f in range(files):
        rows = [HEADER]
        for i in range(per_file):
            n = f * per_file + i
            qty = 1 + n % 3
            rows.append(
                f"2026-03-{1 + f % 28:02d},{8 + n % 12:02d}:{n % 60:02d},S0{1 + f % 5},T1,"
                f"TX{n // 3},SKU{n % 200:04d},商品{n % 200},{qty},19.90,{19.9 * qty:.2f},0,"
                f"{19.9 * qty:.2f},Payment,WeChat,1380013{n % 10000:04d}"
            )
        path = folder / f"S0{1 + f % 5}" / f"day-{f:03d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows) + "\n")
    return per_file * files


def run(scale: int | None, ext_dir: Path) -> Figure:
    lines = scale or 200_000
    work = Path(tempfile.mkdtemp(prefix="bench-pos-"))
    try:
        total = make_files(work / "inbox", lines)
        counter = iter(range(10_000))

        def subject() -> float:
            home = work / f"lake-{next(counter)}"
            lake = Lake(home / "catalog.sqlite", home / "data", ext_dir)
            lake.init()

            start = time.perf_counter()
            result = run_stream(lake, PosSalesStream(work / "inbox"))
            elapsed = time.perf_counter() - start
            assert result.rows_landed == total, result
            shutil.rmtree(home)
            return total / elapsed

        def baseline() -> float:

            out = work / f"base-{next(counter)}.parquet"
            start = time.perf_counter()
            con = duckdb.connect()
            con.execute(
                f"COPY (SELECT * FROM read_csv('{work}/inbox/*/*.csv', header=true)) "
                f"TO '{out}' (FORMAT parquet)"
            )
            con.close()
            elapsed = time.perf_counter() - start
            out.unlink()
            return total / elapsed

        subj, base = alternate(subject, baseline)
        return Figure(
            "ingest_pos_rows_per_s",
            "rows/s",
            subj,
            base,
            goal=">= 0.5",
            scale={"order_lines": total},
            higher_is_better=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
