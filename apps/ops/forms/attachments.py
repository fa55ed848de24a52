"""Attachments: files stored by content hash, linked from records, downloaded by readers.

* Storage: ``$OPSLAKE_HOME/attachments/<aa>/<sha256>`` (written to a temporary file, then
  renamed, so a reader never sees half a file; the same bytes are stored once).
* Types: an allow-list by file extension; for the binary formats the first bytes must match
  (a ``.pdf`` must start with ``%PDF``). The stored content type is ours, not the client's.
* Links: a record's attachment fields are mirrored into ``attachment_links`` whenever the
  record is written. A new link needs the attachment's uploader (or an admin or the
  system): nobody can attach someone else's file id to a record of their own to read it.
* Download: the uploader, an admin, or whoever may read a record linking the file *and*
  that field of it; everyone else gets 404 (an id reveals nothing).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from apps.ops.core.errors import (
    AttachmentNotFoundError,
    AttachmentTypeError,
    FieldError,
    ForbiddenError,
    FormValidationError,
)
from apps.ops.forms.permissions import ADMIN, in_scope, roles_of, scope_for
from apps.ops.forms.spec import AttachmentField, FormSpec, TableField
from apps.ops.models import Attachment, AttachmentLink, FormRecord, User, utcnow

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SYSTEM_ACTORS = frozenset({"system", "rules"})


@dataclass(frozen=True)
class FileType:
    content_type: str
    magic: tuple[bytes, ...] = ()  # accepted first bytes (empty: any)


_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
FILE_TYPES: dict[str, FileType] = {
    ".pdf": FileType("application/pdf", (b"%PDF",)),
    ".png": FileType("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": FileType("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": FileType("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": FileType("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": FileType("image/webp", (b"RIFF",)),
    ".txt": FileType("text/plain; charset=utf-8"),
    ".csv": FileType("text/csv"),
    ".xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".docx": FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP
    ),
    ".pptx": FileType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP
    ),
    ".xls": FileType("application/vnd.ms-excel", _OLE),
    ".doc": FileType("application/msword", _OLE),
    ".zip": FileType("application/zip", _ZIP),
}


def allowed_extensions() -> str:
    return ", ".join(sorted(FILE_TYPES))


def file_type(filename: str, content: bytes) -> FileType:
    """The type of an upload by its extension, checked against its first bytes."""
    suffix = Path(filename).suffix.lower()
    kind = FILE_TYPES.get(suffix)
    if kind is None or (kind.magic and not content.startswith(kind.magic)):
        raise AttachmentTypeError(content_type=suffix or filename, allowed=allowed_extensions())
    return kind


def clean_filename(filename: str) -> str:
    """The last path part, without control characters, at most 200 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "file"
    return name[-200:]


class BlobStore:
    """Files by sha256 under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(content):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def store_attachment(
    session: Session, store: BlobStore, *, filename: str, content: bytes, uploaded_by: str
) -> Attachment:
    """Check the type, write the bytes (once per content) and add the row (flushes)."""
    kind = file_type(filename, content)
    digest = store.put(content)
    attachment = Attachment(
        filename=clean_filename(filename),
        content_type=kind.content_type,
        size=len(content),
        sha256=digest,
        uploaded_by=uploaded_by,
        created_at=utcnow(),
    )
    session.add(attachment)
    session.flush()
    return attachment


# links -------------------------------------------------------------------------------------


def attachment_ids(spec: FormSpec, data: dict[str, Any]) -> set[tuple[int, str]]:
    """(attachment id, top-level field) for every attachment the record data names."""
    found: set[tuple[int, str]] = set()
    for field in spec.fields:
        value = data.get(field.name)
        if isinstance(field, AttachmentField) and isinstance(value, list):
            found.update((int(i), field.name) for i in value)
        elif isinstance(field, TableField) and isinstance(value, list):
            for sub in field.fields:
                if isinstance(sub, AttachmentField):
                    for row in value:
                        ids = row.get(sub.name) if isinstance(row, dict) else None
                        found.update((int(i), field.name) for i in ids or [])
    return found


def has_attachments(spec: FormSpec) -> bool:
    return any(
        isinstance(field, AttachmentField)
        or (
            isinstance(field, TableField)
            and any(isinstance(f, AttachmentField) for f in field.fields)
        )
        for field in spec.fields
    )


def sync_links(
    session: Session, spec: FormSpec, record: FormRecord, actor: str, *, new_record: bool = False
) -> None:
    """Make ``attachment_links`` match the record's data. A new link must be made by the
    attachment's uploader (or an admin/the system), else the field is rejected."""
    if not has_attachments(spec):
        return
    wanted = attachment_ids(spec, record.data)
    current: set[tuple[int, str]] = set()
    if not new_record:
        current = {
            (link.attachment_id, link.field)
            for link in session.scalars(
                select(AttachmentLink).where(AttachmentLink.record_id == record.id)
            )
        }
    new = wanted - current
    if new:
        _check_may_link(session, spec, {i for i, _ in new}, new, actor)
        for attachment_id, field in sorted(new):
            session.add(
                AttachmentLink(attachment_id=attachment_id, record_id=record.id, field=field)
            )
    gone = current - wanted
    for attachment_id, field in gone:
        session.execute(
            delete(AttachmentLink).where(
                AttachmentLink.record_id == record.id,
                AttachmentLink.attachment_id == attachment_id,
                AttachmentLink.field == field,
            )
        )
    if new or gone:
        session.flush()


def _check_may_link(
    session: Session,
    spec: FormSpec,
    ids: set[int],
    new: set[tuple[int, str]],
    actor: str,
) -> None:
    if actor in SYSTEM_ACTORS:
        return
    user = session.scalars(select(User).where(User.username == actor)).first()
    if user is not None and ADMIN in roles_of(user):
        return
    rows = session.execute(
        select(Attachment.id, Attachment.uploaded_by).where(Attachment.id.in_(ids))
    )
    owners = {attachment_id: uploader for attachment_id, uploader in rows}
    errors = {
        field: FieldError("field.no_such_attachment", value=attachment_id)
        for attachment_id, field in sorted(new)
        if owners.get(attachment_id) != actor
    }
    if errors:
        raise FormValidationError(errors, labels={f.name: f.label for f in spec.fields})


# download ----------------------------------------------------------------------------------


def may_download(
    session: Session,
    user: User,
    attachment: Attachment,
    spec_of_record: Any,
) -> bool:
    """The uploader, an admin, or a reader of a record (and field) that links the file."""
    if attachment.uploaded_by == user.username or ADMIN in roles_of(user):
        return True
    links = session.scalars(
        select(AttachmentLink).where(AttachmentLink.attachment_id == attachment.id)
    ).all()
    for record_id, fields in _by_record(links).items():
        record = session.get(FormRecord, record_id)
        if record is None:
            continue
        spec: FormSpec = spec_of_record(session, record)
        try:
            scope = scope_for(spec, user, "read")
        except ForbiddenError:
            continue
        if not in_scope(session, user, scope, record):
            continue
        roles = roles_of(user)
        for name in fields:
            field = spec.field(name)
            if field is not None and (field.read_roles is None or roles & set(field.read_roles)):
                return True
    return False


def _by_record(links: Iterable[AttachmentLink]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for link in links:
        grouped.setdefault(link.record_id, []).append(link.field)
    return grouped


def get_downloadable(
    session: Session, user: User, attachment_id: int, spec_of_record: Any
) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not may_download(session, user, attachment, spec_of_record):
        raise AttachmentNotFoundError(attachment_id=attachment_id)
    return attachment
