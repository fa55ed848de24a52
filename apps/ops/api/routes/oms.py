"""OMS: orders (manual or from channels), review holds, shipping, tracking, returns,
stock and the available-to-sell feed per channel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from apps.ops.api.deps import CurrentUser, SessionDep
from apps.ops.core.db import write_transaction
from apps.ops.core.errors import ForbiddenError
from apps.ops.models import User
from apps.ops.oms import stock
from apps.ops.oms.carrier import http_tracker
from apps.ops.oms.config import read_config
from apps.ops.oms.models import OmsAllocation, OmsOrder, OmsOrderLine, OmsShipment
from apps.ops.oms.service import LineIn, OmsService, OrderIn, price_from_provider
from apps.ops.schemas import ErrorPublic

router = APIRouter(prefix="/oms", tags=["oms"], responses={403: {"model": ErrorPublic}})
OMS_ROLES = {"admin", "order_admin", "warehouse"}


def oms_service(state: Any) -> OmsService:
    """The app's OMS service (``app.state.oms``), made on first use."""
    if getattr(state, "oms", None) is None:
        ops = state.ops
        state.oms = OmsService(
            state.sessionmaker,
            read_config(),
            ops.clock.now,
            price_from_provider(ops.providers.get("products")),
        )
    return state.oms


def get_oms(request: Request) -> OmsService:
    return oms_service(request.app.state)


OmsDep = Annotated[OmsService, Depends(get_oms)]


def require_oms_role(user: CurrentUser) -> User:
    if not OMS_ROLES & set(user.roles or []):
        raise ForbiddenError()
    return user


OmsUser = Annotated[User, Depends(require_oms_role)]


class LineCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: str = Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")


class OrderCreate(BaseModel):
    channel: str = Field(default="manual", max_length=32)
    external_id: str = Field(min_length=1, max_length=100)
    customer_name: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=32)
    province: str = Field(default="", max_length=50)
    city: str = Field(default="", max_length=50)
    address: str = Field(default="", max_length=500)
    lines: list[LineCreate] = Field(min_length=1, max_length=500)


class OrderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    external_id: str
    status: str
    reason: str | None
    review: list[Any]
    province: str
    total: str
    lines: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    shipments: list[dict[str, Any]] = []


def order_public(service: OmsService, order: OmsOrder) -> OrderPublic:
    out = OrderPublic.model_validate(order)
    with service.make_session() as session:
        lines = session.scalars(select(OmsOrderLine).where(OmsOrderLine.order_id == order.id))
        out.lines = [
            {"sku": x.sku, "quantity": x.quantity, "unit_price": x.unit_price} for x in lines
        ]
        allocs = session.scalars(select(OmsAllocation).where(OmsAllocation.order_id == order.id))
        out.allocations = [
            {"sku": a.sku, "warehouse": a.warehouse, "quantity": a.quantity, "status": a.status}
            for a in allocs
        ]
        ships = session.scalars(select(OmsShipment).where(OmsShipment.order_id == order.id))
        out.shipments = [
            {"warehouse": s.warehouse, "tracking_no": s.tracking_no, "status": s.status}
            for s in ships
        ]
    return out


@router.post("/orders", status_code=201)
def create_order(body: OrderCreate, service: OmsDep, user: OmsUser) -> OrderPublic:
    """Take an order in (repeating a channel + external id returns the stored order),
    review it automatically and reserve stock when it passes."""
    order = service.submit(
        OrderIn(
            **body.model_dump(exclude={"lines"}),
            lines=[LineIn(**line.model_dump()) for line in body.lines],
        )
    )
    return order_public(service, order)


@router.get("/orders/{order_id}")
def read_order(order_id: int, service: OmsDep, user: CurrentUser) -> OrderPublic:
    with service.make_session() as session:
        order = service._order(session, order_id)
    return order_public(service, order)


@router.post("/orders/{order_id}/release")
def release_hold(order_id: int, service: OmsDep, user: OmsUser) -> OrderPublic:
    """A person checked an order the review held: allocate it."""
    return order_public(service, service.release_hold(order_id, user.username))


class ShipBody(BaseModel):
    carrier: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")


@router.post("/orders/{order_id}/ship")
def ship(order_id: int, body: ShipBody, service: OmsDep, user: OmsUser) -> OrderPublic:
    service.ship(order_id, body.carrier)
    with service.make_session() as session:
        order = service._order(session, order_id)
    return order_public(service, order)


class ReturnLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1)
    condition: str = Field(default="resellable", pattern="^(resellable|damaged)$")


class ReturnBody(BaseModel):
    warehouse: str = Field(min_length=1, max_length=32)
    lines: list[ReturnLine] = Field(min_length=1)


@router.post("/orders/{order_id}/returns", status_code=201)
def receive_return(
    order_id: int, body: ReturnBody, service: OmsDep, user: OmsUser
) -> dict[str, Any]:
    rma = service.receive_return(
        order_id, body.warehouse, [x.model_dump() for x in body.lines], user.username
    )
    return {"id": rma.id, "order_id": order_id, "warehouse": rma.warehouse, "lines": rma.lines}


@router.post("/tracking/refresh")
def refresh_tracking(service: OmsDep, user: OmsUser) -> dict[str, int]:
    """Ask the carriers' tracking APIs (configured in oms.yaml) about every open shipment."""
    return {"changed": service.update_tracking(http_tracker(service.config))}


class StockSet(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    warehouse: str = Field(min_length=1, max_length=32)
    on_hand: int = Field(ge=0)


@router.put("/stock")
def set_stock(body: StockSet, service: OmsDep, session: SessionDep, user: OmsUser) -> StockSet:
    """Set the counted stock of one SKU in one warehouse (not below what is reserved)."""
    with write_transaction(session):
        stock.set_on_hand(session, body.sku, body.warehouse, body.on_hand, service.now())
    return body


@router.get("/ats")
def available_to_sell(
    service: OmsDep, user: CurrentUser, channel: Annotated[str, Query(max_length=32)]
) -> dict[str, Any]:
    """The available-to-sell feed of a channel: units per SKU it may offer now."""
    feed = service.ats(channel)
    return {"channel": channel, "data": [{"sku": k, "available": v} for k, v in feed.items()]}
