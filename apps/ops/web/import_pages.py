"""Excel/CSV import page. The file goes to the import API
(``POST /api/v1/forms/{name}/import``, multipart field ``file``) in-process, on behalf of
the logged-in user; the page shows what the API answers: how many rows were imported and,
per bad row, the row number and the reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from apps.ops.api.deps import LangDep, SessionDep, SettingsDep
from apps.ops.core.i18n import localize
from apps.ops.core.security import ACCESS, create_token
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.web.common import CsrfChecked, PostedForm
from apps.ops.web.deps import CsrfToken, WebUser
from apps.ops.web.templating import render

router = APIRouter(include_in_schema=False)


def row_errors(body: Any) -> list[dict[str, Any]]:
    """Per-row problems of the import API's answer
    ``{"imported": 2, "record_ids": [...], "rejected": [{"row": 3, "errors": {field: msg}}]}``."""
    if not isinstance(body, dict):
        return []
    items = body.get("rejected") or []
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        problems = item.get("errors") or item.get("message") or item.get("detail") or ""
        if isinstance(problems, dict):
            messages = [f"{k}: {v}" for k, v in problems.items()]
        elif isinstance(problems, list):
            messages = [str(p) for p in problems]
        else:
            messages = [str(problems)]
        if item.get("ok") is True or not any(messages):
            continue
        out.append({"row": item.get("row") or item.get("line") or "", "messages": messages})
    return out


def _count(body: Any, *keys: str) -> int | None:
    if isinstance(body, dict):
        for key in keys:
            value = body.get(key)
            if isinstance(value, int):
                return value
            if isinstance(value, list):
                return len(value)
    return None


def _page(request: Request, name: str, title: str, user: Any, csrf: str, **extra: Any) -> Response:
    context = {"form": {"name": name, "title": title}, "user": user, "csrf_token": csrf, **extra}
    return render(request, "import.html", context, status_code=extra.pop("status", 200))


@router.get("/forms/{name}/import")
def import_page(
    request: Request, session: SessionDep, user: WebUser, csrf: CsrfToken, lang: LangDep, name: str
) -> Response:
    spec = spec_of(get_definition(session, name))
    return _page(request, name, localize(spec.title, lang), user, csrf)


@router.post("/forms/{name}/import", dependencies=[CsrfChecked])
async def run_import(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    csrf: CsrfToken,
    lang: LangDep,
    name: str,
    form: PostedForm,
) -> Response:
    spec = spec_of(get_definition(session, name))
    title = localize(spec.title, lang)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, name, title, user, csrf, problem="ui.import_no_file", status=422)
    content = await upload.read()
    token = create_token(
        secret_key=settings.secret_key,
        purpose=ACCESS,
        subject=user.username,
        expires=timedelta(minutes=5),
    )
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops.internal") as client:
        answer = await client.post(
            f"/api/v1/forms/{name}/import",
            params={"lang": lang},
            headers={"Authorization": f"Bearer {token}", "Accept-Language": lang},
            files={"file": (upload.filename, content, upload.content_type or "")},
        )
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code in (404, 405) and not row_errors(body):
        return _page(request, name, title, user, csrf, unavailable=answer.status_code, status=501)
    errors = row_errors(body)
    result = {
        "created": _count(body, "imported") or 0,
        "failed": len(errors),
        "errors": errors,
        "detail": body.get("detail") if isinstance(body, dict) and not errors else None,
    }
    status = 200 if answer.status_code < 400 else answer.status_code
    return _page(request, name, title, user, csrf, result=result, status=status)
