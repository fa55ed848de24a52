"""What the pages look up in the app store: pickers (users, departments, records of a
referenced form), display names, who may read a record, and the module catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.ops.core.errors import ForbiddenError
from apps.ops.core.i18n import localize
from apps.ops.forms.permissions import in_scope, scope_clause, scope_for
from apps.ops.forms.spec import (
    DepartmentField,
    FormSpec,
    ReferenceField,
    TableField,
    TextField,
    UserField,
)
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.models import Department, FlowInstance, FlowTask, FormRecord, User

MODULES_FILE = Path(__file__).resolve().parent / "modules.yaml"
PICKER_LIMIT = 200


def summary_of(spec: FormSpec | None, record: FormRecord) -> str:
    """A short text for a record: the first text value, else the form's title."""
    if spec is not None:
        for f in spec.fields:
            value = record.data.get(f.name)
            if isinstance(f, TextField) and isinstance(value, str) and value:
                return value[:60]
    return ""


def record_label(spec: FormSpec | None, record: FormRecord) -> str:
    summary = summary_of(spec, record)
    return f"#{record.id} {summary}".strip()


class Pickers:
    """Options of user, department and record pickers, read once per page."""

    def __init__(self, session: Session, user: User) -> None:
        self.session, self.user = session, user
        self._cache: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, f: Any) -> list[tuple[str, str]]:
        if isinstance(f, UserField):
            key = "users"
        elif isinstance(f, DepartmentField):
            key = "departments"
        elif isinstance(f, ReferenceField) and f.form:
            key = f"form:{f.form}"
        else:
            return []
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def _load(self, key: str) -> list[tuple[str, str]]:
        if key == "users":
            users = self.session.scalars(
                select(User).where(User.is_active.is_(True)).order_by(User.username)
            )
            return [(u.username, f"{u.display_name} ({u.username})") for u in users]
        if key == "departments":
            names = self.session.scalars(select(Department.name).order_by(Department.name))
            return [(n, n) for n in names]
        form = key.removeprefix("form:")
        try:
            spec = spec_of(get_definition(self.session, form))
            scope = scope_for(spec, self.user, "read")
        except (ForbiddenError, LookupError):
            return []
        except Exception:  # noqa: BLE001 - an unknown form: no options, typed input instead
            return []
        rows = self.session.scalars(
            select(FormRecord)
            .where(FormRecord.form_name == form, scope_clause(self.session, self.user, scope))
            .order_by(FormRecord.id.desc())
            .limit(PICKER_LIMIT)
        )
        return [(str(r.id), record_label(spec, r)) for r in rows]


def display_names(session: Session, spec: FormSpec, data: dict[str, Any]) -> dict[str, str]:
    """Display names of the users and referenced records a record mentions."""
    users: set[str] = set()
    refs: dict[str, set[int]] = {}

    def visit(fields: list[Any], values: dict[str, Any]) -> None:
        for f in fields:
            value = values.get(f.name)
            if value is None:
                continue
            if isinstance(f, UserField):
                users.add(str(value))
            elif isinstance(f, ReferenceField) and f.form and isinstance(value, int):
                refs.setdefault(f.form, set()).add(value)
            elif isinstance(f, TableField) and isinstance(value, list):
                for row in value:
                    if isinstance(row, dict):
                        visit(f.fields, row)

    visit(list(spec.fields), data)
    names: dict[str, str] = {}
    if users:
        for u in session.scalars(select(User).where(User.username.in_(users))):
            names[u.username] = f"{u.display_name} ({u.username})"
    for form, ids in refs.items():
        try:
            ref_spec: FormSpec | None = spec_of(get_definition(session, form))
        except Exception:  # noqa: BLE001 - the referenced form is gone: show the id
            ref_spec = None
        for r in session.scalars(select(FormRecord).where(FormRecord.id.in_(ids))):
            names[str(r.id)] = record_label(ref_spec, r)
    return names


def is_involved(session: Session, user: User, record_id: int) -> bool:
    """The user has (or had) a task in one of the record's flows."""
    count = session.scalar(
        select(func.count())
        .select_from(FlowTask)
        .join(FlowInstance, FlowInstance.id == FlowTask.instance_id)
        .where(FlowInstance.record_id == record_id, FlowTask.assignee == user.username)
    )
    return bool(count)


def can_read(session: Session, user: User, spec: FormSpec, record: FormRecord) -> bool:
    if is_involved(session, user, record.id):
        return True
    try:
        scope = scope_for(spec, user, "read")
    except ForbiddenError:
        return False
    return in_scope(session, user, scope, record)


@dataclass(frozen=True)
class Module:
    id: str
    label: dict[str, str]
    forms: tuple[str, ...]


@cache
def modules(path: Path = MODULES_FILE) -> tuple[Module, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return tuple(Module(m["id"], m["label"], tuple(m.get("forms", []))) for m in raw)


def grouped_forms(forms: list[dict[str, Any]], lang: str, other: str) -> list[dict[str, Any]]:
    """Forms grouped by module (configuration order); unlisted forms go to ``other``."""
    by_name = {f["name"]: f for f in forms}
    groups, placed = [], set()
    for module in modules():
        items = [by_name[n] for n in module.forms if n in by_name]
        placed.update(f["name"] for f in items)
        if items:
            groups.append({"id": module.id, "label": localize(module.label, lang), "forms": items})
    rest = [f for f in forms if f["name"] not in placed]
    if rest:
        groups.append({"id": "other", "label": other, "forms": rest})
    return groups
