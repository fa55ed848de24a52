"""Attachments: bytes move to files named by content hash; links from records.

Revision ID: 0010
Revises: 0002
Create Date: 2026-03-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("content")
        batch.create_index("ix_attachments_sha256", ["sha256"])
    op.create_table(
        "attachment_links",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_attachment_links_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["form_records.id"],
            name=op.f("fk_attachment_links_record_id_form_records"),
        ),
        sa.PrimaryKeyConstraint(
            "attachment_id", "record_id", "field", name=op.f("pk_attachment_links")
        ),
    )
    op.create_index("ix_attachment_links_record_id", "attachment_links", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_attachment_links_record_id", table_name="attachment_links")
    op.drop_table("attachment_links")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_sha256")
        batch.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
    # the bytes stay in the files; the old column cannot be refilled from here
    op.execute(sa.text("UPDATE attachments SET content = :empty").bindparams(empty=b""))
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
