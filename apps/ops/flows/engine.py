"""The flow engine: start instances, act on tasks, run timeouts. One engine, every flow.

All functions run inside the caller's write transaction (``write_transaction``) and take
the instance row lock first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers). A task is decided by a conditional
``UPDATE … WHERE status = 'pending'``: of two concurrent approvals exactly one changes the
row, the other gets :class:`TaskNotPendingError` (409).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from apps.ops import audit
from apps.ops.core.db import attach, core
from apps.ops.core.errors import (
    FlowNotFoundError,
    FlowStateError,
    ForbiddenError,
    InstanceNotFoundError,
    NoAssigneeError,
    TaskNotFoundError,
    TaskNotPendingError,
)
from apps.ops.core.expressions import ExpressionError, evaluate
from apps.ops.flows.assignees import resolve
from apps.ops.flows.spec import APPROVAL_TYPES, END, FlowSpec, Node
from apps.ops.forms.spec import FormSpec
from apps.ops.forms.validation import expression_names
from apps.ops.models import FlowEvent, FlowInstance, FlowTask, FormRecord, Notification, User

SYSTEM = "system"
SPEC_CACHE_SIZE = 256
Action = Literal["approve", "reject", "return", "transfer", "comment"]
FinishedHook = Callable[[Session, FlowInstance, FormRecord], None]


class _SpecCache:
    """Parsed flow snapshots by their canonical JSON (a snapshot never changes)."""

    def __init__(self, size: int = SPEC_CACHE_SIZE) -> None:
        self.size = size
        self._specs: OrderedDict[str, FlowSpec] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition: dict[str, Any]) -> FlowSpec:
        key = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
        with self._lock:
            spec = self._specs.get(key)
            if spec is not None:
                self._specs.move_to_end(key)
                return spec
        spec = FlowSpec.model_validate(definition)
        with self._lock:
            self._specs[key] = spec
            while len(self._specs) > self.size:
                self._specs.popitem(last=False)
        return spec


_SPECS = _SpecCache()

# Prepared Core statements for the rows every start and action writes (an ORM flush per
# object cost most of a submit; see docs/decisions/0012).
_INSERT_INSTANCE = insert(FlowInstance.__table__).returning(FlowInstance.__table__.c.id)
_INSERT_EVENT = insert(FlowEvent.__table__)
_INSERT_TASK = insert(FlowTask.__table__).returning(FlowTask.__table__.c.id)
_INSERT_NOTICE = insert(Notification.__table__)
_SET_NODE = (
    update(FlowInstance.__table__)
    .where(FlowInstance.__table__.c.id == bindparam("instance_id"))
    .values(current_node=bindparam("node"))
)
_SET_STATUS = (
    update(FormRecord.__table__)
    .where(FormRecord.__table__.c.id == bindparam("record_id"))
    .values(status=bindparam("new_status"), updated_at=bindparam("moment"))
)
_ROUNDS = select(FlowTask.__table__.c.round).where(
    FlowTask.__table__.c.instance_id == bindparam("instance_id"),
    FlowTask.__table__.c.node_id == bindparam("node"),
)


def instance_spec(instance: FlowInstance) -> FlowSpec:
    """The flow as the instance was started (its snapshot), parsed once per process."""
    return _SPECS.get(instance.definition)


def snapshot(spec: FlowSpec) -> dict[str, Any]:
    """What an instance stores of its flow (a fresh dict per instance)."""
    return spec.model_dump(mode="json", exclude_none=True)


@dataclass
class FlowEngine:
    flows: dict[str, FlowSpec]
    now: Callable[[], datetime]
    on_finished: list[FinishedHook] = field(default_factory=list)
    form_spec: Callable[[Session, FormRecord], FormSpec] | None = None

    # -- helpers --------------------------------------------------------------------------

    def spec(self, name: str) -> FlowSpec:
        if name not in self.flows:
            raise FlowNotFoundError(name=name)
        return self.flows[name]

    def _names(self, session: Session, record: FormRecord) -> dict[str, Any]:
        if self.form_spec is None:
            return dict(record.data)
        return expression_names(record.data, list(self.form_spec(session, record).fields))

    def _event(
        self,
        session: Session,
        instance: FlowInstance,
        actor: str,
        action: str,
        *,
        node_id: str | None = None,
        task_id: int | None = None,
        comment: str | None = None,
        **detail: Any,
    ) -> None:
        core(session).execute(
            _INSERT_EVENT,
            {
                "instance_id": instance.id,
                "task_id": task_id,
                "node_id": node_id,
                "actor": actor,
                "action": action,
                "comment": comment,
                "detail": detail,
                "at": self.now(),
            },
        )

    def _notify(self, session: Session, username: str, title: str, body: str, link: str) -> None:
        core(session).execute(
            _INSERT_NOTICE,
            {
                "username": username,
                "title": title,
                "body": body,
                "link": link,
                "created_at": self.now(),
                "read_at": None,
            },
        )

    @staticmethod
    def _lock_instance(session: Session, instance_id: int) -> FlowInstance:
        instance = session.scalars(
            select(FlowInstance)
            .where(FlowInstance.id == instance_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if instance is None:
            raise InstanceNotFoundError(instance_id=instance_id)
        return instance

    # -- start and move -------------------------------------------------------------------

    def start(
        self,
        session: Session,
        flow_name: str,
        record: FormRecord,
        actor: str,
        *,
        new_record: bool = False,
    ) -> FlowInstance:
        """Start ``flow_name`` on ``record``. ``new_record``: the record was inserted in
        this transaction, so it cannot be in a running flow yet (no look-up)."""
        spec = self.spec(flow_name)
        if spec.form != record.form_name:
            raise FlowStateError(reason=f"flow {flow_name} is for form {spec.form}")
        conn = core(session)
        if not new_record:
            running = session.scalars(
                select(FlowInstance.id).where(
                    FlowInstance.record_id == record.id, FlowInstance.status == "running"
                )
            ).first()
            if running is not None:
                raise FlowStateError(reason=f"record {record.id} is already in flow {running}")
        values: dict[str, Any] = {
            "flow_name": flow_name,
            "definition": snapshot(spec),
            "record_id": record.id,
            "status": "running",
            "current_node": None,
            "started_by": actor,
            "started_at": self.now(),
            "finished_at": None,
        }
        instance_id = conn.execute(_INSERT_INSTANCE, values).scalar_one()
        instance = attach(session, FlowInstance(id=instance_id, **values))
        self._event(session, instance, actor, "start")
        audit.append(
            session,
            actor=actor,
            action="flow.start",
            entity="flow_instance",
            entity_id=instance.id,
            after={"flow": flow_name, "record_id": record.id},
        )
        self._set_record_status(session, record, "in_approval", actor)
        self._enter(session, instance, record, spec.start, actor, spec=spec, fresh=True)
        return instance

    def _set_record_status(
        self, session: Session, record: FormRecord, status: str, actor: str
    ) -> None:
        if record.status == status:
            return
        before = record.status
        moment = self.now()
        # Core UPDATE, and the object told it is the stored value (no second UPDATE by
        # the ORM at commit).
        core(session).execute(
            _SET_STATUS, {"record_id": record.id, "new_status": status, "moment": moment}
        )
        set_committed_value(record, "status", status)
        set_committed_value(record, "updated_at", moment)
        audit.append(
            session,
            actor=actor,
            action="record.status",
            entity="form_record",
            entity_id=record.id,
            before={"status": before},
            after={"status": status},
        )

    def _enter(
        self,
        session: Session,
        instance: FlowInstance,
        record: FormRecord,
        node_id: str,
        actor: str,
        *,
        spec: FlowSpec | None = None,
        fresh: bool = False,
    ) -> None:
        """Walk from ``node_id`` to the next node that waits for people (or the end).
        ``fresh``: the instance was created in this call, so no node has had a round."""
        spec = spec or instance_spec(instance)
        for _ in range(len(spec.nodes) + 1):  # a graph walk cannot loop forever
            if node_id == END:
                self._finish(session, instance, record, "approved", actor)
                return
            node = spec.node(node_id)
            if node.type == "condition":
                node_id = self._branch(session, node, record)
                self._event(session, instance, SYSTEM, "branch", node_id=node.id, to=node_id)
                continue
            people = resolve(session, node.assignees, submitter=record.created_by, data=record.data)
            if node.type == "cc":
                for username in people:
                    self._add_task(session, instance, record, node, username, kind="cc")
                self._event(session, instance, SYSTEM, "cc", node_id=node.id, to=people)
                node_id = node.next
                continue
            if not people:
                raise NoAssigneeError(node=node.id, flow=spec.name)
            core(session).execute(_SET_NODE, {"instance_id": instance.id, "node": node.id})
            set_committed_value(instance, "current_node", node.id)
            round_ = 1 if fresh else self._next_round(session, instance.id, node.id)
            for username in people:
                self._add_task(session, instance, record, node, username, round_=round_)
            self._event(session, instance, SYSTEM, "enter", node_id=node.id, to=people)
            return
        raise FlowStateError(reason=f"flow {spec.name} loops through condition nodes")

    def _branch(self, session: Session, node: Node, record: FormRecord) -> str:
        names = self._names(session, record)
        for branch in node.branches:
            try:
                if evaluate(branch.when, names, now=self.now()):
                    return branch.to
            except ExpressionError:
                continue
        return node.default or END

    @staticmethod
    def _next_round(session: Session, instance_id: int, node_id: str) -> int:
        rounds = core(session).execute(_ROUNDS, {"instance_id": instance_id, "node": node_id})
        return max(rounds.scalars(), default=0) + 1

    def _add_task(
        self,
        session: Session,
        instance: FlowInstance,
        record: FormRecord,
        node: Node,
        username: str,
        *,
        kind: str = "approve",
        round_: int = 1,
        due_at: datetime | None = None,
        timed: bool = True,
    ) -> int:
        """Insert a task (and its notice); returns its id. ``timed=False``: no due time."""
        now = self.now()
        if timed and kind == "approve" and due_at is None and node.timeout is not None:
            due_at = now + timedelta(hours=node.timeout.after_hours)
        task_id: int = (
            core(session)
            .execute(
                _INSERT_TASK,
                {
                    "instance_id": instance.id,
                    "node_id": node.id,
                    "round": round_,
                    "kind": kind,
                    "assignee": username,
                    "status": "pending" if kind == "approve" else "cc",
                    "created_at": now,
                    "due_at": due_at if timed else None,
                    "timeout_done": False,
                    "acted_at": None,
                    "acted_by": None,
                    "comment": None,
                },
            )
            .scalar_one()
        )
        title = f"{instance.flow_name} #{record.id}: {node.id}"
        verb = "待审批 To approve" if kind == "approve" else "抄送 For your information"
        self._notify(
            session, username, f"{verb}: {title}", "", f"/api/v1/flow-instances/{instance.id}"
        )
        return task_id

    def _finish(
        self, session: Session, instance: FlowInstance, record: FormRecord, status: str, actor: str
    ) -> None:
        self._cancel_pending(session, instance.id)
        instance.status = status
        instance.current_node = None
        instance.finished_at = self.now()
        self._event(session, instance, actor, "finish", outcome=status)
        audit.append(
            session,
            actor=actor,
            action="flow.finish",
            entity="flow_instance",
            entity_id=instance.id,
            before={"status": "running"},
            after={"status": status},
        )
        self._set_record_status(session, record, status, actor)
        self._notify(
            session,
            instance.started_by,
            f"{instance.flow_name} #{record.id}: {status}",
            "",
            f"/api/v1/flow-instances/{instance.id}",
        )
        for hook in self.on_finished:
            hook(session, instance, record)

    def _cancel_pending(
        self, session: Session, instance_id: int, node_id: str | None = None
    ) -> None:
        query = update(FlowTask).where(
            FlowTask.instance_id == instance_id, FlowTask.status == "pending"
        )
        if node_id is not None:
            query = query.where(FlowTask.node_id == node_id)
        session.execute(query.values(status="cancelled", acted_at=self.now()))

    # -- actions --------------------------------------------------------------------------

    def act(
        self,
        session: Session,
        task_id: int,
        actor: User | str,
        action: Action,
        *,
        comment: str | None = None,
        to_node: str | None = None,
        to_user: str | None = None,
    ) -> FlowInstance:
        username = actor if isinstance(actor, str) else actor.username
        task = session.get(FlowTask, task_id)
        if task is None:
            raise TaskNotFoundError(task_id=task_id)
        instance = self._lock_instance(session, task.instance_id)
        if action == "comment":
            self._event(
                session,
                instance,
                username,
                "comment",
                node_id=task.node_id,
                task_id=task.id,
                comment=comment,
            )
            return instance
        new_status = {
            "approve": "approved",
            "reject": "rejected",
            "return": "returned",
            "transfer": "transferred",
        }[action]
        if action == "return":
            self._check_return(session, instance, to_node)
        if action == "transfer" and not (to_user and resolve_user(session, to_user)):
            raise FlowStateError(reason=f"cannot transfer to {to_user!r}: no such active user")
        changed = session.execute(
            update(FlowTask)
            .where(
                FlowTask.id == task_id,
                FlowTask.status == "pending",
                FlowTask.assignee == username,
                FlowTask.kind == "approve",
            )
            .values(status=new_status, acted_at=self.now(), acted_by=username, comment=comment)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(task)
        if changed != 1:
            if task.assignee != username and task.status == "pending":
                raise ForbiddenError()
            raise TaskNotPendingError(task_id=task_id, status=task.status)
        audit.append(
            session,
            actor=username,
            action=f"task.{action}",
            entity="flow_task",
            entity_id=task.id,
            before={"status": "pending"},
            after={
                "status": new_status,
                "comment": comment,
                "to_node": to_node,
                "to_user": to_user,
            },
        )
        self._event(
            session,
            instance,
            username,
            action,
            node_id=task.node_id,
            task_id=task.id,
            comment=comment,
            to_node=to_node,
            to_user=to_user,
        )
        record = session.get(FormRecord, instance.record_id)
        assert record is not None
        self._after_decision(session, instance, record, task, action, username, to_node, to_user)
        return instance

    def _after_decision(
        self,
        session: Session,
        instance: FlowInstance,
        record: FormRecord,
        task: FlowTask,
        action: str,
        actor: str,
        to_node: str | None,
        to_user: str | None,
    ) -> None:
        spec = instance_spec(instance)
        node = spec.node(task.node_id)
        if action == "reject":
            self._finish(session, instance, record, "rejected", actor)
        elif action == "return":
            self._cancel_pending(session, instance.id)
            self._enter(session, instance, record, to_node or spec.start, actor)
        elif action == "transfer":
            assert to_user is not None
            self._add_task(
                session, instance, record, node, to_user, round_=task.round, due_at=task.due_at
            )
        elif action == "approve":
            if node.type == "countersign":
                pending = session.scalars(
                    select(FlowTask.id).where(
                        FlowTask.instance_id == instance.id,
                        FlowTask.node_id == node.id,
                        FlowTask.round == task.round,
                        FlowTask.status == "pending",
                    )
                ).first()
                if pending is not None:
                    return  # others still have to approve
            self._cancel_pending(session, instance.id, node.id)
            self._enter(session, instance, record, node.next, actor)

    def _check_return(self, session: Session, instance: FlowInstance, to_node: str | None) -> None:
        spec = instance_spec(instance)
        visited = set(
            session.scalars(
                select(FlowEvent.node_id).where(
                    FlowEvent.instance_id == instance.id, FlowEvent.action == "enter"
                )
            )
        )
        valid = {n.id for n in spec.nodes if n.type in APPROVAL_TYPES and n.id in visited}
        if to_node not in valid:
            raise FlowStateError(
                reason=f"can only return to an earlier step: {', '.join(sorted(valid))}"
            )

    def withdraw(self, session: Session, instance_id: int, actor: str) -> FlowInstance:
        instance = self._lock_instance(session, instance_id)
        if instance.started_by != actor:
            raise ForbiddenError()
        if instance.status != "running":
            raise FlowStateError(reason=f"instance {instance_id} is {instance.status}")
        record = session.get(FormRecord, instance.record_id)
        assert record is not None
        self._event(session, instance, actor, "withdraw")
        self._finish(session, instance, record, "withdrawn", actor)
        return instance

    def comment(self, session: Session, instance_id: int, actor: str, text: str) -> FlowInstance:
        instance = self._lock_instance(session, instance_id)
        self._event(session, instance, actor, "comment", comment=text)
        return instance

    # -- timeouts -------------------------------------------------------------------------

    def run_timeouts(self, session: Session, limit: int = 100) -> int:
        """Handle pending tasks whose due time has passed (each once); returns how many."""
        now = self.now()
        due = session.scalars(
            select(FlowTask.id)
            .where(
                FlowTask.status == "pending",
                FlowTask.timeout_done.is_(False),
                FlowTask.due_at <= now,
            )
            .order_by(FlowTask.due_at)
            .limit(limit)
        ).all()
        handled = 0
        for task_id in due:
            claimed = session.execute(
                update(FlowTask)
                .where(
                    FlowTask.id == task_id,
                    FlowTask.timeout_done.is_(False),
                    FlowTask.status == "pending",
                )
                .values(timeout_done=True)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                continue
            task = session.get(FlowTask, task_id, populate_existing=True)
            assert task is not None
            self._timeout(session, task)
            handled += 1
        return handled

    def _timeout(self, session: Session, task: FlowTask) -> None:
        instance = self._lock_instance(session, task.instance_id)
        spec = instance_spec(instance)
        timeout = spec.node(task.node_id).timeout
        record = session.get(FormRecord, instance.record_id)
        assert timeout is not None and record is not None
        self._event(
            session,
            instance,
            SYSTEM,
            f"timeout.{timeout.action}",
            node_id=task.node_id,
            task_id=task.id,
        )
        if timeout.action == "remind":
            self._notify(
                session,
                task.assignee,
                f"催办 Reminder: {instance.flow_name} #{record.id}: {task.node_id}",
                "",
                f"/api/v1/flow-instances/{instance.id}",
            )
        elif timeout.action == "escalate":
            assert timeout.escalate_to is not None
            people = resolve(
                session, [timeout.escalate_to], submitter=record.created_by, data=record.data
            )
            if not people:
                return
            task.status = "escalated"
            task.acted_at = self.now()
            task.acted_by = SYSTEM
            node = spec.node(task.node_id)
            for username in people:
                self._add_task(
                    session, instance, record, node, username, round_=task.round, timed=False
                )
            audit.append(
                session,
                actor=SYSTEM,
                action="task.escalate",
                entity="flow_task",
                entity_id=task.id,
                before={"status": "pending"},
                after={"status": "escalated", "to": people},
            )
        else:
            action: Action = "approve" if timeout.action == "auto_approve" else "reject"
            self.act(session, task.id, task.assignee, action, comment="auto (timeout)")


def resolve_user(session: Session, username: str) -> bool:
    from apps.ops.org.tree import user_by_name

    user = user_by_name(session, username)
    return user is not None and user.is_active
