"""Tables of the app store (SQLAlchemy 2 declarative).

The schema itself is created by the Alembic migrations; these classes must match them
(``tests/ops/test_migrations.py`` checks that they do).

``form_records`` is read incrementally by the lake connector (by ``updated_at``, then ``id``):
keep its column names and meaning stable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names: Alembic (batch mode on SQLite) needs them to alter tables later.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC instant. PostgreSQL: ``timestamp with time zone``. SQLite: UTC text
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (sorts correctly as text). Python always sees aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class FormDefinition(Base):
    """One version of a form definition. A changed definition file becomes a new version;
    old versions stay so that records keep the definition they were made with."""

    __tablename__ = "form_definitions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical JSON of ``definition``: loading the same file again is a no-op.
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormRecord(Base):
    """One submitted form (the lake connector's source table)."""

    __tablename__ = "form_records"
    __table_args__ = (
        ForeignKeyConstraint(
            ["form_name", "form_version"],
            ["form_definitions.name", "form_definitions.version"],
        ),
        # Incremental reads: WHERE updated_at > :cursor ORDER BY updated_at, id.
        Index("ix_form_records_updated_at", "updated_at", "id"),
        Index("ix_form_records_form_name", "form_name", "id"),
        # Ids are never reused on SQLite either (the connector uses id as a tie-breaker).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_name: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32), default="submitted")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    # Role names, e.g. ["admin", "finance_director"]; what a role may do is in the form
    # definitions (permissions) and flow definitions (assignees).
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id"), nullable=True, default=None
    )
    email: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)


class Department(Base):
    """A node of the organisation tree; its head approves for the people below it."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    head_username: Mapped[str | None] = mapped_column(String(100), nullable=True)


class FlowInstance(Base):
    """One run of an approval flow over one record. ``definition`` is a snapshot of the flow
    as it was started: a changed flow file never changes running instances."""

    __tablename__ = "flow_instances"
    __table_args__ = (Index("ix_flow_instances_record_id", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    record_id: Mapped[int] = mapped_column(ForeignKey("form_records.id"))
    status: Mapped[str] = mapped_column(String(32), default="running")
    current_node: Mapped[str | None] = mapped_column(String(100), nullable=True)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FlowTask(Base):
    """A to-do of one person at one node (or a cc notice). ``round`` counts the visits of
    the node: a return to it opens a new round."""

    __tablename__ = "flow_tasks"
    __table_args__ = (
        Index("ix_flow_tasks_assignee_status", "assignee", "status"),
        Index("ix_flow_tasks_instance_id", "instance_id", "node_id"),
        Index("ix_flow_tasks_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instances.id"))
    node_id: Mapped[str] = mapped_column(String(100))
    round: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(16), default="approve")  # approve | cc
    assignee: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timeout_done: Mapped[bool] = mapped_column(Boolean, default=False)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class FlowEvent(Base):
    """The trail of an instance: every start, action, timeout and node change, in order."""

    __tablename__ = "flow_events"
    __table_args__ = (Index("ix_flow_events_instance_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instances.id"))
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    node_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleSchedule(Base):
    """When a scheduled (or polled) rule is next due; survives restarts."""

    __tablename__ = "rule_schedules"

    rule_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RuleFiring(Base):
    """One firing of a rule for one cause. The unique (rule, cause) key makes a second
    firing for the same cause a no-op."""

    __tablename__ = "rule_firings"
    __table_args__ = (UniqueConstraint("rule_name", "cause_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_name: Mapped[str] = mapped_column(String(100))
    cause_key: Mapped[str] = mapped_column(String(300))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(32))  # queued | skipped | condition_error
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxItem(Base):
    """One action of a firing, delivered after the firing committed; retried with backoff
    and marked failed (and reported) after the last attempt, never dropped."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("firing_id", "position"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firing_id: Mapped[int] = mapped_column(ForeignKey("rule_firings.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Notification(Base):
    """An in-app message to one user (flow to-dos, cc, reminders, rule notices)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_username", "username", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Attachment(Base):
    """An uploaded file; attachment fields hold the ids. The bytes are a file under
    ``$OPSLAKE_HOME/attachments`` named by their sha256 (see ``apps.ops.forms.attachments``)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_sha256", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttachmentLink(Base):
    """An attachment named by a record's attachment field: who may read the record (and the
    field) may download the file."""

    __tablename__ = "attachment_links"
    __table_args__ = (Index("ix_attachment_links_record_id", "record_id"),)

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("form_records.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(100), primary_key=True)


class AuditEntry(Base):
    """Append-only log of every write, hash-chained: ``hash`` = sha256 of the previous
    entry's hash and this entry's content (see :mod:`apps.ops.audit`)."""

    __tablename__ = "audit_log"
    __table_args__ = {"sqlite_autoincrement": True}  # ids of deleted rows are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ShopifyWebhook(Base):
    """A Shopify order webhook as received (the raw body), stored once per webhook id.

    Read incrementally by the lake connector (``ingest/sources/shopify_webhooks.py``) by
    ``received_at``, then ``id``: keep these column names and their meaning stable."""

    __tablename__ = "shopify_webhooks"
    __table_args__ = (
        Index("ix_shopify_webhooks_received_at", "received_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(100), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    shop_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    api_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    body: Mapped[str] = mapped_column(Text)  # the exact bytes Shopify signed, as UTF-8
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
