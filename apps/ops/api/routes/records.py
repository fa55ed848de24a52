from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from apps.ops.api.deps import CurrentUser, SessionDep
from apps.ops.crud import create_record, get_record, list_records
from apps.ops.schemas import ErrorPublic, RecordCreate, RecordPublic, RecordsPublic

router = APIRouter(prefix="/forms/{name}/records", tags=["records"])

NOT_FOUND = {404: {"model": ErrorPublic}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, 422: {"model": ErrorPublic, "description": "Invalid field values"}},
)
def submit_record(
    session: SessionDep, user: CurrentUser, name: str, body: RecordCreate, response: Response
) -> RecordPublic:
    """Validate the values against the newest form version and store the record."""
    record = create_record(
        session=session, form_name=name, data=body.data, created_by=user.username
    )
    response.headers["Location"] = f"/api/v1/forms/{name}/records/{record.id}"
    return RecordPublic.model_validate(record)


@router.get("", responses=NOT_FOUND)
def read_records(
    session: SessionDep,
    user: CurrentUser,
    name: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RecordsPublic:
    """A page of records, newest first."""
    rows, count = list_records(session=session, form_name=name, limit=limit, offset=offset)
    return RecordsPublic(
        data=[RecordPublic.model_validate(row) for row in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


@router.get("/{record_id}", responses=NOT_FOUND)
def read_record(session: SessionDep, user: CurrentUser, name: str, record_id: int) -> RecordPublic:
    return RecordPublic.model_validate(
        get_record(session=session, form_name=name, record_id=record_id)
    )
