"""The ops app's own database (SQLite or PostgreSQL), read incrementally by update time.

The app layer's transactions reach the lake like any other system's: every new
version of a form record lands in raw with the cursor ``<updated_at>|<id>``.

``updated_at`` is stamped by the app just before it commits, so a record can become
visible slightly after a later-stamped one. Rows younger than ``settle_seconds`` are left
for the next run; the cursor then never passes a record that was still committing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import sqlalchemy as sa

from ingest.core import SourceError, batch_id
from warehouse.loader import Batch

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("form_name", pa.string()),
        ("form_version", pa.int64()),
        ("data", pa.string()),
        ("status", pa.string()),
        ("created_by", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)

_records = sa.table(
    "form_records",
    *(
        sa.column(n, sa.DateTime() if n.endswith("_at") else None)
        for n in (
            "id",
            "form_name",
            "form_version",
            "data",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        )
    ),
)


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    ts, _, rid = cursor.partition("|")
    return datetime.fromisoformat(ts), int(rid)


@dataclass
class AppRecordsStream:
    url: str
    page_size: int = 5000
    settle_seconds: float = 2.0
    name: str = "app_form_records"
    source: str = "app_db"
    primary_key: tuple[str, ...] = ("id", "updated_at")
    cursor_field: str | None = "updated_at"
    schema: pa.Schema = field(default_factory=lambda: SCHEMA)

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        engine = sa.create_engine(self.url)
        try:
            position = _parse_cursor(cursor)
            while True:
                rows = self._page(engine, position)
                if not rows:
                    return
                last = rows[-1]
                new_cursor = f"{last['updated_at'].isoformat()}|{last['id']}"
                yield Batch(
                    stream=self.name,
                    batch_id=batch_id(self.name, cursor, new_cursor),
                    source=self.source,
                    rows=pa.Table.from_pylist(rows, schema=self.schema),
                    cursor=new_cursor,
                )
                cursor, position = new_cursor, (last["updated_at"], last["id"])
                if len(rows) < self.page_size:
                    return
        except sa.exc.OperationalError as exc:
            raise SourceError(f"cannot read the app database: {exc.orig}") from exc
        finally:
            engine.dispose()

    def _page(self, engine: sa.Engine, position: tuple[datetime, int] | None) -> list[dict]:
        settled = datetime.now(UTC) - timedelta(seconds=self.settle_seconds)
        if engine.dialect.name == "sqlite":
            settled = settled.replace(tzinfo=None)  # the app stores naive UTC text there
        query = (
            sa.select(_records)
            .where(_records.c.updated_at <= settled)
            .order_by(_records.c.updated_at, _records.c.id)
        )
        if position is not None:
            ts, rid = position
            query = query.where(
                sa.or_(
                    _records.c.updated_at > ts,
                    sa.and_(_records.c.updated_at == ts, _records.c.id > rid),
                )
            )
        with engine.connect() as con:
            rows = [dict(r._mapping) for r in con.execute(query.limit(self.page_size))]
        for r in rows:
            for key in ("created_at", "updated_at"):
                if r[key] is not None and r[key].tzinfo is None:
                    r[key] = r[key].replace(tzinfo=UTC)
            if not isinstance(r["data"], str):
                r["data"] = json.dumps(r["data"], ensure_ascii=False)
        return rows


STREAMS = {"app_form_records": ("app_db", lambda s: AppRecordsStream(s.app_db))}
