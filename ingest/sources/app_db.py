"""The ops app's own database (SQLite or PostgreSQL), read incrementally by change time.

The app layer's transactions reach the lake like any other system's. Four streams, one
design: every new version of a row lands in raw with the cursor ``<changed_at>|<id>``.

- ``app_form_records``: form records; changed when ``updated_at`` moves.
- ``app_flow_instances``: approval flows; changed when started, then when finished
  (``coalesce(finished_at, started_at)``: the node a running flow is at is derived from
  its tasks, so it needs no version of its own).
- ``app_flow_tasks``: to-dos with their decision; created, then acted on once (approve,
  reject, return, transfer, cancel, escalate all stamp ``acted_at``).
- ``app_rule_firings``: the rule engine's firing log; append-only (``fired_at``).

Change times are stamped by the app just before it commits, so a row can become visible
slightly after a later-stamped one. Rows younger than ``settle_seconds`` are left for the
next run; the cursor then never passes a row that was still committing.
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

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class AppTable:
    """How one table of the app store is read: its columns (Arrow types), which columns
    hold JSON (landed as text), and the columns whose first non-null is the change time."""

    table: str
    columns: tuple[tuple[str, pa.DataType], ...]
    changed_at: tuple[str, ...]
    json_columns: tuple[str, ...] = ()

    @property
    def emits_changed_at(self) -> bool:
        """A derived change time lands as its own ``changed_at`` column."""
        return len(self.changed_at) > 1

    def schema(self) -> pa.Schema:
        extra = [("changed_at", TS)] if self.emits_changed_at else []
        return pa.schema([*self.columns, *extra])

    def sa_table(self) -> sa.TableClause:
        return sa.table(
            self.table,
            *(sa.column(n, sa.DateTime() if t == TS else None) for n, t in self.columns),
        )


FORM_RECORDS = AppTable(
    "form_records",
    (
        ("id", pa.int64()),
        ("form_name", pa.string()),
        ("form_version", pa.int64()),
        ("data", pa.string()),
        ("status", pa.string()),
        ("created_by", pa.string()),
        ("created_at", TS),
        ("updated_at", TS),
    ),
    changed_at=("updated_at",),
    json_columns=("data",),
)
FLOW_INSTANCES = AppTable(
    "flow_instances",
    (
        ("id", pa.int64()),
        ("flow_name", pa.string()),
        ("record_id", pa.int64()),
        ("status", pa.string()),
        ("current_node", pa.string()),
        ("started_by", pa.string()),
        ("started_at", TS),
        ("finished_at", TS),
    ),
    changed_at=("finished_at", "started_at"),
)
FLOW_TASKS = AppTable(
    "flow_tasks",
    (
        ("id", pa.int64()),
        ("instance_id", pa.int64()),
        ("node_id", pa.string()),
        ("round", pa.int64()),
        ("kind", pa.string()),
        ("assignee", pa.string()),
        ("status", pa.string()),
        ("created_at", TS),
        ("due_at", TS),
        ("acted_at", TS),
        ("acted_by", pa.string()),
        ("comment", pa.string()),
    ),
    changed_at=("acted_at", "created_at"),
)
RULE_FIRINGS = AppTable(
    "rule_firings",
    (
        ("id", pa.int64()),
        ("rule_name", pa.string()),
        ("cause_key", pa.string()),
        ("inputs", pa.string()),
        ("outcome", pa.string()),
        ("detail", pa.string()),
        ("fired_at", TS),
    ),
    changed_at=("fired_at",),
    json_columns=("inputs",),
)

# kept for readers of the first version of this module
SCHEMA = FORM_RECORDS.schema()


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    ts, _, rid = cursor.partition("|")
    return datetime.fromisoformat(ts), int(rid)


@dataclass
class AppTableStream:
    """One app table, incrementally by (change time, id), ``page_size`` rows per batch."""

    url: str
    spec: AppTable
    name: str
    page_size: int = 5000
    settle_seconds: float = 2.0
    source: str = "app_db"
    primary_key: tuple[str, ...] = ()
    cursor_field: str | None = None
    schema: pa.Schema = field(init=False)

    def __post_init__(self) -> None:
        self.schema = self.spec.schema()
        change = "changed_at" if self.spec.emits_changed_at else self.spec.changed_at[0]
        self.primary_key = self.primary_key or ("id", change)
        self.cursor_field = self.cursor_field or change

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        engine = sa.create_engine(self.url)
        try:
            position = _parse_cursor(cursor)
            while True:
                rows = self._page(engine, position)
                if not rows:
                    return
                last = rows[-1]
                changed = last["_changed_at"]
                new_cursor = f"{changed.isoformat()}|{last['id']}"
                yield Batch(
                    stream=self.name,
                    batch_id=batch_id(self.name, cursor, new_cursor),
                    source=self.source,
                    rows=pa.Table.from_pylist(rows, schema=self.schema),
                    cursor=new_cursor,
                )
                cursor, position = new_cursor, (changed, last["id"])
                if len(rows) < self.page_size:
                    return
        except sa.exc.OperationalError as exc:
            raise SourceError(f"cannot read the app database: {exc.orig}") from exc
        except sa.exc.ProgrammingError as exc:  # e.g. a table an old app store lacks
            raise SourceError(
                f"cannot read {self.spec.table} in the app database: {exc.orig}"
            ) from exc
        finally:
            engine.dispose()

    def _page(self, engine: sa.Engine, position: tuple[datetime, int] | None) -> list[dict]:
        table = self.spec.sa_table()
        changed = sa.func.coalesce(*(table.c[c] for c in self.spec.changed_at), type_=sa.DateTime)
        if len(self.spec.changed_at) == 1:
            changed = table.c[self.spec.changed_at[0]]
        settled = datetime.now(UTC) - timedelta(seconds=self.settle_seconds)
        if engine.dialect.name == "sqlite":
            settled = settled.replace(tzinfo=None)  # the app stores naive UTC text there
        query = (
            sa.select(table, changed.label("_changed_at"))
            .where(changed <= settled)
            .order_by(changed, table.c.id)
        )
        if position is not None:
            ts, rid = position
            if engine.dialect.name == "sqlite":
                ts = ts.replace(tzinfo=None)
            query = query.where(sa.or_(changed > ts, sa.and_(changed == ts, table.c.id > rid)))
        with engine.connect() as con:
            rows = [dict(r._mapping) for r in con.execute(query.limit(self.page_size))]
        for r in rows:
            for key, value in r.items():
                if isinstance(value, datetime) and value.tzinfo is None:
                    r[key] = value.replace(tzinfo=UTC)
            for key in self.spec.json_columns:
                if r[key] is not None and not isinstance(r[key], str):
                    r[key] = json.dumps(r[key], ensure_ascii=False)
            if self.spec.emits_changed_at:
                r["changed_at"] = r["_changed_at"]
        return rows


def AppRecordsStream(url: str, **kwargs) -> AppTableStream:  # noqa: N802 - the stream of v1
    """The form-records stream (``app_form_records``)."""
    return AppTableStream(url, FORM_RECORDS, "app_form_records", **kwargs)


TABLES = {
    "app_form_records": FORM_RECORDS,
    "app_flow_instances": FLOW_INSTANCES,
    "app_flow_tasks": FLOW_TASKS,
    "app_rule_firings": RULE_FIRINGS,
}


def _factory(name: str, spec: AppTable):
    return lambda s: AppTableStream(s.app_db, spec, name)


STREAMS = {name: ("app_db", _factory(name, spec)) for name, spec in TABLES.items()}
