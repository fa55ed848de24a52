"""Master-data providers for reference fields (products, customers, …).

A provider answers ``lookup(key)`` with the row of that key or None. :class:`LakeProvider`
reads a mart of the lake read-only (``warehouse.lake.Lake.reader()``), keeping one
connection open; :class:`TableProvider` serves rows given in memory (tests, small lists).
Which provider serves which name is configuration (``providers.yaml`` beside the forms).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class ProviderUnavailable(RuntimeError):
    """The source of the master data cannot be read right now."""


class MasterDataProvider(Protocol):
    def lookup(self, key: str) -> dict[str, Any] | None: ...


class TableProvider:
    def __init__(self, rows: Iterable[Mapping[str, Any]], key: str) -> None:
        self.rows = {str(row[key]): dict(row) for row in rows}

    def lookup(self, key: str) -> dict[str, Any] | None:
        return self.rows.get(str(key))


class LakeProvider:
    """``SELECT * FROM <table> WHERE <key> = ?`` on a read-only lake connection."""

    def __init__(self, table: str, key: str, lake: Any = None) -> None:
        if not IDENTIFIER.match(table) or not IDENTIFIER.match(key):
            raise ValueError(f"bad table or key name: {table!r}, {key!r}")
        self.table, self.key = table, key
        self._lake = lake
        self._con: Any = None
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        if self._con is None:
            from warehouse.lake import Lake, LakeError

            try:
                lake = self._lake or Lake.from_settings()
                self._con = lake.reader()
            except LakeError as exc:
                raise ProviderUnavailable(str(exc)) from exc
        return self._con

    def lookup(self, key: str) -> dict[str, Any] | None:
        import duckdb

        with self._lock:
            try:
                rel = self._connection().execute(
                    f"SELECT * FROM {self.table} WHERE CAST({self.key} AS VARCHAR) = ? LIMIT 1",
                    [str(key)],
                )
                row = rel.fetchone()
                columns = [d[0] for d in rel.description] if rel.description else []
            except duckdb.Error as exc:
                self.close()
                raise ProviderUnavailable(str(exc)) from exc
        return dict(zip(columns, row, strict=True)) if row else None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def load_providers(path: Path, lake: Any = None) -> dict[str, MasterDataProvider]:
    """``name: {lake: {table: marts.dim_products, key: sku}}`` or ``{rows: [...], key: k}``."""
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    providers: dict[str, MasterDataProvider] = {}
    for name, conf in raw.items():
        if "lake" in conf:
            providers[name] = LakeProvider(conf["lake"]["table"], conf["lake"]["key"], lake)
        else:
            providers[name] = TableProvider(conf.get("rows", []), conf["key"])
    return providers
