"""Look-ups in the organisation tree: department heads, managers, role members, scopes."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from apps.ops.core.db import core
from apps.ops.models import Department, User

# Prepared Core statements: flow starts resolve assignees on every submit.
_USERS, _DEPARTMENTS = User.__table__.c, Department.__table__.c
_DEPARTMENT_OF = select(_USERS.department_id).where(_USERS.username == bindparam("username"))
_DEPARTMENT = select(_DEPARTMENTS.parent_id, _DEPARTMENTS.head_username).where(
    _DEPARTMENTS.id == bindparam("id")
)
_HEAD_OF = select(_DEPARTMENTS.head_username).where(_DEPARTMENTS.name == bindparam("name"))
_ACTIVE_ROLES = (
    select(_USERS.username, _USERS.roles)
    .where(_USERS.is_active.is_(True))
    .order_by(_USERS.username)
)
_ACTIVE_AMONG = select(_USERS.username).where(
    _USERS.username.in_(bindparam("names", expanding=True)), _USERS.is_active.is_(True)
)


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def department_by_name(session: Session, name: str) -> Department | None:
    return session.scalars(select(Department).where(Department.name == name)).first()


def manager_of(session: Session, username: str) -> str | None:
    """The head of the user's department; for the head itself, the head of the parent
    department (and so on up the tree). None at the top."""
    conn = core(session)
    department_id = conn.execute(_DEPARTMENT_OF, {"username": username}).scalar()
    seen: set[int] = set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        row = conn.execute(_DEPARTMENT, {"id": department_id}).first()
        if row is None:
            return None
        if row.head_username and row.head_username != username:
            return row.head_username
        department_id = row.parent_id
    return None


def head_of(session: Session, department_name: str) -> str | None:
    return core(session).execute(_HEAD_OF, {"name": department_name}).scalar()


def members_of_role(session: Session, role: str) -> list[str]:
    rows = core(session).execute(_ACTIVE_ROLES)
    return [name for name, roles in rows if role in (roles or [])]


def active_among(session: Session, usernames: list[str]) -> set[str]:
    """Which of these users exist and are active (one query)."""
    if not usernames:
        return set()
    return set(core(session).execute(_ACTIVE_AMONG, {"names": usernames}).scalars())


def subtree_ids(session: Session, department_id: int) -> set[int]:
    """The department and every department below it."""
    children: dict[int | None, list[int]] = {}
    for dep_id, parent in session.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent, []).append(dep_id)
    found, todo = set(), [department_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def usernames_in(session: Session, department_ids: set[int]) -> list[str]:
    if not department_ids:
        return []
    return list(
        session.scalars(select(User.username).where(User.department_id.in_(department_ids)))
    )
