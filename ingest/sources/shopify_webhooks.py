"""Shopify order webhooks stored by the ops app → ``raw.shopify_orders``, beside the REST pull.

The ops app verifies each delivery (``X-Shopify-Hmac-Sha256``) and stores its raw body once
per webhook id in the app table ``shopify_webhooks``. This stream reads that table by
(``received_at``, ``id``) and lands every order version in the same raw table and shape as
the REST stream (``ingest/sources/shopify.py``, same conversion), so staging keeps taking
the latest version per (channel, order id) by ``modified_at``. Its cursor is its own
(``shopify_order_webhooks`` in ``raw._cursors``) and lands with each batch.

Rows younger than ``settle_seconds`` wait for the next run: a row stamped earlier may still
be committing. No app store, or one without the table yet, means no webhooks: nothing lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import sqlalchemy as sa

from ingest.core import SourceError, batch_id
from ingest.sources.api import ORDER_SCHEMA, Malformed
from ingest.sources.shopify import order_row
from warehouse.loader import Batch, Rejected
from warehouse.settings import Settings

TABLE = sa.table(
    "shopify_webhooks",
    sa.column("id", sa.Integer()),
    sa.column("webhook_id", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("received_at", sa.DateTime()),
)


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    at, _, rid = cursor.rpartition("|")
    return datetime.fromisoformat(at), int(rid)


REST_TABLE = "shopify_orders"


@dataclass
class ShopifyWebhooksStream:
    url: str  # the ops app store (SQLAlchemy URL)
    name: str = "shopify_order_webhooks"
    table: str = REST_TABLE  # the REST stream's raw table
    source: str = "shopify"
    schema: pa.Schema = ORDER_SCHEMA
    primary_key: tuple[str, ...] = ("channel", "order_id", "modified_at")
    cursor_field: str | None = "received_at"
    page_size: int = 20_000
    settle_seconds: float = 2.0

    def _absent(self, engine: sa.Engine) -> bool:
        database = engine.url.database
        file = engine.dialect.name == "sqlite" and database and database != ":memory:"
        if file and not Path(database).exists():  # connecting would create an empty file
            return True
        return not sa.inspect(engine).has_table("shopify_webhooks")

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        engine = sa.create_engine(self.url)
        try:
            if self._absent(engine):
                return
            position = _parse_cursor(cursor)
            while rows := self._page(engine, position):
                last = rows[-1]
                new_cursor = f"{last['received_at'].isoformat()}|{last['id']}"
                yield self._batch(rows, cursor, new_cursor)
                cursor, position = new_cursor, (last["received_at"], last["id"])
                if len(rows) < self.page_size:
                    return
        except sa.exc.OperationalError as exc:
            raise SourceError(
                f"shopify webhooks: cannot read the app database: {exc.orig}"
            ) from exc
        finally:
            engine.dispose()

    def _page(self, engine: sa.Engine, position: tuple[datetime, int] | None) -> list[dict]:
        sqlite = engine.dialect.name == "sqlite"  # the app stores naive UTC text there

        def bound(t: datetime) -> datetime:
            return t.astimezone(UTC).replace(tzinfo=None) if sqlite else t

        settled = datetime.now(UTC) - timedelta(seconds=self.settle_seconds)
        c = TABLE.c
        query = sa.select(TABLE).where(c.received_at <= bound(settled))
        if position is not None:
            at, rid = bound(position[0]), position[1]
            query = query.where(
                sa.or_(c.received_at > at, sa.and_(c.received_at == at, c.id > rid))
            )
        query = query.order_by(c.received_at, c.id).limit(self.page_size)
        with engine.connect() as con:
            rows = [dict(r._mapping) for r in con.execute(query)]
        for r in rows:
            if r["received_at"].tzinfo is None:
                r["received_at"] = r["received_at"].replace(tzinfo=UTC)
        return rows

    def _batch(self, rows: list[dict], cursor: str | None, new_cursor: str) -> Batch:
        landed: list[tuple] = []
        rejected: list[Rejected] = []
        for r in rows:
            where = f"{self.name} id {r['id']} webhook {r['webhook_id']} ({r['topic']})"
            try:
                rec = orjson.loads(r["body"])
                if not isinstance(rec, dict):
                    raise Malformed("body is not a JSON object")
                landed.append(order_row(rec)[1])
            except (Malformed, orjson.JSONDecodeError, TypeError, ValueError) as exc:
                reason = str(exc) if isinstance(exc, Malformed) else f"{type(exc).__name__}: {exc}"
                rejected.append(Rejected(where, reason, r["body"]))
        columns = list(zip(*landed, strict=True)) if landed else [[] for _ in self.schema]
        return Batch(
            stream=self.name,
            table=self.table,
            batch_id=batch_id(self.name, cursor, new_cursor),
            source=self.source,
            rows=pa.Table.from_arrays(
                [pa.array(col, f.type) for col, f in zip(columns, self.schema, strict=True)],
                schema=self.schema,
            ),
            rejected=rejected,
            cursor=new_cursor,
        )


def _factory(settings: Settings) -> ShopifyWebhooksStream:
    return ShopifyWebhooksStream(settings.app_db or f"sqlite:///{settings.home / 'app.db'}")


STREAMS = {"shopify_order_webhooks": ("shopify", _factory)}
# streams that land in another stream's raw table (lineage: they feed it)
FEEDS = {"shopify_order_webhooks": REST_TABLE}
