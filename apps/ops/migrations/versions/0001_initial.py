"""App store foundation: form definitions, form records, users.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from apps.ops.models import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_definitions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_form_definitions_name_version")),
    )
    op.create_table(
        "form_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_name", sa.String(length=100), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_name", "form_version"],
            ["form_definitions.name", "form_definitions.version"],
            name=op.f("fk_form_records_form_name_form_version_form_definitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_records")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_form_records_form_name", "form_records", ["form_name", "id"])
    op.create_index("ix_form_records_updated_at", "form_records", ["updated_at", "id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("ix_form_records_updated_at", table_name="form_records")
    op.drop_index("ix_form_records_form_name", table_name="form_records")
    op.drop_table("form_records")
    op.drop_table("form_definitions")
