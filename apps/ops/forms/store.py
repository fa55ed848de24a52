"""Look up stored form definitions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.ops.core.errors import FormNotFoundError, FormVersionNotFoundError
from apps.ops.forms.spec import FormSpec
from apps.ops.models import FormDefinition


def get_definition(session: Session, name: str, version: int | None = None) -> FormDefinition:
    """The newest version of form ``name`` (or the given version), else a 404 error."""
    query = select(FormDefinition).where(FormDefinition.name == name)
    if version is not None:
        query = query.where(FormDefinition.version == version)
    row = session.scalars(query.order_by(FormDefinition.version.desc()).limit(1)).first()
    if row is None:
        if version is not None and latest_version(session, name) is not None:
            raise FormVersionNotFoundError(name=name, version=version)
        raise FormNotFoundError(name=name)
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
    return FormSpec.model_validate(row.definition)
