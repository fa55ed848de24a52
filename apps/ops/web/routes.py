"""Server-rendered web UI: log in, home (to-dos, recent records, notices), static files.

The pages of forms and records are in :mod:`apps.ops.web.form_pages`, approvals in
:mod:`apps.ops.web.task_pages`, Excel import in :mod:`apps.ops.web.import_pages`; this
module's ``router`` includes them all (``apps.ops.main`` mounts it).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from apps.ops.api.deps import LangDep, SessionDep, SettingsDep
from apps.ops.core.i18n import localize, status_label
from apps.ops.core.security import SESSION, create_token
from apps.ops.crud import authenticate
from apps.ops.forms.store import list_latest
from apps.ops.models import FlowInstance, FlowTask, FormRecord, Notification
from apps.ops.web import form_pages, import_pages, task_pages
from apps.ops.web.common import CsrfChecked, PageNotFound, local_time
from apps.ops.web.deps import SESSION_COOKIE, CsrfToken, WebUser, get_web_user, safe_next
from apps.ops.web.lookups import grouped_forms
from apps.ops.web.templating import render, ui_text, url_with_lang

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}

router = APIRouter(include_in_schema=False)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The few static files of the UI (no build step); long-cached."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        raise PageNotFound()
    return FileResponse(
        path,
        media_type=STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600"},
    )


# login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_page(
    request: Request, user: Annotated[Any, Depends(get_web_user)], next: str = "/"
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = authenticate(session=session, username=username.strip(), password=password)
    if user is None:
        context = {"next": safe_next(next), "username": username, "error": "error.bad_credentials"}
        return render(request, "login.html", context, status_code=400)
    expires = timedelta(minutes=settings.access_token_expire_minutes)
    token = create_token(
        secret_key=settings.secret_key, purpose=SESSION, subject=user.username, expires=expires
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(expires.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
        path="/",
    )
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(lang: LangDep) -> Response:
    response = RedirectResponse(url_with_lang("/login", lang), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# home ----------------------------------------------------------------------------------------


def form_titles(session: SessionDep, lang: str) -> list[dict[str, Any]]:
    return [
        {"name": row.name, "version": row.version, "title": localize(row.definition["title"], lang)}
        for row in list_latest(session)
    ]


@router.get("/")
def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    csrf: CsrfToken,
    lang: LangDep,
) -> Response:
    forms = form_titles(session, lang)
    titles = {f["name"]: f["title"] for f in forms}
    tasks = session.execute(
        select(FlowTask, FlowInstance, FormRecord)
        .join(FlowInstance, FlowInstance.id == FlowTask.instance_id)
        .join(FormRecord, FormRecord.id == FlowInstance.record_id)
        .where(FlowTask.assignee == user.username, FlowTask.status == "pending")
        .order_by(FlowTask.id)
    ).all()
    inbox = [
        {
            "task_id": task.id,
            "title": f"{titles.get(record.form_name, record.form_name)} #{record.id}",
            "step": task.node_id,
            "from": record.created_by,
            "amount": record.data.get("amount"),
            "at": local_time(task.created_at, settings.timezone),
            "url": url_with_lang(f"/forms/{record.form_name}/records/{record.id}", lang)
            + f"#task-{task.id}",
        }
        for task, _instance, record in tasks
    ]
    recent_rows = session.scalars(
        select(FormRecord)
        .where(FormRecord.created_by == user.username)
        .order_by(FormRecord.id.desc())
        .limit(10)
    )
    recent = [
        {
            "title": f"{titles.get(r.form_name, r.form_name)} #{r.id}",
            "status": status_label(r.status, lang),
            "url": url_with_lang(f"/forms/{r.form_name}/records/{r.id}", lang),
            "at": local_time(r.updated_at, settings.timezone),
        }
        for r in recent_rows
    ]
    notices = session.scalars(
        select(Notification)
        .where(Notification.username == user.username)
        .order_by(Notification.id.desc())
        .limit(10)
    ).all()
    context = {
        "inbox": inbox,
        "recent": recent,
        "notices": [
            {"title": n.title, "at": local_time(n.created_at, settings.timezone)} for n in notices
        ],
        "groups": grouped_forms(forms, lang, ui_text("ui.other_module", lang)),
        "user": user,
        "csrf_token": csrf,
    }
    return render(request, "home.html", context, lang=lang)


router.include_router(form_pages.router)
router.include_router(task_pages.router)
router.include_router(import_pages.router)
