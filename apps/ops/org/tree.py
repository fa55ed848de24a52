"""Look-ups in the organisation tree: department heads, managers, role members, scopes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from apps.ops.models import Department, User


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def department_by_name(session: Session, name: str) -> Department | None:
    return session.scalars(select(Department).where(Department.name == name)).first()


def manager_of(session: Session, username: str) -> str | None:
    """The head of the user's department; for the head itself, the head of the parent
    department (and so on up the tree). None at the top."""
    user = user_by_name(session, username)
    department = (
        session.get(Department, user.department_id) if user and user.department_id else None
    )
    seen: set[int] = set()
    while department is not None and department.id not in seen:
        seen.add(department.id)
        if department.head_username and department.head_username != username:
            return department.head_username
        department = session.get(Department, department.parent_id) if department.parent_id else None
    return None


def head_of(session: Session, department_name: str) -> str | None:
    department = department_by_name(session, department_name)
    return department.head_username if department else None


def members_of_role(session: Session, role: str) -> list[str]:
    users = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.username))
    return [user.username for user in users if role in (user.roles or [])]


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
