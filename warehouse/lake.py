"""The lake: a DuckLake with a SQLite catalog (WAL) and Parquet data.

One writer at a time, any number of read-only readers. Readers never block the
writer (WAL) and never see half a commit (DuckLake snapshots).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import duckdb

from warehouse.extensions import base_config, ensure_extensions
from warehouse.settings import Settings, get_settings

LAKE = "lake"  # the name the lake is attached under in every connection
T = TypeVar("T")


class LakeError(RuntimeError):
    """A lake problem a person can act on (message says what and where)."""


@dataclass(frozen=True)
class Lake:
    catalog_path: Path
    data_path: Path
    extension_dir: Path
    threads: int = 2
    memory_limit: str = "3GB"

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Lake:
        s = settings or get_settings()
        return cls(
            catalog_path=s.catalog_path,
            data_path=s.data_path,
            extension_dir=s.extension_dir,
            threads=s.duckdb_threads,
            memory_limit=s.duckdb_memory_limit,
        )

    # -- setup -------------------------------------------------------------
    def exists(self) -> bool:
        return self.catalog_path.exists()

    def init(self) -> None:
        """Create the lake if missing (idempotent) and put its catalog in WAL mode."""
        ensure_extensions(self.extension_dir)
        try:
            self.catalog_path.parent.mkdir(parents=True, exist_ok=True)
            self.data_path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeError(
                f"cannot create the lake at {self.catalog_path.parent}: {exc.strerror}"
            ) from exc
        if self.catalog_path.exists():
            # the lake folder may have moved (a copied var/, a restore): follow it
            point_catalog_at(self.catalog_path, self.data_path)
        con = self._connect(read_only=False, create=True)
        try:
            _no_inlining(con)
        finally:
            con.close()
        with sqlite3.connect(self.catalog_path) as cat:
            cat.execute("PRAGMA journal_mode=WAL")

    @property
    def spill_path(self) -> Path:
        """Where DuckDB writes what does not fit in ``memory_limit`` (its default is a
        ``.tmp`` folder in the working directory: a checkout, for dbt run from models/)."""
        return self.catalog_path.parent / "spill"

    # -- connections -------------------------------------------------------
    def _connect(self, *, read_only: bool, create: bool = False) -> duckdb.DuckDBPyConnection:
        if not create and not self.catalog_path.exists():
            raise LakeError(
                f"no lake at {self.catalog_path.parent} (run `opslake lake init` or `make up`)"
            )
        config = base_config(self.extension_dir) | {
            "threads": self.threads,
            "memory_limit": self.memory_limit,
            "temp_directory": str(self.spill_path),
        }
        con = duckdb.connect(config=config)
        # the catalog records its data path at creation; give it only then
        options = [] if self.catalog_path.exists() else [f"DATA_PATH '{self.data_path}/'"]
        if read_only:
            options.append("READ_ONLY")
        try:
            con.execute("LOAD ducklake")
            opts = f" ({', '.join(options)})" if options else ""
            con.execute(f"ATTACH 'ducklake:sqlite:{self.catalog_path}' AS {LAKE}{opts}")
            con.execute(f"USE {LAKE}")
        except duckdb.Error as exc:
            con.close()
            raise LakeError(f"cannot open the lake at {self.catalog_path}: {exc}") from exc
        return con

    def writer(self) -> duckdb.DuckDBPyConnection:
        """A writing connection. Callers hold at most one at a time (Dagster pool ``lake``)."""
        return self._connect(read_only=False)

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection; keep it open, attaching costs ~150 ms."""
        return self._connect(read_only=True)

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.reader()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.writer()
        try:
            yield con
        finally:
            con.close()

    def sqlalchemy_uri(self, *, read_only: bool = True) -> str:
        """duckdb-engine URI for Superset and other SQLAlchemy readers."""
        params = {
            "extension_directory": str(self.extension_dir),
            "autoinstall_known_extensions": "false",
            "threads": str(self.threads),
            "memory_limit": self.memory_limit,
        }
        if read_only:
            params["access_mode"] = "read_only"
        return f"duckdb:///ducklake:sqlite:{self.catalog_path}?{urlencode(params)}"

    # -- catalog -----------------------------------------------------------
    def snapshots(self) -> list[dict[str, object]]:
        with self.reading() as con:
            rel = con.sql(f"SELECT * FROM {LAKE}.snapshots() ORDER BY snapshot_id")
            cols = rel.columns
            return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def _no_inlining(con: duckdb.DuckDBPyConnection) -> None:
    """Every insert goes to Parquet: DuckLake 1.0 inlines inserts of up to 10 rows into the
    catalog by default, and a fresh reader of inlined rows written across schema versions
    can see none of them (docs/decisions/0008-no-data-inlining.md). The option is stored in
    the catalog, so dbt, Superset and every later writer follow it."""
    row = con.execute(
        f"SELECT value FROM {LAKE}.options() WHERE option_name = 'data_inlining_row_limit'"
        " AND scope = 'GLOBAL'"
    ).fetchone()
    if row is None or row[0] != "0":
        con.execute(f"CALL {LAKE}.set_option('data_inlining_row_limit', 0)")


def point_catalog_at(catalog: Path, data_path: Path) -> None:
    """Record ``data_path`` as the lake's data folder in its catalog."""
    with sqlite3.connect(catalog) as con:
        con.execute(
            "UPDATE ducklake_metadata SET value = ? WHERE key = 'data_path' AND value <> ?",
            [f"{data_path}/", f"{data_path}/"],
        )


def retry_locked(fn: Callable[[], T], *, attempts: int = 20, delay: float = 0.1) -> T:
    """Run ``fn`` again when the catalog is briefly locked by another process.

    SQLite in WAL mode still serialises writers: a commit racing another writer's
    commit (or a checkpoint) fails with ``database is locked``. It is safe to retry
    because a failed DuckLake commit changes nothing.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except duckdb.Error as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or attempt == attempts - 1:
                raise
            time.sleep(delay * (attempt + 1))
    raise AssertionError("unreachable")
