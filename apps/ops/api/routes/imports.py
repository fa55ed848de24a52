"""Excel/CSV import of a form's records: ``POST /api/v1/forms/{name}/import``."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from apps.ops.api.deps import CurrentUser, LangDep, OpsDep, SessionDep, deliver_outbox
from apps.ops.core.errors import (
    EmptyFileError,
    FileTooLargeError,
    FormValidationError,
    OpsError,
)
from apps.ops.core.i18n import translate
from apps.ops.crud import ImportOutcome, import_records
from apps.ops.forms.importer import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    map_columns,
    read_sheet,
    row_data,
)
from apps.ops.forms.permissions import check_writable, scope_for
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.rules.engine import take_queued
from apps.ops.schemas import ErrorPublic, ImportResult, ImportRowError

router = APIRouter(prefix="/forms", tags=["import"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorPublic, "description": "Not allowed to import into this form"},
    404: {"model": ErrorPublic, "description": "No such form"},
    413: {"model": ErrorPublic, "description": "File too large"},
    422: {
        "model": ErrorPublic,
        "description": "Unreadable file or unknown columns; with all_or_nothing: bad rows "
        "(the body then also has imported, record_ids and rejected)",
    },
}


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


def read_upload(file: UploadFile, limit: int) -> bytes:
    """The uploaded bytes, at most ``limit`` (else 413); an empty file is a 422."""
    content = file.file.read(limit + 1)
    if len(content) > limit:
        size = file.size if file.size and file.size > limit else len(content)
        raise FileTooLargeError(size=human_size(size), limit=human_size(limit))
    if not content:
        raise EmptyFileError()
    return content


def _row_messages(error: OpsError, lang: str) -> dict[str, str]:
    if isinstance(error, FormValidationError):
        return error.field_messages(lang) or {"record": error.message(lang)}
    return {"record": error.message(lang)}


def _result(outcome: ImportOutcome, lang: str) -> ImportResult:
    return ImportResult(
        imported=len(outcome.record_ids),
        record_ids=outcome.record_ids,
        rejected=[
            ImportRowError(row=line, errors=_row_messages(error, lang))
            for line, error in outcome.rejected
        ],
    )


@router.post("/{name}/import", response_model=ImportResult, responses=RESPONSES)
def import_file(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ops: OpsDep,
    lang: LangDep,
    name: str,
    file: Annotated[
        UploadFile,
        File(
            description=f".xlsx or .csv (UTF-8 or GBK), at most {human_size(MAX_IMPORT_BYTES)}"
            f" and {MAX_IMPORT_ROWS} rows; header = field names or labels"
        ),
    ],
    background: BackgroundTasks,
    all_or_nothing: Annotated[
        bool, Query(description="Store nothing if any row is invalid (422)")
    ] = False,
) -> Any:
    """Validate every row like a single submit and store the valid ones in one transaction;
    returns the new record ids and each rejected row (its line, the header being line 1)
    with the reason per field. A rejected row leaves nothing stored."""
    spec = spec_of(get_definition(session, name))
    scope_for(spec, user, "import")
    content = read_upload(file, MAX_IMPORT_BYTES)
    sheet = read_sheet(file.filename or "", content, max_rows=MAX_IMPORT_ROWS)
    columns = map_columns(spec, sheet.header, lang)
    rows = [(row.line, row_data(spec, columns, row)) for row in sheet.rows]
    outcome = import_records(
        session=session,
        form_name=name,
        rows=rows,
        created_by=user.username,
        source={
            "file": (file.filename or "")[:200],
            "sha256": hashlib.sha256(content).hexdigest(),
            "bytes": len(content),
        },
        all_or_nothing=all_or_nothing,
        check_row=lambda data: check_writable(spec, user, data),
        ctx=ops,
    )
    if take_queued(session) and outcome.record_ids:
        background.add_task(deliver_outbox, request)
    result = _result(outcome, lang)
    if all_or_nothing and outcome.rejected:
        detail = translate(
            "error.import_rejected", lang, bad=len(outcome.rejected), total=outcome.total
        )
        return JSONResponse({"detail": detail, **result.model_dump()}, status_code=422)
    return result
