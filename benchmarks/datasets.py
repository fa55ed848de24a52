"""Benchmark data sets, prepared once and reused: the demo company landed in a lake.

``demo_lake(scale, seed, ext_dir)`` returns an OpsLake home (``<home>/lake``, ``<home>/demo``)
holding the demo company generated at ``scale`` ORDER LINES (≈ 2.4 lines per order, the
unit of ``BENCH_SCALE``) and ingested into the raw zone by the real connectors
(`opslake ingest`). The first call for a (scale, seed) builds it under
``var/bench/demo-<scale>-s<seed>/`` (git-ignored; a temporary sibling is renamed into place
when complete, so an interrupted run leaves no half cache); later calls return it as is.

The cached home is shared: treat it as read-only. ``working_copy(home, dest)`` gives a
writable copy that costs almost nothing: DuckLake never rewrites a Parquet file, so data
files are hard-linked and only the catalog is copied (then re-pointed at its new data path).

    .venv/bin/python -m benchmarks.datasets --scale 6000000   # prepare the cache ahead
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "var" / "bench"
LINES_PER_ORDER = 2.4  # the demo generator's mean, measured on its truth.json


def orders_for(lines: int) -> int:
    """Demo generator orders for about ``lines`` order lines (the generator's minimum is 1000)."""
    return max(1000, round(lines / LINES_PER_ORDER))


def _log(message: str) -> None:
    print(f"[datasets] {message}", file=sys.stderr, flush=True)


def demo_lake(scale: int, seed: int, ext_dir: Path) -> Path:
    """The home of a lake holding the demo company at ``scale`` order lines (built once)."""
    home = CACHE / f"demo-{scale}-s{seed}"
    if (home / "READY").exists():
        return home
    tmp = CACHE / f".demo-{scale}-s{seed}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        timings = _prepare(tmp, scale, seed, ext_dir)
        (tmp / "READY").write_text(
            "".join(f"{k}\t{v:.1f}\n" for k, v in timings.items()), encoding="utf-8"
        )
        shutil.rmtree(home, ignore_errors=True)
        tmp.rename(home)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point_at(home, ext_dir)
    return home


def _env(home: Path, ext_dir: Path) -> dict[str, str]:
    return os.environ | {
        "OPSLAKE_HOME": str(home),
        "OPSLAKE_EXTENSION_DIR": str(ext_dir),
        "DAGSTER_HOME": str(home / "dagster"),
    }


def _prepare(home: Path, scale: int, seed: int, ext_dir: Path) -> dict[str, float]:
    orders = orders_for(scale)
    env = _env(home, ext_dir)
    opslake = str(REPO / ".venv/bin/opslake")
    timings: dict[str, float] = {}
    from apps.ops.core.db import migrate

    migrate(f"sqlite:///{home / 'app.db'}")  # the app store's streams read an empty store
    for step, argv in (
        ("generate_s", [opslake, "demo", "generate", "--scale", str(orders), "--seed", str(seed)]),
        ("ingest_s", [opslake, "ingest"]),
    ):
        _log(f"{step[:-2]} {orders:,} orders (≈{scale:,} lines) into {home}")
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(
                f"{' '.join(argv[1:])} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
            )
        timings[step] = time.perf_counter() - start
        _log(f"{step[:-2]} took {timings[step]:.0f} s")
    return timings


def _point_at(home: Path, ext_dir: Path) -> None:
    """Re-point the lake's catalog at its (moved) data folder."""
    from warehouse.lake import Lake

    lake_dir = home / "lake"
    Lake(lake_dir / "catalog.sqlite", lake_dir / "data", ext_dir).init()


def working_copy(home: Path, dest: Path, ext_dir: Path) -> Path:
    """A writable copy of a cached home at ``dest``: data hard-linked, catalog copied."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in home.iterdir():
        if entry.name == "lake":
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, copy_function=os.link)
        else:
            shutil.copy2(entry, dest / entry.name)
    (dest / "lake").mkdir()
    for entry in (home / "lake").iterdir():
        if entry.name == "data":
            shutil.copytree(entry, dest / "lake" / "data", copy_function=os.link)
        elif entry.name.startswith("catalog.sqlite"):
            shutil.copy2(entry, dest / "lake" / entry.name)  # with its -wal, if any
    _point_at(dest, ext_dir)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, required=True, help="order lines")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    from warehouse.extensions import ensure_extensions

    ext = CACHE / "duckdb_ext"
    ensure_extensions(ext)
    print(demo_lake(args.scale, args.seed, ext))


if __name__ == "__main__":
    main()
