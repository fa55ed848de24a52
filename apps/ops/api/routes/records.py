from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status
from sqlalchemy.orm import Session

from apps.ops.api.deps import CurrentUser, IdPath, OpsDep, SessionDep, deliver_outbox
from apps.ops.core.errors import RecordNotFoundError
from apps.ops.crud import create_record, get_record, list_records, update_record
from apps.ops.forms.permissions import check_writable, in_scope, readable, scope_clause, scope_for
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.models import FormRecord, User
from apps.ops.rules.engine import take_queued
from apps.ops.schemas import ErrorPublic, RecordCreate, RecordPublic, RecordsPublic, RecordUpdate

router = APIRouter(prefix="/forms/{name}/records", tags=["records"])

NOT_FOUND = {404: {"model": ErrorPublic}}
FORBIDDEN = {403: {"model": ErrorPublic, "description": "Not allowed (action, row or field)"}}
INVALID = {422: {"model": ErrorPublic, "description": "Invalid field values"}}


def public(session: Session, user: User, record: FormRecord) -> RecordPublic:
    """The record as this user may see it (fields they may not read left out)."""
    spec = spec_of(get_definition(session, record.form_name, record.form_version))
    out = RecordPublic.model_validate(record)
    out.data = readable(spec, user, record.data)
    return out


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses={**NOT_FOUND, **FORBIDDEN, **INVALID}
)
def submit_record(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ops: OpsDep,
    name: str,
    body: RecordCreate,
    response: Response,
    background: BackgroundTasks,
) -> RecordPublic:
    """Validate the values against the newest form version and store the record; starts
    the form's flow and runs the rules on "record created"."""
    spec = spec_of(get_definition(session, name))
    scope_for(spec, user, "create")
    check_writable(spec, user, body.data)
    record = create_record(
        session=session, form_name=name, data=body.data, created_by=user.username, ctx=ops
    )
    if take_queued(session):
        background.add_task(deliver_outbox, request)
    response.headers["Location"] = f"/api/v1/forms/{name}/records/{record.id}"
    return public(session, user, record)


@router.get("", responses={**NOT_FOUND, **FORBIDDEN, **INVALID})
def read_records(
    session: SessionDep,
    user: CurrentUser,
    name: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    where: Annotated[
        list[str] | None,
        Query(max_length=300, description="field:op:value (op: eq ne lt le gt ge contains)"),
    ] = None,
    sort: Annotated[
        str | None,
        Query(max_length=100, description="a field or id/created_at/updated_at; - for descending"),
    ] = None,
) -> RecordsPublic:
    """A page of the records this user may read (newest first unless ``sort``)."""
    spec = spec_of(get_definition(session, name))
    scope = scope_for(spec, user, "read")
    rows, count = list_records(
        session=session,
        form_name=name,
        limit=limit,
        offset=offset,
        filters=where,
        sort=sort,
        scope=scope_clause(session, user, scope),
    )
    return RecordsPublic(
        data=[public(session, user, row) for row in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


def _visible(session: Session, user: User, name: str, record_id: int, action: str) -> FormRecord:
    spec = spec_of(get_definition(session, name))
    scope = scope_for(spec, user, action)
    record = get_record(session=session, form_name=name, record_id=record_id)
    if not in_scope(session, user, scope, record):
        raise RecordNotFoundError(name=name, record_id=record_id)
    return record


@router.get("/{record_id}", responses={**NOT_FOUND, **FORBIDDEN})
def read_record(
    session: SessionDep, user: CurrentUser, name: str, record_id: IdPath
) -> RecordPublic:
    return public(session, user, _visible(session, user, name, record_id, "read"))


@router.patch("/{record_id}", responses={**NOT_FOUND, **FORBIDDEN, **INVALID})
def change_record(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ops: OpsDep,
    name: str,
    record_id: IdPath,
    body: RecordUpdate,
    background: BackgroundTasks,
) -> RecordPublic:
    """Change some fields (validated again as a whole); runs the "updated" rules."""
    record = _visible(session, user, name, record_id, "update")
    check_writable(spec_of(get_definition(session, name, record.form_version)), user, body.data)
    record = update_record(
        session=session,
        form_name=name,
        record_id=record_id,
        changes=body.data,
        actor=user.username,
        ctx=ops,
    )
    if take_queued(session):
        background.add_task(deliver_outbox, request)
    return public(session, user, record)
