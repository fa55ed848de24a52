"""One writer, many readers: readers never fail and never see half a batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from warehouse.lake import Lake

WORKERS = Path(__file__).with_name("lake_workers.py")


def _spawn(role: str, home: Path, ext: Path, arg: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKERS), role, str(home), str(ext), str(arg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_writer_loop_with_three_readers_has_no_errors(lake: Lake, home: Path) -> None:
    readers = [_spawn("reader", home, lake.extension_dir, 12) for _ in range(3)]
    time.sleep(1.0)
    writer = _spawn("writer", home, lake.extension_dir, 40)
    _, werr = writer.communicate(timeout=120)
    assert writer.returncode == 0, werr
    reports = []
    for r in readers:
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0, err
        reports.append(json.loads(out))
    assert all(rep["errors"] == [] for rep in reports), reports
    assert all(rep["queries"] > 5 for rep in reports), reports
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.events").fetchone()[0] == 40 * 1000


def test_writer_killed_mid_batch_leaves_all_or_nothing_and_next_run_completes(
    lake: Lake, home: Path
) -> None:
    rows = 3_000_000
    proc = _spawn("big", home, lake.extension_dir, rows)
    deadline = time.monotonic() + 60
    while not (home / "started").exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    killed_mid_batch = not (home / "finished").exists()

    with lake.reading() as con:
        tables = {
            r[0]
            for r in con.sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
        seen = con.sql("SELECT count(*) FROM raw.big").fetchone()[0] if "big" in tables else 0
        landed = (
            con.sql("SELECT count(*) FROM raw._batches WHERE batch_id = 'big-1'").fetchone()[0]
            if "_batches" in tables
            else 0
        )
    assert seen in (0, rows)
    assert landed == (1 if seen else 0)

    # the next run completes and lands the batch exactly once
    rerun = _spawn("big", home, lake.extension_dir, rows)
    _, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.big").fetchone()[0] == rows
        assert (
            con.sql("SELECT count(*) FROM raw._batches WHERE batch_id='big-1'").fetchone()[0] == 1
        )
        assert (
            con.sql("SELECT cursor FROM raw._cursors WHERE stream='big'").fetchone()[0]
            == "after-big"
        )
    print(f"killed mid-batch: {killed_mid_batch}; rows visible after the kill: {seen}")
