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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from apps.ops.core.clock import Clock
from apps.ops.core.config import OpsSettings, as_ops_settings
from apps.ops.core.db import make_engine, make_sessionmaker, write_transaction
from apps.ops.models import RuleSchedule
from apps.ops.org.seed import SYSTEM_DEPARTMENT, ensure_system_user
from apps.ops.rules.engine import RuleEngine
from apps.ops.rules.outbox import deliver_due
from warehouse.settings import Settings

log = logging.getLogger(__name__)
DELIVER_BATCH = 500


@dataclass
class LakeRulesResult:
    rules: list[str] = field(default_factory=list)
    firings: int = 0
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # rule -> why it could not run


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
        # a batch command: deliver everything that is due (a first run queues hundreds of
        # notices), so the records it creates are there for the ingest that follows
        while True:
            report = deliver_due(make_session, ctx, smtp_config(ops_settings), limit=DELIVER_BATCH)
            result.delivered += report.done
            result.failed += report.failed + report.retried
            if len(report.done) + len(report.failed) + len(report.retried) < DELIVER_BATCH:
                return result
    finally:
        engine.dispose()
