"""Stock per SKU × warehouse in the app store. Every change is one conditional UPDATE, so
concurrent orders can never promise more than is on hand:

    UPDATE oms_stock SET reserved = reserved + :q
    WHERE sku = :sku AND warehouse = :wh AND on_hand - reserved >= :q

(rowcount 0 = not enough; PostgreSQL re-checks the condition on the newest row version
after waiting for a concurrent writer, SQLite serialises writers). A CHECK constraint
(0 <= reserved <= on_hand) backs it up in the database itself."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.ops.oms.models import OmsStock


def available(session: Session, sku: str, warehouses: Iterable[str]) -> dict[str, int]:
    """Available-to-promise per warehouse (fresh read, not the session's cache)."""
    rows = session.execute(
        select(OmsStock.warehouse, OmsStock.on_hand - OmsStock.reserved).where(
            OmsStock.sku == sku, OmsStock.warehouse.in_(list(warehouses))
        )
    ).all()
    return {warehouse: max(int(atp), 0) for warehouse, atp in rows}


def try_reserve(session: Session, sku: str, warehouse: str, quantity: int, now: datetime) -> bool:
    """Reserve ``quantity`` units if (and only if) that many are available right now."""
    changed = session.execute(
        update(OmsStock)
        .where(
            OmsStock.sku == sku,
            OmsStock.warehouse == warehouse,
            OmsStock.on_hand - OmsStock.reserved >= quantity,
        )
        .values(reserved=OmsStock.reserved + quantity, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1


def release(session: Session, sku: str, warehouse: str, quantity: int, now: datetime) -> None:
    session.execute(
        update(OmsStock)
        .where(OmsStock.sku == sku, OmsStock.warehouse == warehouse)
        .values(reserved=OmsStock.reserved - quantity, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def issue(session: Session, sku: str, warehouse: str, quantity: int, now: datetime) -> None:
    """Reserved units leave the warehouse (shipped): on hand and reserved both drop."""
    changed = session.execute(
        update(OmsStock)
        .where(OmsStock.sku == sku, OmsStock.warehouse == warehouse, OmsStock.reserved >= quantity)
        .values(
            on_hand=OmsStock.on_hand - quantity,
            reserved=OmsStock.reserved - quantity,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise RuntimeError(f"{sku}@{warehouse}: {quantity} units are not reserved")


def receive(session: Session, sku: str, warehouse: str, quantity: int, now: datetime) -> None:
    """Units come in (return, receipt): add to on hand, creating the row if needed."""
    changed = session.execute(
        update(OmsStock)
        .where(OmsStock.sku == sku, OmsStock.warehouse == warehouse)
        .values(on_hand=OmsStock.on_hand + quantity, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed == 0:
        try:
            with session.begin_nested():
                session.add(
                    OmsStock(
                        sku=sku, warehouse=warehouse, on_hand=quantity, reserved=0, updated_at=now
                    )
                )
        except IntegrityError:  # created concurrently: add to it
            receive(session, sku, warehouse, quantity, now)


def set_on_hand(session: Session, sku: str, warehouse: str, on_hand: int, now: datetime) -> None:
    """Set the counted stock (a stock take, the WMS snapshot). It may not drop below what
    is reserved (the CHECK constraint refuses it)."""
    row = session.scalars(
        select(OmsStock).where(OmsStock.sku == sku, OmsStock.warehouse == warehouse)
    ).first()
    if row is None:
        session.add(
            OmsStock(sku=sku, warehouse=warehouse, on_hand=on_hand, reserved=0, updated_at=now)
        )
    else:
        session.execute(
            update(OmsStock)
            .where(OmsStock.id == row.id)
            .values(on_hand=on_hand, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    session.flush()


def available_to_sell(
    session: Session, warehouses: list[str], share: float, buffer: int
) -> dict[str, int]:
    """Per SKU: the units a channel may offer = floor(share × Σ available) − buffer, ≥ 0."""
    rows = session.execute(
        select(OmsStock.sku, func.sum(OmsStock.on_hand - OmsStock.reserved))
        .where(OmsStock.warehouse.in_(warehouses))
        .group_by(OmsStock.sku)
        .order_by(OmsStock.sku)
    ).all()
    return {sku: max(int(int(total or 0) * share) - buffer, 0) for sku, total in rows}
