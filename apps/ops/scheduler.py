"""The background scheduler: flow timeouts, polled rules, outbox delivery.

Everything it acts on is persisted (task due times, rule schedules, outbox rows), so a
restart loses nothing: the next tick of any worker picks up what is due. Each step claims
its rows with conditional UPDATEs, so several workers may tick at once. The clock comes
from the context (a ManualClock in tests, which call :func:`tick` directly).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from apps.ops.context import OpsContext
from apps.ops.core.db import write_transaction
from apps.ops.rules.channels import SmtpConfig
from apps.ops.rules.outbox import DeliveryReport, deliver_due

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    timeouts: int
    firings: int
    delivery: DeliveryReport


def tick(make_session: sessionmaker[Session], ctx: OpsContext, smtp: SmtpConfig) -> TickResult:
    with make_session() as session, write_transaction(session):
        timeouts = ctx.engine.run_timeouts(session)
    firings = 0
    if ctx.rules is not None:
        with make_session() as session, write_transaction(session):
            firings = ctx.rules.poll(session)
    return TickResult(timeouts, firings, deliver_due(make_session, ctx, smtp))


async def run_forever(
    make_session: sessionmaker[Session], ctx: OpsContext, smtp: SmtpConfig, interval: float
) -> None:
    while True:
        try:
            await asyncio.to_thread(tick, make_session, ctx, smtp)
        except Exception:  # noqa: BLE001 - keep ticking; the error is logged
            log.exception("scheduler tick failed")
        await asyncio.sleep(interval)
