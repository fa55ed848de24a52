"""Request and response models of the API (pydantic), one family per entity:
``…Create`` is what a client sends, ``…Public`` what it gets back, ``…sPublic`` a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Token(BaseModel):
    """OAuth2 token response."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    roles: list[str]


class FormSummary(BaseModel):
    """One form in the list (newest version)."""

    name: str
    version: int
    title: dict[str, str]
    description: dict[str, str] | None = None


class FormsPublic(BaseModel):
    data: list[FormSummary]
    count: int


class FormDefinitionPublic(BaseModel):
    """A stored version of a form definition."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    version: int
    definition: dict[str, Any]
    created_at: datetime


class RecordCreate(BaseModel):
    """A new record: the field values by field name, e.g. ``{"data": {"sku": "OL-KIT-0001"}}``."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]


class RecordPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    form_name: str
    form_version: int
    data: dict[str, Any]
    status: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class RecordsPublic(BaseModel):
    data: list[RecordPublic]
    count: int = Field(description="Records of this form in total")
    limit: int
    offset: int


class ErrorPublic(BaseModel):
    """Every 4xx/5xx answer: a sentence for people, plus per-field messages when relevant."""

    detail: str
    errors: dict[str, str] | None = None


class RecordUpdate(BaseModel):
    """Changed field values; fields not given keep their value."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]


class TaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    instance_id: int
    node_id: str
    round: int
    kind: str
    assignee: str
    status: str
    created_at: datetime
    due_at: datetime | None
    acted_at: datetime | None
    acted_by: str | None
    comment: str | None


class FlowEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int | None
    node_id: str | None
    actor: str
    action: str
    comment: str | None
    detail: dict[str, Any]
    at: datetime


class FlowInstancePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    flow_name: str
    record_id: int
    status: str
    current_node: str | None
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    tasks: list[TaskPublic] = []
    trail: list[FlowEventPublic] = []


class FlowStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: int = Field(ge=1, le=2**53 - 1)


class TaskAction(BaseModel):
    """approve | reject | return (``to_node``) | transfer (``to_user``) | comment."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "reject", "return", "transfer", "comment"]
    comment: str | None = Field(default=None, max_length=2000)
    to_node: str | None = Field(default=None, max_length=100)
    to_user: str | None = Field(default=None, max_length=100)


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=2000)


class InboxPublic(BaseModel):
    data: list[TaskPublic]
    count: int


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class RuleFiringPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_name: str
    cause_key: str
    inputs: dict[str, Any]
    outcome: str
    detail: str | None
    fired_at: datetime


class AuditVerifyPublic(BaseModel):
    ok: bool
    checked: int
    first_bad_id: int | None
    message: str


class ImportRowError(BaseModel):
    row: int = Field(description="Line in the file (the header is line 1)")
    errors: dict[str, str]


class ImportResult(BaseModel):
    imported: int
    record_ids: list[int]
    rejected: list[ImportRowError]


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
