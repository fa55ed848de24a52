"""Reads and writes of the app store. Keyword-only arguments; request-level writes commit,
bootstrap helpers only flush (their caller holds the bootstrap transaction)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Float, bindparam, cast, func, insert, select
from sqlalchemy.orm import Session

from apps.ops import audit
from apps.ops.core.db import attach, core, write_transaction
from apps.ops.core.errors import BadFilterError, BadSortError, OpsError, RecordNotFoundError
from apps.ops.core.security import hash_password, verify_password
from apps.ops.forms.attachments import sync_links
from apps.ops.forms.lookups import StoreLookups
from apps.ops.forms.spec import FormSpec
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.forms.validation import Checked, check_lookups, check_values, validate_data
from apps.ops.models import FormRecord, User, utcnow

if TYPE_CHECKING:
    from apps.ops.context import OpsContext

DEMO_USERS = (
    # username, password, display name, roles
    ("admin", "admin", "管理员 Admin", ["admin"]),
    ("operator", "operator", "操作员 Operator", ["operator"]),
)


# users ---------------------------------------------------------------------------------------


_USER_BY_NAME = select(User.__table__).where(User.__table__.c.username == bindparam("username"))


def get_user_by_username(*, session: Session, username: str) -> User | None:
    """The user (persistent in ``session``), read with a prepared Core statement: every
    API request authenticates with it."""
    row = core(session).execute(_USER_BY_NAME, {"username": username}).first()
    return None if row is None else attach(session, User(**row._mapping))


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = get_user_by_username(session=session, username=username)
    ok = verify_password(password, user.password_hash if user else None)
    return user if ok and user is not None and user.is_active else None


def create_user(
    *, session: Session, username: str, password: str, display_name: str, roles: list[str]
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        roles=roles,
    )
    session.add(user)
    session.flush()
    return user


def ensure_demo_users(*, session: Session) -> list[str]:
    """Create the demo users that do not exist yet; returns the names created."""
    created = []
    for username, password, display_name, roles in DEMO_USERS:
        if get_user_by_username(session=session, username=username) is None:
            create_user(
                session=session,
                username=username,
                password=password,
                display_name=display_name,
                roles=roles,
            )
            created.append(username)
    return created


# records -------------------------------------------------------------------------------------

_INSERT_RECORD = insert(FormRecord.__table__).returning(FormRecord.__table__.c.id)


def _lookups(session: Session, ctx: OpsContext | None) -> StoreLookups:
    return StoreLookups(session, ctx.providers if ctx else None)


def _now(ctx: OpsContext | None) -> datetime:
    return ctx.clock.now() if ctx else utcnow()


def insert_record(
    *,
    session: Session,
    form_name: str,
    data: dict[str, Any],
    created_by: str,
    ctx: OpsContext | None = None,
    checked: Checked | None = None,
) -> FormRecord:
    """Validate and insert inside the caller's write transaction: audit, then the form's
    flow (if it has one) and the rules on "record created". ``checked``: ``data`` already
    passed :func:`check_values` against the newest version; only the look-ups are due."""
    definition = get_definition(session, form_name)
    spec = spec_of(definition)
    if checked is None:
        clean = validate_data(spec, data, lookups=_lookups(session, ctx))
    else:
        clean = check_lookups(spec, checked, _lookups(session, ctx))
    now = _now(ctx)
    values: dict[str, Any] = {
        "form_name": definition.name,
        "form_version": definition.version,
        "data": clean,
        "status": "submitted",
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
    # A prepared Core INSERT, then the object joins the session as if loaded: the ORM's
    # unit of work cost several times more (docs/decisions/0012).
    record_id = core(session).execute(_INSERT_RECORD, values).scalar_one()
    record = attach(session, FormRecord(id=record_id, **values))
    sync_links(session, spec, record, created_by, new_record=True)
    audit.append(
        session,
        actor=created_by,
        action="record.create",
        entity="form_record",
        entity_id=record.id,
        after=clean,
        at=now,
    )
    if ctx is not None:
        if spec.flow:
            ctx.engine.start(session, spec.flow, record, created_by, new_record=True)
        if ctx.rules is not None:
            ctx.rules.on_record_created(session, record)
    return record


def create_record(
    *,
    session: Session,
    form_name: str,
    data: dict[str, Any],
    created_by: str,
    ctx: OpsContext | None = None,
) -> FormRecord:
    """Validate ``data`` against the newest version of the form and store it (commits).
    What needs no database is checked before the write transaction."""
    checked = check_values(spec_of(get_definition(session, form_name)), data)
    with write_transaction(session):
        record = insert_record(
            session=session,
            form_name=form_name,
            data=data,
            created_by=created_by,
            ctx=ctx,
            checked=checked,
        )
    return record


def update_record(
    *,
    session: Session,
    form_name: str,
    record_id: int,
    changes: dict[str, Any],
    actor: str,
    ctx: OpsContext | None = None,
) -> FormRecord:
    """Apply ``changes`` (field -> value) to a record, validated against the record's own
    form version; audit before/after and run the "updated"/"field changed" rules."""
    with write_transaction(session):
        record = get_record(session=session, form_name=form_name, record_id=record_id)
        spec = spec_of(get_definition(session, form_name, record.form_version))
        before = dict(record.data)
        merged = {**before, **changes}
        clean = validate_data(spec, merged, lookups=_lookups(session, ctx), record_id=record.id)
        if clean != before:
            record.data = clean
            record.updated_at = _now(ctx)
            session.flush()
            sync_links(session, spec, record, actor)
            audit.append(
                session,
                actor=actor,
                action="record.update",
                entity="form_record",
                entity_id=record.id,
                before=before,
                after=clean,
            )
            if ctx is not None and ctx.rules is not None:
                ctx.rules.on_record_updated(session, record, before)
    return record


SORTABLE = {
    "id": FormRecord.id,
    "created_at": FormRecord.created_at,
    "updated_at": FormRecord.updated_at,
    "status": FormRecord.status,
    "created_by": FormRecord.created_by,
}
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "contains")


def _filter_clause(spec: FormSpec, text_filter: str) -> ColumnElement[bool]:
    """``field:op:value``, e.g. ``urgency:eq:urgent``, ``amount:ge:5000``."""
    parts = text_filter.split(":", 2)
    if len(parts) != 3 or parts[1] not in OPERATORS:
        raise BadFilterError(value=text_filter, operators=", ".join(OPERATORS))
    name, op, value = parts
    if name in SORTABLE:
        column: Any = SORTABLE[name]
        operand: Any = value
    elif spec.field(name) is not None:
        field = spec.field(name)
        numeric = getattr(field, "type", "") in ("number", "money") or (
            getattr(field, "type", "") == "formula" and field.result in ("number", "money")
        )
        if numeric and op != "contains":
            try:
                operand = float(value)
            except ValueError:
                raise BadFilterError(value=text_filter, operators=", ".join(OPERATORS)) from None
            column = cast(FormRecord.data[name].as_string(), Float)
        else:
            column, operand = FormRecord.data[name].as_string(), value
    else:
        raise BadFilterError(value=text_filter, operators=", ".join(OPERATORS))
    if op == "contains":
        return column.contains(str(operand), autoescape=True)
    return {
        "eq": column == operand,
        "ne": column != operand,
        "lt": column < operand,
        "le": column <= operand,
        "gt": column > operand,
        "ge": column >= operand,
    }[op]


def list_records(
    *,
    session: Session,
    form_name: str,
    limit: int,
    offset: int,
    filters: list[str] | None = None,
    sort: str | None = None,
    scope: ColumnElement[bool] | None = None,
) -> tuple[list[FormRecord], int]:
    """A page of the form's records (newest first unless ``sort``), and the total count."""
    spec = spec_of(get_definition(session, form_name))  # 404 for an unknown form
    where = [FormRecord.form_name == form_name]
    where += [_filter_clause(spec, f) for f in filters or []]
    if scope is not None:
        where.append(scope)
    count = session.scalar(select(func.count()).select_from(FormRecord).where(*where)) or 0
    order: list[Any] = [FormRecord.id.desc()]
    if sort:
        key = sort.lstrip("-")
        if key in SORTABLE:
            column: Any = SORTABLE[key]
        elif spec.field(key) is not None:
            column = FormRecord.data[key].as_string()
            if getattr(spec.field(key), "type", "") in ("number", "money", "formula"):
                column = cast(FormRecord.data[key].as_string(), Float)
        else:
            raise BadSortError(value=sort)
        order = [column.desc() if sort.startswith("-") else column.asc(), FormRecord.id.asc()]
    rows = session.scalars(
        select(FormRecord).where(*where).order_by(*order).limit(limit).offset(offset)
    )
    return list(rows), count


def get_record(*, session: Session, form_name: str, record_id: int) -> FormRecord:
    record = session.get(FormRecord, record_id)
    if record is None or record.form_name != form_name:
        get_definition(session, form_name)  # an unknown form is reported as such
        raise RecordNotFoundError(name=form_name, record_id=record_id)
    return record


# import ----------------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    """What an import stored (record ids) and which rows it rejected and why."""

    record_ids: list[int] = dataclass_field(default_factory=list)
    rejected: list[tuple[int, OpsError]] = dataclass_field(default_factory=list)
    total: int = 0

    @property
    def stored(self) -> bool:
        return bool(self.record_ids)


def import_records(
    *,
    session: Session,
    form_name: str,
    rows: list[tuple[int, dict[str, Any]]],
    created_by: str,
    source: dict[str, Any],
    all_or_nothing: bool = False,
    check_row: Callable[[dict[str, Any]], None] | None = None,
    ctx: OpsContext | None = None,
) -> ImportOutcome:
    """Validate and store ``rows`` (line number, data) in one transaction: each row in its
    own savepoint, so a rejected row leaves nothing behind (its record, audit entries, flow
    and rule firings are rolled back together). With ``all_or_nothing`` one bad row rolls
    back every row. One ``records.import`` audit entry names the file and the outcome."""
    outcome = ImportOutcome(total=len(rows))
    with write_transaction(session):
        batch = session.begin_nested()
        for line, data in rows:
            try:
                with session.begin_nested():
                    if check_row is not None:
                        check_row(data)
                    record = insert_record(
                        session=session,
                        form_name=form_name,
                        data=data,
                        created_by=created_by,
                        ctx=ctx,
                    )
                outcome.record_ids.append(record.id)
            except OpsError as exc:  # validation, permissions, flow start (no assignee …)
                outcome.rejected.append((line, exc))
        if all_or_nothing and outcome.rejected:
            batch.rollback()
            outcome.record_ids = []
        else:
            batch.commit()
        audit.append(
            session,
            actor=created_by,
            action="records.import",
            entity="form",
            entity_id=form_name,
            after={
                **source,
                "rows": outcome.total,
                "imported": len(outcome.record_ids),
                "record_ids": outcome.record_ids,
                "rejected_lines": [line for line, _ in outcome.rejected],
                "all_or_nothing": all_or_nothing,
            },
            at=_now(ctx),
        )
    return outcome
