"""Tables of the OMS (schema owned by migration 0020_oms). Stock is one row per
SKU × warehouse: ``on_hand`` (physically there) and ``reserved`` (promised to orders not
shipped yet); available-to-promise = on_hand − reserved, never below 0 (CHECK)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from apps.ops.models import Base, UTCDateTime, utcnow


class OmsStock(Base):
    __tablename__ = "oms_stock"
    __table_args__ = (
        UniqueConstraint("sku", "warehouse"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="bounds"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    warehouse: Mapped[str] = mapped_column(String(32))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OmsOrder(Base):
    """An order from a channel (marketplace, web shop) or entered by hand (``manual``)."""

    __tablename__ = "oms_orders"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_oms_orders_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(100))
    # received → on_hold (review failed) | allocated | rejected → shipped → delivered;
    # returned when goods came back
    status: Mapped[str] = mapped_column(String(32), default="received")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    review: Mapped[list[Any]] = mapped_column(JSON, default=list)
    customer_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    province: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[str] = mapped_column(String(32), default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OmsOrderLine(Base):
    __tablename__ = "oms_order_lines"
    __table_args__ = (Index("ix_oms_order_lines_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("oms_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[str] = mapped_column(String(32))


class OmsAllocation(Base):
    """Units of one order line reserved in one warehouse (a split line has several)."""

    __tablename__ = "oms_allocations"
    __table_args__ = (Index("ix_oms_allocations_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("oms_orders.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("oms_order_lines.id"))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="reserved")  # reserved|shipped|released
    shipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("oms_shipments.id"), nullable=True, default=None
    )


class OmsShipment(Base):
    """One parcel from one warehouse; an order split over warehouses has several."""

    __tablename__ = "oms_shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_no"),
        Index("ix_oms_shipments_order_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("oms_orders.id"))
    warehouse: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="created")
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OmsReturn(Base):
    """Goods received back from a customer; resellable units are restocked."""

    __tablename__ = "oms_returns"
    __table_args__ = (Index("ix_oms_returns_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("oms_orders.id"))
    warehouse: Mapped[str] = mapped_column(String(32))
    lines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
