"""What validation needs from outside the submitted data: the app store (users,
departments, records, attachments, uniqueness) and master-data providers (the lake)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.ops.forms.providers import MasterDataProvider, ProviderUnavailable
from apps.ops.models import Attachment, Department, FormRecord, User


class Lookups(Protocol):
    def user_exists(self, username: str) -> bool: ...
    def department_exists(self, name: str) -> bool: ...
    def record_exists(self, form: str, record_id: int) -> bool: ...
    def attachment_exists(self, attachment_id: int) -> bool: ...
    def is_unique(self, form: str, field: str, value: Any, record_id: int | None) -> bool: ...
    def master(self, provider: str, key: str) -> dict[str, Any] | None | bool: ...


class StoreLookups:
    """Look-ups in the app store through the caller's session (same transaction)."""

    def __init__(
        self, session: Session, providers: Mapping[str, MasterDataProvider] | None = None
    ) -> None:
        self.session = session
        self.providers = providers or {}

    def user_exists(self, username: str) -> bool:
        query = select(func.count()).select_from(User).where(User.username == username)
        return bool(self.session.scalar(query))

    def department_exists(self, name: str) -> bool:
        query = select(func.count()).select_from(Department).where(Department.name == name)
        return bool(self.session.scalar(query))

    def record_exists(self, form: str, record_id: int) -> bool:
        query = (
            select(func.count())
            .select_from(FormRecord)
            .where(FormRecord.id == record_id, FormRecord.form_name == form)
        )
        return bool(self.session.scalar(query))

    def attachment_exists(self, attachment_id: int) -> bool:
        return self.session.get(Attachment, attachment_id) is not None

    def is_unique(self, form: str, field: str, value: Any, record_id: int | None) -> bool:
        column = FormRecord.data[field]
        query = select(FormRecord.id).where(FormRecord.form_name == form)
        if isinstance(value, int | float) and not isinstance(value, bool):
            query = query.where(column.as_float() == float(value))
        else:
            query = query.where(column.as_string() == str(value))
        if record_id is not None:
            query = query.where(FormRecord.id != record_id)
        return self.session.scalars(query.limit(1)).first() is None

    def master(self, provider: str, key: str) -> dict[str, Any] | None | bool:
        """The master-data row, None when there is none, False when it cannot be checked."""
        source = self.providers.get(provider)
        if source is None:
            return False
        try:
            return source.lookup(key)
        except ProviderUnavailable:
            return False
