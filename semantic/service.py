"""Serve metric queries: list the metrics, compile a query (cached) and run it on DuckDB.

The service never opens the lake itself: it is handed a ``connection_factory`` that returns a
(read-only) DuckDB connection, e.g. ``warehouse.lake.Lake.from_settings().reader``. It keeps that
connection and runs each query on its own cursor, so one service can serve several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from semantic.compiler import build_index, compile_query
from semantic.manifest import Manifest, load_manifest
from semantic.query import MetricQuery


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str | None
    description: str | None
    type: str


@dataclass(frozen=True)
class Result:
    columns: list[str]
    table: pa.Table
    sql: str

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()


@lru_cache(maxsize=256)
def _compiled(manifest: Manifest, query: MetricQuery, dialect: str) -> str:
    return compile_query(manifest, query, dialect)


class MetricService:
    def __init__(
        self,
        manifest_path: str | Path,
        connection_factory: Callable[[], duckdb.DuckDBPyConnection],
    ) -> None:
        self.manifest_path = Path(manifest_path)
        self._factory = connection_factory
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @property
    def manifest(self) -> Manifest:
        """The parsed manifest; re-read only when the file changes (``dbt parse``)."""
        manifest = load_manifest(self.manifest_path)
        build_index(manifest)  # the entity graph, cached beside it
        return manifest

    def list_metrics(self) -> list[MetricInfo]:
        return [
            MetricInfo(m.name, m.label, m.description or None, m.type)
            for m in sorted(self.manifest.metrics, key=lambda m: m.name)
        ]

    def compile(self, query: MetricQuery, dialect: str = "duckdb") -> str:
        return _compiled(self.manifest, query, dialect)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = self._factory()
            return self._con

    def query(self, query: MetricQuery) -> Result:
        sql = self.compile(query)
        cursor = self._connection().cursor()
        try:
            table = cursor.execute(sql).to_arrow_table()
        finally:
            cursor.close()
        return Result(list(table.column_names), table, sql)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> MetricService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
