"""A few days of real approval work for the demo company (development only).

`make up` runs this once after the app store exists, so the operations mart and its
dashboard (approval cycle times, approvals per day, rule firings) have something to show.
Everything goes through the engines, exactly as the web UI would do it: records are
validated and submitted, flows route them by the org chart, people decide their to-dos,
and the rules fire on the finished flows. A clock set days back gives realistic waits.

Idempotent: it does nothing once the app store holds any approval flow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from apps.ops.core.clock import ManualClock
from apps.ops.core.config import OpsSettings, as_ops_settings
from apps.ops.core.db import make_engine, make_sessionmaker, write_transaction
from apps.ops.models import FlowInstance, FlowTask, FormRecord
from warehouse.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """After ``wait_hours``, ``who`` decides the pending to-do (approve or reject)."""

    wait_hours: float
    who: str
    action: str = "approve"
    comment: str = ""


@dataclass(frozen=True)
class Request:
    day: int  # days before today it was submitted
    requester: str
    title: str
    item: str
    quantity: int
    unit_price: str
    steps: tuple[Step, ...]
    # submitted this many hours before the current hour instead (the open requests: their
    # to-dos must not be overdue and escalate while a newcomer looks at the demo)
    hours_ago: float | None = None


# purchase_approval: below 5000 the purchasing manager (pm_li) alone; from 5000 on, then the
# finance director (fd_chen). Two stay open, so the inboxes are not empty either.
REQUESTS = (
    Request(
        9,
        "buyer_wang",
        "服务器 Two servers for WH02",
        "Server",
        2,
        "3000.00",
        (Step(3, "pm_li", comment="同意"), Step(20, "fd_chen", comment="Budget OK.")),
    ),
    Request(
        8,
        "buyer_zhou",
        "办公用品 Office supplies",
        "Paper (box)",
        40,
        "20.00",
        (Step(1.5, "pm_li", comment="OK"),),
    ),
    Request(
        6,
        "operator",
        "叉车电池 Forklift batteries",
        "Battery 48V",
        4,
        "3000.00",
        (Step(4, "pm_li"), Step(30, "fd_chen", "reject", "超出本季度预算 Over budget")),
    ),
    Request(
        4,
        "buyer_wang",
        "包装材料 Packing material",
        "Carton 60x40",
        500,
        "2.40",
        (Step(6, "pm_li", comment="尽快 ASAP"),),
    ),
    Request(
        3,
        "operator",
        "标签打印机 Label printers",
        "Printer",
        2,
        "1800.00",
        (Step(26, "pm_li", comment="下次请附报价 Attach quotes next time"),),
    ),
    Request(
        2,
        "buyer_zhou",
        "条码枪 Barcode scanners",
        "Scanner",
        5,
        "1500.00",
        (Step(2, "pm_li"),),  # waits for the finance director
        hours_ago=5,
    ),
    Request(1, "operator", "劳保鞋 Safety shoes", "Shoes", 10, "150.00", (), hours_ago=3),
)


def seed_demo_activity(settings: Settings | None = None, *, now: datetime | None = None) -> int:
    """Submit and decide the demo requests; returns how many records it created (0 when
    the app store already has approval flows)."""
    from apps.ops.main import bootstrap, build_context, smtp_config
    from apps.ops.rules.outbox import deliver_due

    ops_settings: OpsSettings = as_ops_settings(settings)
    engine = make_engine(ops_settings.app_db)
    try:
        bootstrap(engine, ops_settings)
        make_session = make_sessionmaker(engine)
        with make_session() as session:
            if session.scalar(select(func.count()).select_from(FlowInstance)):
                return 0
        today = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        created = 0
        for request in REQUESTS:
            start = (
                today - timedelta(hours=request.hours_ago)
                if request.hours_ago is not None
                else today - timedelta(days=request.day, hours=-1)
            )
            clock = ManualClock(start)
            ctx = build_context(ops_settings, clock)
            record_id = _submit(make_session, ctx, request)
            for step in request.steps:
                clock.advance(timedelta(hours=step.wait_hours))
                _decide(make_session, ctx, record_id, step)
            deliver_due(make_session, ctx, smtp_config(ops_settings), limit=100)
            created += 1
        return created
    finally:
        engine.dispose()


def _submit(make_session, ctx, request: Request) -> int:  # noqa: ANN001 - sessionmaker, ctx
    from apps.ops.crud import insert_record

    data = {
        "title": request.title,
        "urgency": "normal",
        "items": [
            {"item": request.item, "quantity": request.quantity, "unit_price": request.unit_price}
        ],
    }
    with make_session() as session, write_transaction(session):
        record: FormRecord = insert_record(
            session=session,
            form_name="purchase_request",
            data=data,
            created_by=request.requester,
            ctx=ctx,
        )
        return record.id


def _decide(make_session, ctx, record_id: int, step: Step) -> None:  # noqa: ANN001
    with make_session() as session, write_transaction(session):
        task_id = session.scalar(
            select(FlowTask.id)
            .join(FlowInstance, FlowInstance.id == FlowTask.instance_id)
            .where(
                FlowInstance.record_id == record_id,
                FlowTask.status == "pending",
                FlowTask.kind == "approve",
                FlowTask.assignee == step.who,
            )
        )
        if task_id is None:
            raise RuntimeError(f"demo: no to-do for {step.who} on record {record_id}")
        ctx.engine.act(session, task_id, step.who, step.action, comment=step.comment or None)
