"""OMS: stock per SKU × warehouse, orders and lines, allocations, shipments, returns.

Revision ID: 0020
Revises: 0010
Create Date: 2026-03-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from apps.ops.models import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def upgrade() -> None:
    op.create_table(
        "oms_stock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse", sa.String(length=32), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name=op.f("ck_oms_stock_bounds")
        ),
        _pk("oms_stock"),
        sa.UniqueConstraint("sku", "warehouse", name="uq_oms_stock_sku_warehouse"),
    )
    op.create_table(
        "oms_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("review", sa.JSON(), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=50), nullable=False),
        sa.Column("city", sa.String(length=50), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("total", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _pk("oms_orders"),
        sa.UniqueConstraint("channel", "external_id", name="uq_oms_orders_channel_external_id"),
    )
    op.create_index("ix_oms_orders_status", "oms_orders", ["status", "id"])
    op.create_table(
        "oms_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["oms_orders.id"], name="fk_oms_order_lines_order_id_oms_orders"
        ),
        _pk("oms_order_lines"),
    )
    op.create_index("ix_oms_order_lines_order_id", "oms_order_lines", ["order_id"])
    op.create_table(
        "oms_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("warehouse", sa.String(length=32), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("tracking_no", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["oms_orders.id"], name="fk_oms_shipments_order_id_oms_orders"
        ),
        _pk("oms_shipments"),
        sa.UniqueConstraint("carrier", "tracking_no", name="uq_oms_shipments_carrier_tracking_no"),
    )
    op.create_index("ix_oms_shipments_order_id", "oms_shipments", ["order_id"])
    op.create_table(
        "oms_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["oms_orders.id"], name="fk_oms_allocations_order_id_oms_orders"
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["oms_order_lines.id"], name="fk_oms_allocations_line_id_oms_order_lines"
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["oms_shipments.id"],
            name="fk_oms_allocations_shipment_id_oms_shipments",
        ),
        _pk("oms_allocations"),
    )
    op.create_index("ix_oms_allocations_order_id", "oms_allocations", ["order_id"])
    op.create_table(
        "oms_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("warehouse", sa.String(length=32), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["oms_orders.id"], name="fk_oms_returns_order_id_oms_orders"
        ),
        _pk("oms_returns"),
    )
    op.create_index("ix_oms_returns_order_id", "oms_returns", ["order_id"])


def downgrade() -> None:
    for index, table in [
        ("ix_oms_returns_order_id", "oms_returns"),
        ("ix_oms_allocations_order_id", "oms_allocations"),
        ("ix_oms_shipments_order_id", "oms_shipments"),
        ("ix_oms_order_lines_order_id", "oms_order_lines"),
        ("ix_oms_orders_status", "oms_orders"),
    ]:
        op.drop_index(index, table_name=table)
    for table in [
        "oms_returns",
        "oms_allocations",
        "oms_shipments",
        "oms_order_lines",
        "oms_orders",
        "oms_stock",
    ]:
        op.drop_table(table)
