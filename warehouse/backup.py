"""Backup and restore of the whole lake (catalog + Parquet data).

Data files of a DuckLake are immutable once committed, so a consistent copy is: an
online SQLite backup of the catalog first, then every data file. Files written after
the catalog copy are orphans the restored catalog never references.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from warehouse.lake import Lake, LakeError, point_catalog_at

CATALOG = "catalog.sqlite"
DATA = "data"


def backup(lake: Lake, target: Path) -> Path:
    """Copy the lake into ``target`` (a new or empty folder)."""
    if not lake.exists():
        raise LakeError(f"no lake at {lake.catalog_path.parent} to back up")
    if target.exists() and any(target.iterdir()):
        raise LakeError(f"backup target {target} is not empty; choose a new folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LakeError(f"cannot create backup folder {target}: {exc.strerror}") from exc
    src = sqlite3.connect(lake.catalog_path)
    dst = sqlite3.connect(target / CATALOG)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    shutil.copytree(lake.data_path, target / DATA, dirs_exist_ok=True)
    return target


def restore(lake: Lake, source: Path) -> None:
    """Replace the lake by the backup in ``source``; the old lake is kept beside it."""
    if not (source / CATALOG).is_file() or not (source / DATA).is_dir():
        raise LakeError(f"{source} is not an OpsLake backup (needs {CATALOG} and {DATA}/)")
    lake_dir = lake.catalog_path.parent
    staging = lake_dir.with_name(lake_dir.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy2(source / CATALOG, staging / CATALOG)
    shutil.copytree(source / DATA, staging / DATA)
    # The catalog records an absolute data path; the restored lake lives where ours lives.
    point_catalog_at(staging / CATALOG, lake.data_path)
    if lake_dir.exists():
        lake_dir.rename(lake_dir.with_name(f"{lake_dir.name}.before-restore-{int(time.time())}"))
    staging.rename(lake_dir)
