"""A generic REST source configured by YAML (``ingest/config/rest/*.yaml``), no Python needed.

A spec names the endpoint, the auth (none / bearer / query token / header token), the
pagination style (page number, offset, ``Link`` header, or a cursor field in the body),
where the records are, the primary key, the cursor field and the query parameter that
takes it, and the typed key columns; the whole record also lands in ``payload``.

Incremental reads ask for ``cursor.param >= last cursor`` and drop the records that sit
exactly on the last cursor and were landed already (their keys travel in the cursor).
A run lands a batch every ``pages_per_batch`` pages; only the last batch moves the cursor,
so a crash replays the run from the same cursor and the same (stream, cursor, page)
batch ids, which the loader skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import yaml

from ingest.core import SourceError, batch_id
from ingest.http import Retryable, next_link
from ingest.sources.api import ApiConfig, Malformed, payload
from warehouse.loader import Batch, Rejected
from warehouse.settings import Settings

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "rest"
TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "decimal": pa.decimal128(18, 2),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
STYLES = ("page", "offset", "link", "cursor")


def dig(doc: Any, path: str) -> Any:
    """``a.b.0.c`` into nested dicts/lists; None when absent."""
    for part in path.split(".") if path else []:
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def _cast(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "string":
        return str(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if kind == "decimal":
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a decimal") from exc
    if isinstance(value, int | float):  # timestamp: epoch seconds (or ms when huge)
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    t = datetime.fromisoformat(str(value))
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class RestSpec:
    name: str
    source: str
    base_url: str
    path: str
    records: str
    primary_key: tuple[str, ...]
    columns: dict[str, tuple[str, str]]  # column -> (record path, type)
    auth: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    pagination: dict[str, Any] = field(default_factory=lambda: {"style": "link"})
    cursor: dict[str, Any] = field(default_factory=dict)
    pages_per_batch: int = 20
    enabled: bool = True

    @classmethod
    def load(cls, path: Path) -> RestSpec:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            spec = cls(
                name=doc["name"],
                source=doc.get("source", doc["name"]),
                base_url=doc["base_url"],
                path=doc.get("path", ""),
                records=doc.get("records", ""),
                primary_key=tuple(doc["primary_key"]),
                columns={k: (v["path"], v.get("type", "string")) for k, v in doc["schema"].items()},
                auth=doc.get("auth") or {"type": "none"},
                params=doc.get("params") or {},
                pagination=doc.get("pagination") or {"style": "link"},
                cursor=doc.get("cursor") or {},
                pages_per_batch=int(doc.get("pages_per_batch", 20)),
                enabled=bool(doc.get("enabled", True)),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: missing or malformed key {exc}") from exc
        bad = [c for c, (_, t) in spec.columns.items() if t not in TYPES]
        if bad or spec.pagination.get("style") not in STYLES:
            raise ValueError(f"{path}: unknown column type in {bad} or pagination style")
        missing = [k for k in spec.primary_key if k not in spec.columns]
        if missing or (spec.cursor and spec.cursor.get("field") is None):
            raise ValueError(f"{path}: primary key {missing} not in schema, or cursor lacks field")
        return spec

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [(c, TYPES[t]) for c, (_, t) in self.columns.items()] + [("payload", pa.string())]
        )


def _secret(auth: dict[str, Any], settings: Settings | None) -> str:
    if "env" in auth:
        return os.environ.get(auth["env"], "")
    if "setting" in auth and settings is not None:
        return str(getattr(settings, auth["setting"]))
    return str(auth.get("value", ""))


def _order(value: Any) -> Any:
    """A sortable form of a cursor value: numbers, ISO times, else text."""
    if isinstance(value, int | float):
        return (0, float(value))
    try:
        return (1, _cast(value, "timestamp").timestamp())
    except (ValueError, TypeError):
        return (2, str(value))


def check(response: httpx.Response, source: str) -> httpx.Response:
    if response.status_code >= 400:
        raise SourceError(f"{source}: HTTP {response.status_code}: {response.text[:300]}")
    try:
        response.json()
    except ValueError as exc:
        raise Retryable(f"not JSON: {response.text[:100]}") from exc
    return response


@dataclass
class RestStream:
    spec: RestSpec
    api: ApiConfig
    token: str = ""
    primary_key: tuple[str, ...] = ()
    cursor_field: str | None = None

    def __post_init__(self) -> None:
        self.name, self.source, self.schema = self.spec.name, self.spec.source, self.spec.schema
        self.primary_key = self.spec.primary_key
        self.cursor_field = self.spec.cursor.get("field")

    def _first(self, base: str, since: str | None) -> dict[str, Any]:
        spec = self.spec
        params = dict(spec.params)
        style = spec.pagination["style"]
        if style == "page":
            params[spec.pagination.get("param", "page")] = spec.pagination.get("start", 1)
        elif style == "offset":
            params[spec.pagination.get("param", "offset")] = 0
        if spec.cursor and since:
            params[spec.cursor["param"]] = since
        return self._auth({"method": "GET", "url": base + spec.path, "params": params})

    def _auth(self, request: dict[str, Any]) -> dict[str, Any]:
        kind = self.spec.auth.get("type", "none")
        headers = dict(request.get("headers") or {})
        if kind == "bearer":
            headers["Authorization"] = f"Bearer {self.token}"
        elif kind == "header":
            headers[self.spec.auth["name"]] = self.token
        elif kind == "query":
            request["params"] = dict(request.get("params") or {}) | {
                self.spec.auth["name"]: self.token
            }
        return request | {"headers": headers}

    def _next(self, request: dict, response: httpx.Response, records: list) -> dict | None:
        p = self.spec.pagination
        style = p["style"]
        if style == "link":
            link = next_link(response)
            return self._auth({"method": "GET", "url": link}) if link else None
        size = int(p.get("size", self.spec.params.get("limit", 0)) or 0)
        params = dict(request.get("params") or {})
        if style == "cursor":
            value = dig(response.json(), p["next"])
            more = dig(response.json(), p["has_more"]) if p.get("has_more") else bool(value)
            if not value or not more:
                return None
            params[p.get("param", "cursor")] = value
        else:
            if not records or (size and len(records) < size):
                return None
            key = p.get("param", style)
            params[key] = int(params[key]) + (1 if style == "page" else len(records))
        return request | {"params": params}

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        state = (
            orjson.loads(cursor) if cursor else {"value": self.spec.cursor.get("start"), "keys": []}
        )
        since, seen = state.get("value"), set(state.get("keys", []))
        top, top_keys = since, set(seen)
        with self.api.endpoint() as base, self.api.client(self.source) as client:
            request: dict | None = self._first(base, since)
            page_no, rows, rejected, first_page = 0, [], [], 1
            while request is not None:
                page_no += 1
                response = client.send(lambda r=request: r, lambda x: check(x, self.source))
                records = dig(response.json(), self.spec.records) or []
                for i, rec in enumerate(records):
                    try:
                        row = self._row(rec)
                    except (Malformed, ValueError, TypeError) as exc:
                        rejected.append(
                            Rejected(f"{self.name} page {page_no} #{i + 1}", str(exc), rec)
                        )
                        continue
                    key = "|".join(str(row[k]) for k in self.primary_key)
                    value = dig(rec, self.cursor_field) if self.cursor_field else None
                    if value is not None and value == since and key in seen:
                        continue  # landed by the run that stopped on this cursor
                    if value is not None and (top is None or _order(value) > _order(top)):
                        top, top_keys = value, {key}
                    elif value is not None and value == top:
                        top_keys.add(key)
                    rows.append(row)
                request = self._next(request, response, records)
                if page_no % self.spec.pages_per_batch == 0 or request is None:
                    last = request is None
                    new = orjson.dumps({"value": top, "keys": sorted(top_keys)}).decode()
                    yield Batch(
                        stream=self.name,
                        batch_id=batch_id(self.name, cursor, first_page),
                        source=self.source,
                        rows=pa.Table.from_pylist(rows, schema=self.schema),
                        rejected=rejected,
                        cursor=new if last else cursor,
                    )
                    rows, rejected, first_page = [], [], page_no + 1

    def _row(self, rec: Any) -> dict[str, Any]:
        if not isinstance(rec, dict):
            raise Malformed("record is not a JSON object")
        row: dict[str, Any] = {}
        for column, (path, kind) in self.spec.columns.items():
            value = dig(rec, path)
            try:
                row[column] = _cast(value, kind)
            except (ValueError, TypeError) as exc:
                raise Malformed(f"{column}: {value!r} is not a {kind} ({exc})") from exc
        for k in self.primary_key:
            if row[k] in (None, ""):
                raise Malformed(f"missing {self.spec.columns[k][0]}")
        row["payload"] = payload(rec)
        return row


def specs(settings: Settings | None = None) -> list[RestSpec]:
    folders = [CONFIG_DIR]
    if settings is not None and settings.rest_config_dir:
        folders.append(Path(settings.rest_config_dir))
    found = [RestSpec.load(p) for d in folders if d.is_dir() for p in sorted(d.glob("*.yaml"))]
    return [s for s in found if s.enabled]


def stream_for(spec: RestSpec, settings: Settings) -> RestStream:
    url = spec.base_url
    explicit = None if url.startswith("{api_url}") else url
    api = ApiConfig.from_settings(settings, explicit, url.removeprefix("{api_url}"))
    return RestStream(spec, api, _secret(spec.auth, settings))


STREAMS = {s.name: (s.source, lambda settings, s=s: stream_for(s, settings)) for s in specs()}
