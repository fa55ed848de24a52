"""Look up stored form definitions.

A stored version never changes (a changed file becomes the next version), so its parsed
:class:`FormSpec` is cached by content checksum for the life of the process, and a
session remembers the rows it has looked up (one query per form and request, not one per
engine step).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.ops.core.errors import FormNotFoundError, FormVersionNotFoundError
from apps.ops.forms.spec import FormSpec
from apps.ops.models import FormDefinition

_SESSION_KEY = "opslake.form_definitions"
SPEC_CACHE_SIZE = 256


class SpecCache:
    """Parsed specs by definition checksum (bounded, thread-safe)."""

    def __init__(self, size: int = SPEC_CACHE_SIZE) -> None:
        self.size = size
        self._specs: OrderedDict[str, FormSpec] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, row: FormDefinition) -> FormSpec:
        key = row.checksum
        with self._lock:
            spec = self._specs.get(key)
            if spec is not None:
                self._specs.move_to_end(key)
                return spec
        spec = FormSpec.model_validate(row.definition)
        with self._lock:
            self._specs[key] = spec
            while len(self._specs) > self.size:
                self._specs.popitem(last=False)
        return spec

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()


SPECS = SpecCache()


def _memo(session: Session) -> dict[tuple[str, int | None], FormDefinition]:
    return session.info.setdefault(_SESSION_KEY, {})


def forget_definitions(session: Session) -> None:
    """Drop the rows this session remembers (after storing a new version in it)."""
    session.info.pop(_SESSION_KEY, None)


def get_definition(session: Session, name: str, version: int | None = None) -> FormDefinition:
    """The newest version of form ``name`` (or the given version), else a 404 error."""
    memo = _memo(session)
    row = memo.get((name, version))
    if row is not None:
        return row
    query = select(FormDefinition).where(FormDefinition.name == name)
    if version is not None:
        query = query.where(FormDefinition.version == version)
    row = session.scalars(query.order_by(FormDefinition.version.desc()).limit(1)).first()
    if row is None:
        if version is not None and latest_version(session, name) is not None:
            raise FormVersionNotFoundError(name=name, version=version)
        raise FormNotFoundError(name=name)
    memo[(name, version)] = row
    memo.setdefault((name, row.version), row)
    return row


def latest_version(session: Session, name: str) -> int | None:
    return session.scalar(
        select(func.max(FormDefinition.version)).where(FormDefinition.name == name)
    )


def list_latest(session: Session) -> list[FormDefinition]:
    """The newest version of every form, by name."""
    newest = (
        select(FormDefinition.name, func.max(FormDefinition.version).label("version"))
        .group_by(FormDefinition.name)
        .subquery()
    )
    query = (
        select(FormDefinition)
        .join(
            newest,
            (FormDefinition.name == newest.c.name) & (FormDefinition.version == newest.c.version),
        )
        .order_by(FormDefinition.name)
    )
    return list(session.scalars(query))


def spec_of(row: FormDefinition) -> FormSpec:
    """The parsed definition of a stored version (cached by its checksum)."""
    return SPECS.get(row)
