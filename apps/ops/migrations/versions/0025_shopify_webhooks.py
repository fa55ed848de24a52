"""Shopify order webhooks as received (raw body), once per X-Shopify-Webhook-Id.

The lake connector ``ingest/sources/shopify_webhooks.py`` reads this table by
(``received_at``, ``id``): keep those columns and their meaning stable.

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from apps.ops.models import UTCDateTime

revision: str = "0025"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shopify_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=True),
        sa.Column("api_version", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_webhooks")),
        sa.UniqueConstraint("webhook_id", name=op.f("uq_shopify_webhooks_webhook_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_shopify_webhooks_received_at", "shopify_webhooks", ["received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_shopify_webhooks_received_at", table_name="shopify_webhooks")
    op.drop_table("shopify_webhooks")
