"""A rule fires once per cause, also when two workers fire it for the same cause at the same
moment, on SQLite and on PostgreSQL (``INSERT … ON CONFLICT DO NOTHING`` on the firing)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from apps.ops.core.db import write_transaction
from apps.ops.models import OutboxItem, RuleFiring
from apps.ops.rules.engine import RuleEngine
from apps.ops.rules.spec import RuleSpec

RULE = RuleSpec.model_validate(
    {
        "name": "big_purchase_notice",
        "trigger": {"event": "record_created", "form": "purchase_request"},
        "condition": "amount >= 1000",
        "actions": [{"notify": {"channel": "in_app", "to": ["admin"], "title": "big"}}],
    }
)


def test_concurrent_firings_for_one_cause_act_once(ops_app, clock):
    app = ops_app.app
    engine = RuleEngine({RULE.name: RULE}, clock.now)
    barrier = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def fire() -> None:
        try:
            with app.state.sessionmaker() as session:
                barrier.wait(timeout=30)
                with write_transaction(session):
                    results.append(
                        engine.fire(session, RULE, "record_created:4711", {"amount": 5000})
                    )
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 2 and results.count(None) == 1  # one firing id, one "fired already"
    with app.state.sessionmaker() as session:
        firings = session.scalars(select(RuleFiring).where(RuleFiring.rule_name == RULE.name))
        [firing] = firings.all()
        assert (firing.outcome, firing.cause_key) == ("queued", "record_created:4711")
        queued = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.firing_id == firing.id)
        )
    assert queued == 1  # one action queued, not two


def test_a_skipped_firing_is_logged_and_queues_nothing(ops_app, clock):
    app = ops_app.app
    engine = RuleEngine({RULE.name: RULE}, clock.now)
    with app.state.sessionmaker() as session, write_transaction(session):
        first = engine.fire(session, RULE, "record_created:1", {"amount": 10})
        again = engine.fire(session, RULE, "record_created:1", {"amount": 5000})
    assert first is not None and again is None
    with app.state.sessionmaker() as session:
        firing = session.get(RuleFiring, first)
        assert firing is not None and firing.outcome == "skipped"
        assert firing.inputs == {"amount": 10}
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0
