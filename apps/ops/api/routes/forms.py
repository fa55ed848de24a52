from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from apps.ops.api.deps import LangDep, SessionDep
from apps.ops.forms.json_schema import build_json_schema
from apps.ops.forms.store import get_definition, list_latest, spec_of
from apps.ops.schemas import ErrorPublic, FormDefinitionPublic, FormsPublic, FormSummary

router = APIRouter(prefix="/forms", tags=["forms"])

NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such form (or version)"}}
VersionQuery = Annotated[int | None, Query(ge=1, description="Default: the newest version")]


@router.get("")
def list_forms(session: SessionDep) -> FormsPublic:
    """Every form, newest version."""
    rows = list_latest(session)
    data = [
        FormSummary(
            name=row.name,
            version=row.version,
            title=row.definition["title"],
            description=row.definition.get("description"),
        )
        for row in rows
    ]
    return FormsPublic(data=data, count=len(data))


@router.get("/{name}", responses=NOT_FOUND)
def read_form(session: SessionDep, name: str, version: VersionQuery = None) -> FormDefinitionPublic:
    """A form definition as stored (the newest version unless ``version`` is given)."""
    return FormDefinitionPublic.model_validate(get_definition(session, name, version))


@router.get("/{name}/schema", responses=NOT_FOUND)
def read_form_schema(
    session: SessionDep, lang: LangDep, name: str, version: VersionQuery = None
) -> dict[str, Any]:
    """JSON Schema (2020-12) of the record data; titles in ``?lang=zh-CN|en``."""
    row = get_definition(session, name, version)
    return build_json_schema(spec_of(row), version=row.version, lang=lang)
