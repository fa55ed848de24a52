"""Attachments: upload (``POST /api/v1/attachments``), info and download by id."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile, status
from fastapi.responses import FileResponse

from apps.ops import audit
from apps.ops.api.deps import CurrentUser, IdPath, SessionDep, SettingsDep
from apps.ops.api.routes.imports import human_size, read_upload
from apps.ops.context import record_spec
from apps.ops.core.config import OpsSettings
from apps.ops.core.db import write_transaction
from apps.ops.core.errors import AttachmentNotFoundError
from apps.ops.forms.attachments import (
    MAX_ATTACHMENT_BYTES,
    BlobStore,
    allowed_extensions,
    get_downloadable,
    store_attachment,
)
from apps.ops.schemas import AttachmentPublic, ErrorPublic

log = logging.getLogger(__name__)
router = APIRouter(prefix="/attachments", tags=["attachments"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "No such attachment, or not yours to see"}
}


def blob_store(settings: OpsSettings) -> BlobStore:
    return BlobStore(settings.home / "attachments")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        413: {"model": ErrorPublic, "description": "File too large"},
        415: {"model": ErrorPublic, "description": "File type not accepted"},
        422: {"model": ErrorPublic, "description": "No file, or an empty one"},
    },
)
def upload_attachment(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[
        UploadFile,
        File(
            description=f"At most {human_size(MAX_ATTACHMENT_BYTES)}; types: {allowed_extensions()}"
        ),
    ],
) -> AttachmentPublic:
    """Store a file; put its ``id`` into a record's attachment field to link it."""
    content = read_upload(file, MAX_ATTACHMENT_BYTES)
    with write_transaction(session):
        attachment = store_attachment(
            session,
            blob_store(settings),
            filename=file.filename or "file",
            content=content,
            uploaded_by=user.username,
        )
        audit.append(
            session,
            actor=user.username,
            action="attachment.upload",
            entity="attachment",
            entity_id=attachment.id,
            after={
                "filename": attachment.filename,
                "size": attachment.size,
                "sha256": attachment.sha256,
            },
            at=attachment.created_at,
        )
    return AttachmentPublic.model_validate(attachment)


@router.get("/{attachment_id}/info", responses=NOT_FOUND)
def read_attachment_info(
    session: SessionDep, user: CurrentUser, attachment_id: IdPath
) -> AttachmentPublic:
    """Name, type, size and hash (for the uploader and readers of a linking record)."""
    return AttachmentPublic.model_validate(
        get_downloadable(session, user, attachment_id, record_spec)
    )


@router.get(
    "/{attachment_id}",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}},
)
def download_attachment(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, attachment_id: IdPath
) -> FileResponse:
    """The file, if you uploaded it or may read a record (and field) that links it."""
    attachment = get_downloadable(session, user, attachment_id, record_spec)
    path = blob_store(settings).path(attachment.sha256)
    if not path.is_file():
        log.error("attachment %s: file %s is missing", attachment.id, path)
        raise AttachmentNotFoundError(attachment_id=attachment_id)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.filename,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )
