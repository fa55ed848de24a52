"""Who may do what with a form's records: per action and role, row scope (own /
department / all) and field-level read/write. ``admin`` may always do everything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from apps.ops.core.errors import FieldError, FieldPermissionError, ForbiddenError
from apps.ops.forms.spec import FormSpec
from apps.ops.models import FormRecord, User
from apps.ops.org.tree import subtree_ids, usernames_in

Scope = Literal["own", "department", "all"]
ADMIN = "admin"
_RANK = {"own": 0, "department": 1, "all": 2}


def roles_of(user: User) -> set[str]:
    return set(user.roles or [])


def scope_for(spec: FormSpec, user: User, action: str) -> Scope:
    """The widest row scope the user's roles give for ``action``; else 403."""
    roles = roles_of(user)
    if ADMIN in roles or spec.permissions is None:
        return "all"
    best: Scope | None = None
    for role, grant in spec.permissions.roles.items():
        applies = (role == "*" or role in roles) and action in grant.actions
        if applies and (best is None or _RANK[grant.scope] > _RANK[best]):
            best = grant.scope
    if best is None:
        raise ForbiddenError()
    return best


def scope_clause(session: Session, user: User, scope: Scope) -> ColumnElement[bool]:
    if scope == "all":
        return true()
    if scope == "department" and user.department_id is not None:
        names = usernames_in(session, subtree_ids(session, user.department_id))
        return FormRecord.created_by.in_(names or [user.username])
    return FormRecord.created_by == user.username


def in_scope(session: Session, user: User, scope: Scope, record: FormRecord) -> bool:
    if scope == "all" or record.created_by == user.username:
        return True
    if scope == "department" and user.department_id is not None:
        return record.created_by in usernames_in(session, subtree_ids(session, user.department_id))
    return False


def _may(roles: set[str], allowed: list[str] | None) -> bool:
    return allowed is None or ADMIN in roles or bool(roles & set(allowed))


def readable(spec: FormSpec, user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """The record data without the fields the user may not read."""
    roles = roles_of(user)
    hidden = {f.name for f in spec.fields if not _may(roles, f.read_roles)}
    return {k: v for k, v in data.items() if k not in hidden}


def check_writable(spec: FormSpec, user: User, data: Mapping[str, Any]) -> None:
    """403 naming the fields sent that the user may not write."""
    roles = roles_of(user)
    errors = {
        f.name: FieldError("field.read_only")
        for f in spec.fields
        if f.name in data and data[f.name] not in (None, "") and not _may(roles, f.write_roles)
    }
    if errors:
        raise FieldPermissionError(errors, labels={f.name: f.label for f in spec.fields})
