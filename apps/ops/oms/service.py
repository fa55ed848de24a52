"""Order handling: intake (idempotent per channel + external id) → automatic review →
allocation (routing by stock and region; one warehouse if one can fill the order, else a
split over several; all or nothing) → shipments per warehouse → tracking → returns.

Each step is its own write transaction (``write_transaction``: SQLite ``BEGIN IMMEDIATE``,
PostgreSQL READ COMMITTED with conditional UPDATEs), so any number of workers may run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from apps.ops import audit
from apps.ops.core.db import write_transaction
from apps.ops.core.errors import OpsError
from apps.ops.models import utcnow
from apps.ops.oms import stock
from apps.ops.oms.config import OmsConfig
from apps.ops.oms.models import (
    OmsAllocation,
    OmsOrder,
    OmsOrderLine,
    OmsReturn,
    OmsShipment,
)
from apps.ops.oms.review import ListPrice, review_order

ACTOR = "oms"


class OrderError(OpsError):
    status_code = 409
    code = "error.flow_state"  # "{reason}"


class OrderNotFound(OpsError):
    status_code = 404
    code = "error.flow_state"


class _OutOfStock(Exception):
    def __init__(self, sku: str, wanted: int, available: int) -> None:
        self.sku, self.wanted, self.available = sku, wanted, available


@dataclass
class LineIn:
    sku: str
    quantity: int
    unit_price: str


@dataclass
class OrderIn:
    channel: str
    external_id: str
    lines: list[LineIn]
    customer_name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    address: str = ""


def _price(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


@dataclass
class OmsService:
    make_session: sessionmaker[Session]
    config: OmsConfig
    now: Callable[[], datetime] = utcnow
    list_price: ListPrice = field(default=lambda sku: None)

    # -- intake and review ------------------------------------------------------------------

    def submit(self, order_in: OrderIn) -> OmsOrder:
        """Take an order in (a repeated channel order returns the stored one), review it,
        and allocate stock when it passes. Returns the order in its resulting state."""
        order = self._intake(order_in)
        if order.status == "queued":
            order = self.allocate(order.id)
        return order

    def _intake(self, order_in: OrderIn) -> OmsOrder:
        if not order_in.lines:
            raise OrderError(reason="an order needs at least one line")
        lines = [
            {"sku": line.sku, "quantity": int(line.quantity), "unit_price": line.unit_price}
            for line in order_in.lines
        ]
        if any(line["quantity"] < 1 for line in lines):
            raise OrderError(reason="quantities must be at least 1")
        header = {
            "channel": order_in.channel,
            "customer_name": order_in.customer_name,
            "phone": order_in.phone,
            "province": order_in.province,
            "city": order_in.city,
            "address": order_in.address,
        }
        failures = review_order(self.config, header, lines, self.list_price)
        total = sum((Decimal(str(x["unit_price"])) * x["quantity"] for x in lines), Decimal(0))
        now = self.now()
        with self.make_session() as session:
            existing = self._by_external(session, order_in.channel, order_in.external_id)
            if existing is not None:
                return existing
            try:
                with write_transaction(session):
                    order = OmsOrder(
                        **header,
                        external_id=order_in.external_id,
                        status="on_hold" if failures else "queued",
                        reason="; ".join(f["message"].get("en", "") for f in failures) or None,
                        review=failures,
                        total=str(total),
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(order)
                    session.flush()
                    for no, line in enumerate(lines, start=1):
                        session.add(OmsOrderLine(order_id=order.id, line_no=no, **line))
                    audit.append(
                        session,
                        actor=ACTOR,
                        action="oms.order",
                        entity="oms_order",
                        entity_id=order.id,
                        after={**header, "external_id": order.external_id, "status": order.status},
                    )
            except IntegrityError:  # the same channel order arrived twice at once
                existing = self._by_external(session, order_in.channel, order_in.external_id)
                if existing is None:
                    raise
                return existing
            return order

    @staticmethod
    def _by_external(session: Session, channel: str, external_id: str) -> OmsOrder | None:
        return session.scalars(
            select(OmsOrder).where(OmsOrder.channel == channel, OmsOrder.external_id == external_id)
        ).first()

    def release_hold(self, order_id: int, actor: str) -> OmsOrder:
        """A person checked an order the review held: it goes on to allocation."""
        with self.make_session() as session, write_transaction(session):
            order = self._order(session, order_id)
            if order.status != "on_hold":
                raise OrderError(reason=f"order {order_id} is {order.status}, not on hold")
            order.status, order.updated_at = "queued", self.now()
            audit.append(
                session,
                actor=actor,
                action="oms.release_hold",
                entity="oms_order",
                entity_id=order.id,
                before={"status": "on_hold"},
                after={"status": "queued"},
            )
        return self.allocate(order_id)

    # -- allocation -----------------------------------------------------------------------

    def allocate(self, order_id: int) -> OmsOrder:
        """Reserve stock for every line, or nothing (the order is then rejected with the
        reason). Prefers one warehouse that can fill the whole order (region first), else
        splits lines over warehouses in the same order of preference."""
        now = self.now()
        with self.make_session() as session:
            with write_transaction(session):
                order = self._order(session, order_id, lock=True)
                if order.status != "queued":
                    return order
                lines = self._lines(session, order.id)
                ranked = self.config.ranked_warehouses(order.province)
                try:
                    with session.begin_nested():
                        placed = self._single(session, lines, ranked, now) or self._split(
                            session, lines, ranked, now
                        )
                        for line, warehouse, quantity in placed:
                            session.add(
                                OmsAllocation(
                                    order_id=order.id,
                                    line_id=line.id,
                                    sku=line.sku,
                                    warehouse=warehouse,
                                    quantity=quantity,
                                    status="reserved",
                                )
                            )
                        session.flush()
                    order.status, order.reason = "allocated", None
                except _OutOfStock as short:
                    order.status = "rejected"
                    order.reason = (
                        f"insufficient stock: {short.sku} needs {short.wanted}, "
                        f"{short.available} available"
                    )
                order.updated_at = now
                audit.append(
                    session,
                    actor=ACTOR,
                    action="oms.allocate",
                    entity="oms_order",
                    entity_id=order.id,
                    before={"status": "queued"},
                    after={"status": order.status, "reason": order.reason},
                )
            return order

    def _single(
        self, session: Session, lines: list[OmsOrderLine], ranked: list[str], now: datetime
    ) -> list[tuple[OmsOrderLine, str, int]] | None:
        wanted: dict[str, int] = {}
        for line in lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        atp = {sku: stock.available(session, sku, ranked) for sku in wanted}
        for warehouse in ranked:
            if all(atp[sku].get(warehouse, 0) >= q for sku, q in wanted.items()):
                try:
                    with session.begin_nested():
                        for line in lines:
                            if not stock.try_reserve(
                                session, line.sku, warehouse, line.quantity, now
                            ):
                                raise _OutOfStock(line.sku, line.quantity, 0)  # lost a race
                    return [(line, warehouse, line.quantity) for line in lines]
                except _OutOfStock:
                    continue
        return None

    def _split(
        self, session: Session, lines: list[OmsOrderLine], ranked: list[str], now: datetime
    ) -> list[tuple[OmsOrderLine, str, int]]:
        placed: list[tuple[OmsOrderLine, str, int]] = []
        for line in lines:
            remaining = line.quantity
            for _attempt in range(5):  # re-read after losing a race to another order
                atp = stock.available(session, line.sku, ranked)
                for warehouse in ranked:
                    take = min(atp.get(warehouse, 0), remaining)
                    if take > 0 and stock.try_reserve(session, line.sku, warehouse, take, now):
                        placed.append((line, warehouse, take))
                        remaining -= take
                if remaining == 0 or sum(atp.values()) == 0:
                    break
            if remaining > 0:
                got = line.quantity - remaining
                raise _OutOfStock(line.sku, line.quantity, got)
        return placed

    def cancel(self, order_id: int, actor: str) -> OmsOrder:
        """Cancel an order that has not shipped: its reservations are released."""
        now = self.now()
        with self.make_session() as session, write_transaction(session):
            order = self._order(session, order_id, lock=True)
            if order.status not in ("queued", "on_hold", "allocated"):
                raise OrderError(reason=f"order {order_id} is {order.status}")
            for alloc in self._allocations(session, order.id, "reserved"):
                stock.release(session, alloc.sku, alloc.warehouse, alloc.quantity, now)
                alloc.status = "released"
            before = order.status
            order.status, order.updated_at = "cancelled", now
            audit.append(
                session,
                actor=actor,
                action="oms.cancel",
                entity="oms_order",
                entity_id=order.id,
                before={"status": before},
                after={"status": "cancelled"},
            )
            return order

    # -- shipping, tracking, returns --------------------------------------------------------

    def ship(self, order_id: int, carrier: str) -> list[OmsShipment]:
        """One shipment per warehouse holding the order's reservations (a split order
        ships in several parcels); the reserved units leave the stock."""
        if carrier not in self.config.carriers:
            raise OrderError(reason=f"unknown carrier {carrier!r}")
        now = self.now()
        with self.make_session() as session, write_transaction(session):
            order = self._order(session, order_id, lock=True)
            if order.status != "allocated":
                raise OrderError(reason=f"order {order_id} is {order.status}, not allocated")
            by_warehouse: dict[str, list[OmsAllocation]] = {}
            for alloc in self._allocations(session, order.id, "reserved"):
                by_warehouse.setdefault(alloc.warehouse, []).append(alloc)
            shipments = []
            for index, (warehouse, allocs) in enumerate(sorted(by_warehouse.items()), start=1):
                shipment = OmsShipment(
                    order_id=order.id,
                    warehouse=warehouse,
                    carrier=carrier,
                    tracking_no=f"{carrier.upper()[:4]}{order.id:08d}{index:02d}",
                    status="created",
                    events=[],
                    created_at=now,
                    updated_at=now,
                )
                session.add(shipment)
                session.flush()
                for alloc in allocs:
                    stock.issue(session, alloc.sku, alloc.warehouse, alloc.quantity, now)
                    alloc.status, alloc.shipment_id = "shipped", shipment.id
                shipments.append(shipment)
            order.status, order.updated_at = "shipped", now
            audit.append(
                session,
                actor=ACTOR,
                action="oms.ship",
                entity="oms_order",
                entity_id=order.id,
                before={"status": "allocated"},
                after={"status": "shipped", "shipments": [s.tracking_no for s in shipments]},
            )
            return shipments

    def update_tracking(self, fetch: Callable[[OmsShipment], dict[str, Any]]) -> int:
        """Ask the carrier about every open shipment (``fetch`` returns
        ``{"status": ..., "events": [...]}``); an order is delivered when all its parcels
        are. Returns how many shipments changed."""
        with self.make_session() as session:
            open_ids = session.scalars(
                select(OmsShipment.id).where(OmsShipment.status.not_in(("delivered", "lost")))
            ).all()
        changed = 0
        for shipment_id in open_ids:
            with self.make_session() as session:
                shipment = session.get(OmsShipment, shipment_id)
                assert shipment is not None
                answer = fetch(shipment)  # outside the write transaction (network)
                status = str(answer.get("status") or shipment.status)
                with write_transaction(session):
                    shipment = session.get(OmsShipment, shipment_id, populate_existing=True)
                    assert shipment is not None
                    if status == shipment.status:
                        continue
                    shipment.status = status
                    shipment.events = list(answer.get("events") or [])
                    shipment.updated_at = self.now()
                    changed += 1
                    statuses = set(
                        session.scalars(
                            select(OmsShipment.status).where(
                                OmsShipment.order_id == shipment.order_id
                            )
                        )
                    )
                    order = self._order(session, shipment.order_id, lock=True)
                    if statuses == {"delivered"} and order.status == "shipped":
                        order.status, order.updated_at = "delivered", self.now()
        return changed

    def receive_return(
        self, order_id: int, warehouse: str, lines: Iterable[dict[str, Any]], actor: str
    ) -> OmsReturn:
        """Goods came back: resellable units are restocked in ``warehouse`` (damaged
        ones are recorded, not restocked)."""
        now = self.now()
        items = [
            {
                "sku": str(x["sku"]),
                "quantity": int(x["quantity"]),
                "condition": x.get("condition", "resellable"),
            }
            for x in lines
        ]
        with self.make_session() as session, write_transaction(session):
            order = self._order(session, order_id, lock=True)
            if order.status not in ("shipped", "delivered", "returned"):
                raise OrderError(reason=f"order {order_id} is {order.status}, not shipped")
            shipped: dict[str, int] = {}
            for alloc in self._allocations(session, order.id, "shipped"):
                shipped[alloc.sku] = shipped.get(alloc.sku, 0) + alloc.quantity
            back = session.scalars(select(OmsReturn).where(OmsReturn.order_id == order.id))
            for earlier in back:
                for x in earlier.lines:
                    shipped[x["sku"]] = shipped.get(x["sku"], 0) - int(x["quantity"])
            for x in items:
                if x["quantity"] < 1 or x["quantity"] > shipped.get(x["sku"], 0):
                    raise OrderError(reason=f"{x['sku']}: more returned than shipped")
                shipped[x["sku"]] -= x["quantity"]
                if x["condition"] == "resellable":
                    stock.receive(session, x["sku"], warehouse, x["quantity"], now)
            rma = OmsReturn(order_id=order.id, warehouse=warehouse, lines=items, created_at=now)
            session.add(rma)
            order.status, order.updated_at = "returned", now
            audit.append(
                session,
                actor=actor,
                action="oms.return",
                entity="oms_order",
                entity_id=order.id,
                after={"warehouse": warehouse, "lines": items},
            )
            session.flush()
            return rma

    # -- reads ----------------------------------------------------------------------------

    def ats(self, channel: str) -> dict[str, int]:
        conf = self.config.channels.get(channel)
        if conf is None:
            raise OrderNotFound(reason=f"unknown channel {channel!r}")
        with self.make_session() as session:
            return stock.available_to_sell(session, conf.warehouses, conf.share, conf.buffer)

    @staticmethod
    def _order(session: Session, order_id: int, *, lock: bool = False) -> OmsOrder:
        query = select(OmsOrder).where(OmsOrder.id == order_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        order = session.scalars(query).first()
        if order is None:
            raise OrderNotFound(reason=f"there is no order {order_id}")
        return order

    @staticmethod
    def _lines(session: Session, order_id: int) -> list[OmsOrderLine]:
        return list(
            session.scalars(
                select(OmsOrderLine)
                .where(OmsOrderLine.order_id == order_id)
                .order_by(OmsOrderLine.line_no)
            )
        )

    @staticmethod
    def _allocations(session: Session, order_id: int, status: str) -> list[OmsAllocation]:
        return list(
            session.scalars(
                select(OmsAllocation)
                .where(OmsAllocation.order_id == order_id, OmsAllocation.status == status)
                .order_by(OmsAllocation.id)
            )
        )


def price_from_provider(
    provider: Any, column: str = "list_price", retry_after: float = 60.0
) -> ListPrice:
    """List prices from a master-data provider (``products`` from the lake's marts). When
    the lake cannot be read, prices count as unknown (the check does not apply) and the
    lake is not asked again for ``retry_after`` seconds: intake never waits on it."""
    down_until = [0.0]

    def lookup(sku: str) -> Decimal | None:
        if provider is None or time.monotonic() < down_until[0]:
            return None
        try:
            row = provider.lookup(sku)
        except Exception:  # noqa: BLE001 - master data unavailable: the check does not apply
            down_until[0] = time.monotonic() + retry_after
            return None
        return _price(row.get(column)) if row else None

    return lookup
