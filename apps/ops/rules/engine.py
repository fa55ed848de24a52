"""The rule engine: match events and polls to rules, evaluate conditions, queue actions.

A firing is the pair (rule, cause): ``record_created:17``, ``flow_finished:4``,
``stale:9:<updated_at>``, ``lake:<key>:<day>``, ``schedule:<due time>``. The unique key on
``rule_firings`` makes a second firing for the same cause a no-op, so actions run once.
Actions are queued in the outbox in the same transaction as the cause and delivered
after it commits (:mod:`apps.ops.rules.outbox`); every firing is logged with its inputs
and outcome (``queued``, ``skipped``, ``condition_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.ops.core.db import core
from apps.ops.core.expressions import ExpressionError, evaluate, numeric
from apps.ops.models import FlowInstance, FormRecord, OutboxItem, RuleFiring, RuleSchedule
from apps.ops.rules.spec import RuleSpec

log = logging.getLogger(__name__)
_FIRINGS = RuleFiring.__table__
# The trigger attribute events are indexed by (the form, or the flow of flow_finished).
_TARGET = {"flow_finished": "flow"}
_INSERT_OUTBOX = insert(OutboxItem.__table__)


# A firing that does nothing if (rule, cause) exists and returns the new id otherwise. The
# same SQL on SQLite (>= 3.35) and PostgreSQL; text, because SQLAlchemy's dialect inserts
# with ON CONFLICT are compiled anew for every execution (no cache key).
_INSERT_FIRING = (
    text(
        "INSERT INTO rule_firings (rule_name, cause_key, inputs, outcome, detail, fired_at) "
        "VALUES (:rule_name, :cause_key, :inputs, :outcome, :detail, :fired_at) "
        "ON CONFLICT (rule_name, cause_key) DO NOTHING RETURNING id"
    )
    .bindparams(
        bindparam("inputs", type_=_FIRINGS.c.inputs.type),
        bindparam("fired_at", type_=_FIRINGS.c.fired_at.type),
    )
    .columns(_FIRINGS.c.id)
)


# Set on the session when a firing queued outbox items (see :func:`take_queued`).
_QUEUED_KEY = "opslake.outbox_queued"


def take_queued(session: Session) -> bool:
    """Whether this session queued rule actions since the last call (and forget it): the
    request then delivers them right after its response; otherwise there is nothing to
    deliver and the scheduler's poll is enough."""
    return bool(session.info.pop(_QUEUED_KEY, False))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record_names(record: FormRecord, typed: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **(typed if typed is not None else record.data),
        "record_id": record.id,
        "form": record.form_name,
        "status": record.status,
        "created_by": record.created_by,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }


@dataclass
class RuleEngine:
    rules: dict[str, RuleSpec]
    now: Callable[[], datetime]
    lake_reader: Callable[[], Any] | None = None  # -> a read-only DuckDB connection
    # typed field values of a record for conditions (money as Decimal, …); set by the context
    typed_values: Callable[[Session, FormRecord], dict[str, Any]] | None = None
    _index: dict[tuple[str, Any], list[RuleSpec]] = field(default_factory=dict, repr=False)
    _index_of: Any = field(default=None, repr=False)  # the rules dict the index was built of

    def names(self, session: Session, record: FormRecord) -> dict[str, Any]:
        typed = self.typed_values(session, record) if self.typed_values else None
        return record_names(record, typed)

    def _matching(self, on: str, **attrs: Any) -> list[RuleSpec]:
        """The enabled rules of trigger ``on`` whose trigger has these attributes (from an
        index by event and form/flow: most events match no rule at all)."""
        if self._index_of is not self.rules:
            index: dict[tuple[str, Any], list[RuleSpec]] = {}
            for rule in self.rules.values():
                if rule.enabled:
                    trigger = rule.trigger
                    target = getattr(trigger, _TARGET.get(trigger.event, "form"))
                    index.setdefault((trigger.event, target), []).append(rule)
            self._index, self._index_of = index, self.rules
        target = attrs.get(_TARGET.get(on, "form"))
        return [
            rule
            for rule in self._index.get((on, target), ())
            if all(getattr(rule.trigger, k) == v for k, v in attrs.items())
        ]

    # -- events (inside the caller's write transaction) ------------------------------------

    def on_record_created(self, session: Session, record: FormRecord) -> None:
        for rule in self._matching("record_created", form=record.form_name):
            self.fire(
                session, rule, f"record_created:{record.id}", self.names(session, record), record.id
            )

    def on_record_updated(
        self, session: Session, record: FormRecord, before: dict[str, Any]
    ) -> None:
        stamp = record.updated_at.isoformat()
        names = self.names(session, record)
        for rule in self._matching("record_updated", form=record.form_name):
            self.fire(session, rule, f"record_updated:{record.id}:{stamp}", names, record.id)
        for rule in self._matching("field_changed", form=record.form_name):
            name = rule.trigger.field or ""
            old, new = before.get(name), record.data.get(name)
            if old == new:
                continue
            if rule.trigger.from_ is not None and old != rule.trigger.from_:
                continue
            if rule.trigger.to is not None and new != rule.trigger.to:
                continue
            cause = f"field_changed:{record.id}:{name}:{old}->{new}:{stamp}"
            self.fire(session, rule, cause, {**names, "old": old, "new": new}, record.id)

    def on_flow_finished(
        self, session: Session, instance: FlowInstance, record: FormRecord
    ) -> None:
        for rule in self._matching("flow_finished", flow=instance.flow_name):
            if rule.trigger.outcome not in (None, instance.status):
                continue
            names = {
                **self.names(session, record),
                "outcome": instance.status,
                "instance_id": instance.id,
            }
            self.fire(session, rule, f"flow_finished:{instance.id}", names, record.id)

    # -- firing ---------------------------------------------------------------------------

    def fire(
        self,
        session: Session,
        rule: RuleSpec,
        cause: str,
        names: dict[str, Any],
        record_id: int | None = None,
    ) -> int | None:
        """Log the firing and queue its actions, once per (rule, cause); returns the
        firing's id, or None if it had fired already for this cause."""
        outcome, detail = "queued", None
        if rule.condition is not None:
            try:
                if not evaluate(rule.condition, numeric(names), now=self.now()):
                    outcome = "skipped"
            except ExpressionError as exc:
                outcome, detail = "condition_error", str(exc)
        inputs = _plain(names)
        conn = core(session)
        # One INSERT … ON CONFLICT DO NOTHING: a second firing for the same cause (also a
        # concurrent one) inserts nothing and gets no id back.
        firing_id = conn.execute(
            _INSERT_FIRING,
            {
                "rule_name": rule.name,
                "cause_key": cause[:300],
                "inputs": inputs,
                "outcome": outcome,
                "detail": detail,
                "fired_at": self.now(),
            },
        ).scalar()
        if firing_id is None:
            return None
        if outcome == "queued" and rule.actions:
            conn.execute(
                _INSERT_OUTBOX,
                [
                    {
                        "firing_id": firing_id,
                        "position": position,
                        "kind": action.kind,
                        "payload": {
                            "action": action.model_dump(
                                mode="json", exclude_none=True, by_alias=True
                            ),
                            "names": inputs,
                            "record_id": record_id,
                        },
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": self.now(),
                        "last_error": None,
                        "done_at": None,
                    }
                    for position, action in enumerate(rule.actions)
                ],
            )
            session.info[_QUEUED_KEY] = True
        return firing_id

    # -- polled triggers (scheduler) --------------------------------------------------------

    def poll(self, session: Session) -> int:
        """Run the polled rules that are due (each claimed by one worker); returns firings."""
        now = self.now()
        count = 0
        for rule in self.rules.values():
            if not (rule.enabled and rule.trigger.polled):
                continue
            every = timedelta(minutes=rule.trigger.every_minutes or 60)
            if not self._claim(session, rule.name, now, every):
                continue
            try:
                with session.begin_nested():
                    count += self._run_polled(session, rule, now)
            except Exception as exc:  # noqa: BLE001 - a broken rule (a mart not built yet)
                # stops only itself; it is due again at its next interval
                log.warning("rule %s could not run: %s", rule.name, exc)
        return count

    @staticmethod
    def _claim(session: Session, rule_name: str, now: datetime, every: timedelta) -> bool:
        row = session.get(RuleSchedule, rule_name)
        if row is None:
            try:
                with session.begin_nested():
                    session.add(RuleSchedule(rule_name=rule_name, next_due_at=now + every))
                    session.flush()
                return True
            except IntegrityError:
                return False
        if row.next_due_at > now:
            return False
        claimed = session.execute(
            update(RuleSchedule)
            .where(RuleSchedule.rule_name == rule_name, RuleSchedule.next_due_at == row.next_due_at)
            .values(next_due_at=now + every)
            .execution_options(synchronize_session=False)
        ).rowcount
        return claimed == 1

    def _run_polled(self, session: Session, rule: RuleSpec, now: datetime) -> int:
        trigger = rule.trigger
        fired = 0
        if trigger.event == "schedule":
            return int(self.fire(session, rule, f"schedule:{now.isoformat()}", {}) is not None)
        if trigger.event == "stale":
            limit = now - timedelta(days=trigger.days or 0)
            records = session.scalars(
                select(FormRecord).where(
                    FormRecord.form_name == trigger.form, FormRecord.updated_at < limit
                )
            )
            for record in records:
                cause = f"stale:{record.id}:{record.updated_at.isoformat()}"
                fired += (
                    self.fire(session, rule, cause, self.names(session, record), record.id)
                    is not None
                )
            return fired
        for row in self.lake_rows(trigger.sql or ""):
            cause = f"lake:{row.get(trigger.key or '')}:{now.date().isoformat()}"
            fired += self.fire(session, rule, cause, row) is not None
        return fired

    def lake_rows(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a configured query on a read-only lake connection (DuckDB refuses writes)."""
        if self.lake_reader is None:
            log.warning("lake rule skipped: no lake configured")
            return []
        try:
            con = self.lake_reader()
        except Exception as exc:  # noqa: BLE001 - no lake yet: the rule waits for it
            log.warning("lake rule skipped: %s", exc)
            return []
        try:
            rel = con.execute(sql)
            columns = [d[0] for d in rel.description]
            return [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]
        finally:
            con.close()
