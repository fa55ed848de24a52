"""Reads and writes of the app store. Keyword-only arguments; request-level writes commit,
bootstrap helpers only flush (their caller holds the bootstrap transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.ops.core.db import write_transaction
from apps.ops.core.errors import RecordNotFoundError
from apps.ops.core.security import hash_password, verify_password
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.forms.validation import validate_data
from apps.ops.models import FormRecord, User, utcnow

DEMO_USERS = (
    # username, password, display name, roles
    ("admin", "admin", "管理员 Admin", ["admin"]),
    ("operator", "operator", "操作员 Operator", ["operator"]),
)


# users ---------------------------------------------------------------------------------------


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


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


def create_record(
    *, session: Session, form_name: str, data: dict[str, Any], created_by: str
) -> FormRecord:
    """Validate ``data`` against the newest version of the form and store it (commits)."""
    with write_transaction(session):
        definition = get_definition(session, form_name)
        clean = validate_data(spec_of(definition), data)
        now = utcnow()
        record = FormRecord(
            form_name=definition.name,
            form_version=definition.version,
            data=clean,
            status="submitted",
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        session.add(record)
    return record


def list_records(
    *, session: Session, form_name: str, limit: int, offset: int
) -> tuple[list[FormRecord], int]:
    """A page of the form's records, newest first, and the total count."""
    get_definition(session, form_name)  # 404 for an unknown form
    where = FormRecord.form_name == form_name
    count = session.scalar(select(func.count()).select_from(FormRecord).where(where)) or 0
    rows = session.scalars(
        select(FormRecord).where(where).order_by(FormRecord.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), count


def get_record(*, session: Session, form_name: str, record_id: int) -> FormRecord:
    record = session.get(FormRecord, record_id)
    if record is None or record.form_name != form_name:
        get_definition(session, form_name)  # an unknown form is reported as such
        raise RecordNotFoundError(name=form_name, record_id=record_id)
    return record
