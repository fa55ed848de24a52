"""Deliver queued rule actions. Each item is claimed (a conditional UPDATE moves its next
attempt forward by a lease) so that two workers never deliver it at once. Record actions
and in-app notices are applied in the same transaction that marks the item done (exactly
once); e-mail and webhooks are sent, then marked (at least once). A failure is retried with
exponential backoff; after ``MAX_ATTEMPTS`` the item is marked ``failed`` and reported to
the admins in-app and in the log — it is never dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from apps.ops import audit
from apps.ops.core.db import write_transaction
from apps.ops.models import FormRecord, OutboxItem
from apps.ops.org.seed import SYSTEM_USER
from apps.ops.rules import channels
from apps.ops.rules.channels import SmtpConfig, render

if TYPE_CHECKING:
    from apps.ops.context import OpsContext

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)
SYSTEM = SYSTEM_USER  # rule actions act as this (inactive) user


@dataclass
class DeliveryReport:
    done: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _claim(session: Session, ctx: OpsContext, item_id: int) -> OutboxItem | None:
    now = ctx.clock.now()
    with write_transaction(session):
        item = session.get(OutboxItem, item_id, populate_existing=True)
        if item is None or item.status != "pending" or item.next_attempt_at > now:
            return None
        claimed = session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.next_attempt_at == item.next_attempt_at)
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
    return item if claimed == 1 else None


def render_value(value: Any, names: dict[str, Any]) -> Any:
    """Templates in strings, also inside lists and mappings (line items of a new record)."""
    if isinstance(value, str):
        return render(value, names)
    if isinstance(value, list):
        return [render_value(v, names) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, names) for k, v in value.items()}
    return value


def _apply(session: Session, ctx: OpsContext, smtp: SmtpConfig, item: OutboxItem) -> None:
    from apps.ops.crud import insert_record

    action: dict[str, Any] = item.payload["action"]
    names: dict[str, Any] = item.payload.get("names", {})
    record_id = item.payload.get("record_id")
    if item.kind == "notify":
        notify = action["notify"]
        title, body = render(notify.get("title", ""), names), render(notify.get("body", ""), names)
        targets = [render(t, names) for t in notify.get("to", [])]
        if notify["channel"] == "in_app":
            channels.in_app(session, targets, title, body)
        elif notify["channel"] == "email":
            channels.send_email(smtp, channels.addresses(session, targets), title, body)
        else:
            channels.post_webhook(notify["url"], title, body)
    elif item.kind == "create_record":
        spec = action["create_record"]
        data = {k: render_value(v, names) for k, v in spec.get("data", {}).items()}
        insert_record(
            session=session, form_name=spec["form"], data=data, created_by=SYSTEM, ctx=ctx
        )
    elif item.kind == "update_record":
        record = session.get(FormRecord, record_id)
        if record is None:
            raise LookupError(f"record {record_id} no longer exists")
        changes = {
            k: render(v, names) if isinstance(v, str) else v
            for k, v in action["update_record"].get("set", {}).items()
        }
        before = dict(record.data)
        record.data = {**before, **changes}
        record.updated_at = ctx.clock.now()
        audit.append(
            session,
            actor=SYSTEM,
            action="record.update",
            entity="form_record",
            entity_id=record.id,
            before=before,
            after=record.data,
        )
    elif item.kind == "start_flow":
        record = session.get(FormRecord, record_id)
        if record is None:
            raise LookupError(f"record {record_id} no longer exists")
        ctx.engine.start(session, action["start_flow"], record, SYSTEM)


def deliver_due(
    make_session: sessionmaker[Session], ctx: OpsContext, smtp: SmtpConfig, limit: int = 50
) -> DeliveryReport:
    report = DeliveryReport()
    with make_session() as session:
        due = session.scalars(
            select(OutboxItem.id)
            .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= ctx.clock.now())
            .order_by(OutboxItem.id)
            .limit(limit)
        ).all()
    for item_id in due:
        with make_session() as session:
            item = _claim(session, ctx, item_id)
            if item is None:
                continue
            try:
                with write_transaction(session):
                    item = session.get(OutboxItem, item_id, populate_existing=True)
                    assert item is not None
                    _apply(session, ctx, smtp, item)
                    item.status, item.attempts = "done", item.attempts + 1
                    item.done_at = ctx.clock.now()
                report.done.append(item_id)
            except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                _record_failure(session, ctx, item_id, exc, report)
    return report


def _record_failure(
    session: Session, ctx: OpsContext, item_id: int, exc: Exception, report: DeliveryReport
) -> None:
    with write_transaction(session):
        item = session.get(OutboxItem, item_id, populate_existing=True)
        assert item is not None
        item.attempts += 1
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if item.attempts >= MAX_ATTEMPTS:
            item.status = "failed"
            report.failed.append(item_id)
            log.error(
                "rule action %s failed for good after %d attempts: %s",
                item_id,
                item.attempts,
                item.last_error,
            )
            channels.in_app(
                session,
                ["role:admin"],
                f"规则动作失败 Rule action failed: #{item_id}",
                item.last_error,
            )
        else:
            item.next_attempt_at = ctx.clock.now() + backoff(item.attempts)
            report.retried.append(item_id)
            log.warning(
                "rule action %s failed (attempt %d), retrying: %s",
                item_id,
                item.attempts,
                item.last_error,
            )
