"""Request and response models of the API (pydantic), one family per entity:
``…Create`` is what a client sends, ``…Public`` what it gets back, ``…sPublic`` a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
