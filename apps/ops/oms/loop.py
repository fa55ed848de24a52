"""The write-back loop, on demand: evaluate the lake-condition rules now.

``run_lake_rules(settings)`` is what an orchestrator calls after the marts are rebuilt
(the scheduler of the app also polls these rules on their own interval; both use the rule
engine's once-per-cause firing log, so running both never doubles an action):

1. migrate the app store and load the definitions (idempotent, like app startup);
2. make sure the system actor of rule-created records exists (an inactive, login-less
   user in the configured department, so flows find its manager);
3. mark every enabled ``lake`` rule due and poll them: each reads the marts read-only
   (``Lake.from_settings(settings).reader()``) and fires once per cause;
4. deliver the queued actions (records created and routed for approval, notices).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from apps.ops.core.clock import Clock
from apps.ops.core.config import OpsSettings, as_ops_settings
from apps.ops.core.db import make_engine, make_sessionmaker, write_transaction
from apps.ops.core.security import hash_password
from apps.ops.models import RuleSchedule, User
from apps.ops.org.tree import department_by_name, user_by_name
from apps.ops.rules.engine import RuleEngine
from apps.ops.rules.outbox import SYSTEM, deliver_due
from warehouse.settings import Settings

log = logging.getLogger(__name__)

# Rule-created purchase requests are "submitted" by the system actor of this department:
# its head (the purchasing manager) approves first.
SYSTEM_DEPARTMENT = "采购部 Purchasing"


@dataclass
class LakeRulesResult:
    rules: list[str] = field(default_factory=list)
    firings: int = 0
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # rule -> why it could not run


def ensure_system_user(session: Session, department: str = SYSTEM_DEPARTMENT) -> User:
    """The actor of rule actions (``rules``): inactive (cannot log in), in ``department``."""
    user = user_by_name(session, SYSTEM)
    dept = department_by_name(session, department)
    if user is None:
        user = User(
            username=SYSTEM,
            display_name="规则引擎 Rules",
            password_hash=hash_password(secrets.token_urlsafe(32)),
            roles=[],
            is_active=False,
            department_id=dept.id if dept else None,
        )
        session.add(user)
    elif user.department_id is None and dept is not None:
        user.department_id = dept.id
    session.flush()
    return user


def run_lake_rules(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    lake_reader: Callable[[], Any] | None = None,
    department: str = SYSTEM_DEPARTMENT,
) -> LakeRulesResult:
    """Evaluate every enabled lake-condition rule now and deliver what they queue.

    ``lake_reader`` returns a read-only DuckDB connection (default: the settings' lake).
    Safe to call repeatedly and concurrently with the app: a cause fires once.
    """
    from apps.ops.main import bootstrap, build_context, smtp_config

    ops_settings: OpsSettings = as_ops_settings(settings)
    engine = make_engine(ops_settings.app_db)
    try:
        bootstrap(engine, ops_settings)
        ctx = build_context(ops_settings, clock)
        assert ctx.rules is not None
        lake_rules = {
            name: rule
            for name, rule in ctx.rules.rules.items()
            if rule.enabled and rule.trigger.event == "lake"
        }
        make_session = make_sessionmaker(engine)
        result = LakeRulesResult(rules=sorted(lake_rules))
        with make_session() as session, write_transaction(session):
            ensure_system_user(session, department)
        reader = lake_reader or ctx.rules.lake_reader
        for name, rule in sorted(lake_rules.items()):
            # one rule at a time: a broken query (a mart not built yet) stops only its rule
            one = RuleEngine({name: rule}, ctx.clock.now, reader)
            one.typed_values = ctx.rules.typed_values
            try:
                with make_session() as session, write_transaction(session):
                    session.execute(
                        update(RuleSchedule)
                        .where(RuleSchedule.rule_name == name)
                        .values(next_due_at=ctx.clock.now())
                    )
                    result.firings += one.poll(session)
            except Exception as exc:  # noqa: BLE001 - reported, the other rules go on
                log.warning("lake rule %s failed: %s", name, exc)
                result.errors[name] = f"{type(exc).__name__}: {exc}"
        report = deliver_due(make_session, ctx, smtp_config(ops_settings), limit=500)
        result.delivered, result.failed = report.done, report.failed + report.retried
        return result
    finally:
        engine.dispose()
