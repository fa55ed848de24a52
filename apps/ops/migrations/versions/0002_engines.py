"""Engines: departments, flows (instances, tasks, trail), rules (schedules, firings,
outbox), notifications, attachments, the audit log; users get a department and an e-mail.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from apps.ops.models import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("head_username", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["departments.id"], name=op.f("fk_departments_parent_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=200), nullable=True))
        batch.create_foreign_key(
            op.f("fk_users_department_id_departments"), "departments", ["department_id"], ["id"]
        )
    op.create_table(
        "flow_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_node", sa.String(length=100), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["form_records.id"],
            name=op.f("fk_flow_instances_record_id_form_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_instances")),
    )
    op.create_index("ix_flow_instances_record_id", "flow_instances", ["record_id"])
    op.create_table(
        "flow_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("timeout_done", sa.Boolean(), nullable=False),
        sa.Column("acted_at", UTCDateTime(), nullable=True),
        sa.Column("acted_by", sa.String(length=100), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["flow_instances.id"],
            name=op.f("fk_flow_tasks_instance_id_flow_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_tasks")),
    )
    op.create_index("ix_flow_tasks_assignee_status", "flow_tasks", ["assignee", "status"])
    op.create_index("ix_flow_tasks_instance_id", "flow_tasks", ["instance_id", "node_id"])
    op.create_index("ix_flow_tasks_due_at", "flow_tasks", ["status", "due_at"])
    op.create_table(
        "flow_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("node_id", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["flow_instances.id"],
            name=op.f("fk_flow_events_instance_id_flow_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_events")),
    )
    op.create_index("ix_flow_events_instance_id", "flow_events", ["instance_id", "id"])
    op.create_table(
        "rule_schedules",
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("next_due_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rule_name", name=op.f("pk_rule_schedules")),
    )
    op.create_table(
        "rule_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("cause_key", sa.String(length=300), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_firings")),
        sa.UniqueConstraint(
            "rule_name", "cause_key", name=op.f("uq_rule_firings_rule_name_cause_key")
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firing_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["firing_id"], ["rule_firings.id"], name=op.f("fk_outbox_firing_id_rule_firings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("firing_id", "position", name=op.f("uq_outbox_firing_id_position")),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_username", "notifications", ["username", "id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("attachments")
    op.drop_index("ix_notifications_username", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("rule_firings")
    op.drop_table("rule_schedules")
    op.drop_index("ix_flow_events_instance_id", table_name="flow_events")
    op.drop_table("flow_events")
    op.drop_index("ix_flow_tasks_due_at", table_name="flow_tasks")
    op.drop_index("ix_flow_tasks_instance_id", table_name="flow_tasks")
    op.drop_index("ix_flow_tasks_assignee_status", table_name="flow_tasks")
    op.drop_table("flow_tasks")
    op.drop_index("ix_flow_instances_record_id", table_name="flow_instances")
    op.drop_table("flow_instances")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("fk_users_department_id_departments"), type_="foreignkey")
        batch.drop_column("email")
        batch.drop_column("department_id")
    op.drop_table("departments")
