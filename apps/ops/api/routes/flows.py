from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.ops.api.deps import CurrentUser, IdPath, OpsDep, SessionDep, deliver_outbox
from apps.ops.core.db import write_transaction
from apps.ops.core.errors import ForbiddenError, InstanceNotFoundError
from apps.ops.crud import get_record
from apps.ops.forms.permissions import in_scope, scope_for
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.models import FlowEvent, FlowInstance, FlowTask, FormRecord, Notification
from apps.ops.schemas import (
    CommentCreate,
    ErrorPublic,
    FlowEventPublic,
    FlowInstancePublic,
    FlowStart,
    InboxPublic,
    NotificationPublic,
    TaskAction,
    TaskPublic,
)

router = APIRouter(tags=["flows"])
ERRORS = {
    403: {"model": ErrorPublic},
    404: {"model": ErrorPublic},
    409: {"model": ErrorPublic, "description": "Already handled, or not possible now"},
    422: {"model": ErrorPublic},
}


def instance_public(session: Session, instance: FlowInstance) -> FlowInstancePublic:
    out = FlowInstancePublic.model_validate(instance)
    tasks = session.scalars(
        select(FlowTask).where(FlowTask.instance_id == instance.id).order_by(FlowTask.id)
    )
    events = session.scalars(
        select(FlowEvent).where(FlowEvent.instance_id == instance.id).order_by(FlowEvent.id)
    )
    out.tasks = [TaskPublic.model_validate(t) for t in tasks]
    out.trail = [FlowEventPublic.model_validate(e) for e in events]
    return out


@router.get("/flows")
def list_flows(ops: OpsDep) -> dict[str, list[dict[str, object]]]:
    """The flow definitions (configuration)."""
    return {
        "data": [spec.model_dump(mode="json", exclude_none=True) for spec in ops.flows.values()]
    }


@router.post("/flows/{flow}/start", status_code=201, responses=ERRORS)
def start_flow(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ops: OpsDep,
    flow: str,
    body: FlowStart,
    background: BackgroundTasks,
) -> FlowInstancePublic:
    """Start ``flow`` on one of the user's records (e.g. after a withdrawal)."""
    spec = ops.engine.spec(flow)
    with write_transaction(session):
        record = get_record(session=session, form_name=spec.form, record_id=body.record_id)
        if record.created_by != user.username and "admin" not in (user.roles or []):
            raise ForbiddenError()
        instance = ops.engine.start(session, flow, record, user.username)
    background.add_task(deliver_outbox, request)
    return instance_public(session, instance)


def _can_see(session: Session, user: CurrentUser, instance: FlowInstance) -> bool:
    if instance.started_by == user.username or "admin" in (user.roles or []):
        return True
    involved = session.scalar(
        select(func.count())
        .select_from(FlowTask)
        .where(FlowTask.instance_id == instance.id, FlowTask.assignee == user.username)
    )
    if involved:
        return True
    record = session.get(FormRecord, instance.record_id)
    if record is None:
        return False
    try:
        scope = scope_for(spec_of(get_definition(session, record.form_name)), user, "read")
    except ForbiddenError:
        return False
    return in_scope(session, user, scope, record)


@router.get("/flow-instances/{instance_id}", responses=ERRORS)
def read_instance(
    session: SessionDep, user: CurrentUser, instance_id: IdPath
) -> FlowInstancePublic:
    """An instance with its tasks and complete trail."""
    instance = session.get(FlowInstance, instance_id)
    if instance is None or not _can_see(session, user, instance):
        raise InstanceNotFoundError(instance_id=instance_id)
    return instance_public(session, instance)


@router.get("/flow-instances", responses=ERRORS)
def instances_of_record(
    session: SessionDep, user: CurrentUser, record_id: Annotated[int, Query(ge=1, le=2**53)]
) -> list[FlowInstancePublic]:
    rows = session.scalars(
        select(FlowInstance).where(FlowInstance.record_id == record_id).order_by(FlowInstance.id)
    )
    return [instance_public(session, i) for i in rows if _can_see(session, user, i)]


@router.post("/tasks/{task_id}/actions", responses=ERRORS)
def act_on_task(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ops: OpsDep,
    task_id: IdPath,
    body: TaskAction,
    background: BackgroundTasks,
) -> FlowInstancePublic:
    """Approve, reject, return to an earlier step, transfer, or comment on one's task."""
    with write_transaction(session):
        instance = ops.engine.act(
            session,
            task_id,
            user.username,
            body.action,
            comment=body.comment,
            to_node=body.to_node,
            to_user=body.to_user,
        )
    background.add_task(deliver_outbox, request)
    return instance_public(session, instance)


@router.post("/flow-instances/{instance_id}/withdraw", responses=ERRORS)
def withdraw(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ops: OpsDep,
    instance_id: IdPath,
    background: BackgroundTasks,
) -> FlowInstancePublic:
    """The submitter takes a running request back."""
    with write_transaction(session):
        instance = ops.engine.withdraw(session, instance_id, user.username)
    background.add_task(deliver_outbox, request)
    return instance_public(session, instance)


@router.post("/flow-instances/{instance_id}/comments", responses=ERRORS)
def comment(
    session: SessionDep, user: CurrentUser, ops: OpsDep, instance_id: IdPath, body: CommentCreate
) -> FlowInstancePublic:
    instance = session.get(FlowInstance, instance_id)
    if instance is None or not _can_see(session, user, instance):
        raise InstanceNotFoundError(instance_id=instance_id)
    with write_transaction(session):
        instance = ops.engine.comment(session, instance_id, user.username, body.comment)
    return instance_public(session, instance)


@router.get("/inbox")
def inbox(session: SessionDep, user: CurrentUser) -> InboxPublic:
    """The user's open to-dos, oldest first."""
    rows = session.scalars(
        select(FlowTask)
        .where(FlowTask.assignee == user.username, FlowTask.status == "pending")
        .order_by(FlowTask.id)
    ).all()
    return InboxPublic(data=[TaskPublic.model_validate(t) for t in rows], count=len(rows))


@router.get("/notifications")
def notifications(
    session: SessionDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[NotificationPublic]:
    rows = session.scalars(
        select(Notification)
        .where(Notification.username == user.username)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [NotificationPublic.model_validate(n) for n in rows]
