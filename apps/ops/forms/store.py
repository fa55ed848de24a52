"""Look up stored form definitions.

A stored version never changes (a changed file becomes the next version), so its parsed
:class:`FormSpec` is cached by content checksum for the life of the process, and a
session remembers the rows it has looked up (one query per form and request, not one per
engine step).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from apps.ops.core.db import core
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

    def get(self, row: FormDefinition | StoredDefinition) -> FormSpec:
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


@dataclass(frozen=True)
class StoredDefinition:
    """One stored version of a form definition, as the engines read it (the columns of
    ``form_definitions``). Not an ORM object: it is shared by requests and never written
    back; ``definition`` must not be changed."""

    id: int
    name: str
    version: int
    definition: dict[str, Any]
    checksum: str
    created_at: datetime


class DefinitionCache:
    """Definition documents by checksum (content-addressed, so valid across databases and
    for the life of the process): a request reads the small columns and parses the JSON
    document only the first time it sees a checksum (bounded, thread-safe)."""

    def __init__(self, size: int = SPEC_CACHE_SIZE) -> None:
        self.size = size
        self._docs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, checksum: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._docs.get(checksum)
            if doc is not None:
                self._docs.move_to_end(checksum)
            return doc

    def put(self, checksum: str, doc: dict[str, Any]) -> None:
        with self._lock:
            self._docs[checksum] = doc
            while len(self._docs) > self.size:
                self._docs.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()


DOCUMENTS = DefinitionCache()
_DEFS = FormDefinition.__table__.c
_HEAD_COLUMNS = (_DEFS.id, _DEFS.name, _DEFS.version, _DEFS.checksum, _DEFS.created_at)
_NEWEST = (
    select(*_HEAD_COLUMNS)
    .where(_DEFS.name == bindparam("name"))
    .order_by(_DEFS.version.desc())
    .limit(1)
)
_VERSION = select(*_HEAD_COLUMNS).where(
    _DEFS.name == bindparam("name"), _DEFS.version == bindparam("version")
)
_DOCUMENT = select(_DEFS.definition).where(_DEFS.id == bindparam("id"))


def _memo(session: Session) -> dict[tuple[str, int | None], StoredDefinition]:
    return session.info.setdefault(_SESSION_KEY, {})


def forget_definitions(session: Session) -> None:
    """Drop the rows this session remembers (after storing a new version in it)."""
    session.info.pop(_SESSION_KEY, None)


def get_definition(session: Session, name: str, version: int | None = None) -> StoredDefinition:
    """The newest version of form ``name`` (or the given version), else a 404 error."""
    memo = _memo(session)
    row = memo.get((name, version))
    if row is not None:
        return row
    conn = core(session)
    if version is None:
        head = conn.execute(_NEWEST, {"name": name}).first()
    else:
        head = conn.execute(_VERSION, {"name": name, "version": version}).first()
    if head is None:
        if version is not None and latest_version(session, name) is not None:
            raise FormVersionNotFoundError(name=name, version=version)
        raise FormNotFoundError(name=name)
    doc = DOCUMENTS.get(head.checksum)
    if doc is None:
        doc = conn.execute(_DOCUMENT, {"id": head.id}).scalar_one()
        DOCUMENTS.put(head.checksum, doc)
    row = StoredDefinition(**head._mapping, definition=doc)
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


def spec_of(row: FormDefinition | StoredDefinition) -> FormSpec:
    """The parsed definition of a stored version (cached by its checksum)."""
    return SPECS.get(row)
