"""Approvals from the record page: approve, reject, transfer or return, with a comment."""

from __future__ import annotations

from typing import Literal, cast

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response

from apps.ops.api.deps import IdPath, LangDep, OpsDep, SessionDep, deliver_outbox
from apps.ops.core.db import write_transaction
from apps.ops.core.errors import FlowStateError, TaskNotFoundError
from apps.ops.models import FlowInstance, FlowTask, FormRecord
from apps.ops.web.common import CsrfChecked, PostedForm
from apps.ops.web.deps import WebUser
from apps.ops.web.templating import url_with_lang

router = APIRouter(include_in_schema=False)
Decision = Literal["approve", "reject", "transfer", "return"]
DECISIONS = ("approve", "reject", "transfer", "return")


def _text(form: PostedForm, key: str) -> str | None:
    value = form.get(key)
    return value.strip() or None if isinstance(value, str) else None


@router.post("/tasks/{task_id}/act", dependencies=[CsrfChecked])
def act_on_task(
    request: Request,
    session: SessionDep,
    ops: OpsDep,
    user: WebUser,
    lang: LangDep,
    task_id: IdPath,
    form: PostedForm,
    background: BackgroundTasks,
) -> Response:
    action = _text(form, "action")
    if action not in DECISIONS:
        raise FlowStateError(reason=f"unknown decision {action!r}")
    task = session.get(FlowTask, task_id)
    if task is None:
        raise TaskNotFoundError(task_id=task_id)
    with write_transaction(session):
        instance = ops.engine.act(
            session,
            task_id,
            user.username,
            cast(Decision, action),
            comment=_text(form, "comment"),
            to_node=_text(form, "to_node") if action == "return" else None,
            to_user=_text(form, "to_user") if action == "transfer" else None,
        )
    background.add_task(deliver_outbox, request)
    record = session.get(FormRecord, session.get(FlowInstance, instance.id).record_id)
    assert record is not None
    url = url_with_lang(f"/forms/{record.form_name}/records/{record.id}", lang, done=1)
    return RedirectResponse(url, status_code=303)
