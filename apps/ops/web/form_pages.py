"""Pages of forms and records: the form list, fill in and submit, the record with its
approval trail (and the viewer's open task)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from apps.ops.api.deps import IdPath, LangDep, OpsDep, SessionDep, SettingsDep, deliver_outbox
from apps.ops.core.errors import FieldPermissionError, ForbiddenError, FormValidationError
from apps.ops.core.i18n import localize, status_label
from apps.ops.crud import create_record, get_record
from apps.ops.flows.spec import APPROVAL_TYPES, FlowSpec
from apps.ops.forms.permissions import check_writable, readable, scope_for
from apps.ops.forms.spec import FormSpec, UserField
from apps.ops.forms.store import get_definition, list_latest, spec_of
from apps.ops.models import FlowEvent, FlowInstance, FlowTask, User
from apps.ops.web.common import CsrfChecked, PostedForm, local_time, zone
from apps.ops.web.deps import CsrfToken, WebUser
from apps.ops.web.fields import display_rows, field_views, input_id, parse_form
from apps.ops.web.lookups import Pickers, can_read, display_names, grouped_forms
from apps.ops.web.templating import render, ui_text, url_with_lang

router = APIRouter(include_in_schema=False)


@router.get("/forms")
def forms_page(
    request: Request, session: SessionDep, user: WebUser, csrf: CsrfToken, lang: LangDep
) -> Response:
    forms = [
        {
            "name": row.name,
            "title": localize(row.definition["title"], lang),
            "description": localize(row.definition.get("description"), lang),
        }
        for row in list_latest(session)
    ]
    groups = grouped_forms(forms, lang, ui_text("ui.other_module", lang))
    return render(request, "forms.html", {"groups": groups, "user": user, "csrf_token": csrf})


def form_page(
    request: Request,
    *,
    session: SessionDep,
    spec: FormSpec,
    version: int,
    lang: str,
    user: User,
    csrf: str,
    values: dict[str, Any],
    error: FormValidationError | None = None,
) -> Response:
    messages = error.field_messages(lang) if error else {}
    context = {
        "form": {
            "name": spec.name,
            "version": version,
            "title": localize(spec.title, lang),
            "description": localize(spec.description, lang),
        },
        "fields": field_views(spec, lang, values, messages, Pickers(session, user)),
        "summary": [(input_id(name), message) for name, message in messages.items()],
        "record_error": messages.get("record"),
        "user": user,
        "csrf_token": csrf,
    }
    status = error.status_code if error else 200
    return render(request, "form_new.html", context, status_code=status, lang=lang)


@router.get("/forms/{name}/new")
def new_record_page(
    request: Request, session: SessionDep, user: WebUser, csrf: CsrfToken, lang: LangDep, name: str
) -> Response:
    row = get_definition(session, name)
    spec = spec_of(row)
    scope_for(spec, user, "create")  # 403 page when the user may not create
    return form_page(
        request,
        session=session,
        spec=spec,
        version=row.version,
        lang=lang,
        user=user,
        csrf=csrf,
        values={},
    )


@router.post("/forms/{name}/new", dependencies=[CsrfChecked])
def submit_record(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ops: OpsDep,
    user: WebUser,
    csrf: CsrfToken,
    lang: LangDep,
    name: str,
    form: PostedForm,
    background: BackgroundTasks,
) -> Response:
    row = get_definition(session, name)
    spec = spec_of(row)
    scope_for(spec, user, "create")
    values = parse_form(spec, form, zone(settings.timezone))
    try:
        check_writable(spec, user, values)
        record = create_record(
            session=session, form_name=name, data=values, created_by=user.username, ctx=ops
        )
    except (FormValidationError, FieldPermissionError) as error:
        return form_page(
            request,
            session=session,
            spec=spec,
            version=row.version,
            lang=lang,
            user=user,
            csrf=csrf,
            values=values,
            error=error,
        )
    background.add_task(deliver_outbox, request)
    url = url_with_lang(f"/forms/{name}/records/{record.id}", lang, saved=1)
    return RedirectResponse(url, status_code=303)


def trail_of(
    session: SessionDep, record_id: int, lang: str, timezone: str, user: User
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The approval trail (every event of every flow of the record) and the viewer's
    open tasks with the steps they may return to."""
    trail: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    instances = session.scalars(
        select(FlowInstance).where(FlowInstance.record_id == record_id).order_by(FlowInstance.id)
    ).all()
    for instance in instances:
        spec = FlowSpec.model_validate(instance.definition)
        titles = {n.id: localize(n.title, lang) or n.id for n in spec.nodes}
        events = session.scalars(
            select(FlowEvent).where(FlowEvent.instance_id == instance.id).order_by(FlowEvent.id)
        )
        for event in events:
            detail = event.detail or {}
            extra = detail.get("to") or detail.get("to_user") or detail.get("outcome") or ""
            if isinstance(extra, list):
                extra = ", ".join(extra)
            if event.action == "branch":
                extra = titles.get(str(extra), extra)
            if event.action == "finish":
                extra = status_label(str(extra), lang)
            trail.append(
                {
                    "at": local_time(event.at, timezone),
                    "actor": event.actor,
                    "step": titles.get(event.node_id or "", event.node_id or ""),
                    "action": ui_text(f"flow.{event.action}", lang)
                    if not event.action.startswith("timeout")
                    else event.action,
                    "detail": str(extra),
                    "comment": event.comment or "",
                }
            )
        mine = session.scalars(
            select(FlowTask).where(
                FlowTask.instance_id == instance.id,
                FlowTask.assignee == user.username,
                FlowTask.status == "pending",
                FlowTask.kind == "approve",
            )
        ).all()
        visited = {
            e.node_id
            for e in session.scalars(
                select(FlowEvent).where(
                    FlowEvent.instance_id == instance.id, FlowEvent.action == "enter"
                )
            )
        }
        returnable = [
            (n.id, titles[n.id]) for n in spec.nodes if n.type in APPROVAL_TYPES and n.id in visited
        ]
        for task in mine:
            tasks.append(
                {"id": task.id, "step": titles.get(task.node_id, task.node_id), "nodes": returnable}
            )
    return trail, tasks


@router.get("/forms/{name}/records/{record_id}")
def record_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    csrf: CsrfToken,
    lang: LangDep,
    name: str,
    record_id: IdPath,
    saved: bool = False,
    done: bool = False,
) -> Response:
    record = get_record(session=session, form_name=name, record_id=record_id)
    # Show the record with the definition version it was made with.
    spec = spec_of(get_definition(session, name, record.form_version))
    if not can_read(session, user, spec, record):
        raise ForbiddenError()
    data = readable(spec, user, record.data)
    visible = spec.model_copy(update={"fields": [f for f in spec.fields if f.name in data]})
    trail, tasks = trail_of(session, record.id, lang, settings.timezone, user)
    context = {
        "form": {"name": spec.name, "title": localize(spec.title, lang)},
        "record": record,
        "created_at": record.created_at.astimezone(zone(settings.timezone)),
        "timezone": settings.timezone,
        "rows": display_rows(visible, data, lang, display_names(session, spec, data)),
        "status": status_label(record.status, lang),
        "trail": trail,
        "tasks": tasks,
        "users": Pickers(session, user)(_USER_FIELD),
        "saved": saved,
        "done": done,
        "user": user,
        "csrf_token": csrf,
    }
    return render(request, "record.html", context, lang=lang)


# The transfer picker lists the same users as a user field does.
_USER_FIELD = UserField(name="to_user", type="user", label={"en": "User"})
