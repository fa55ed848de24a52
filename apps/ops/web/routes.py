"""Server-rendered web UI: log in, list forms, fill in a form, see the saved record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from apps.ops.api.deps import IdPath, LangDep, SessionDep, SettingsDep
from apps.ops.core.errors import CsrfError, FormValidationError
from apps.ops.core.i18n import localize, status_label
from apps.ops.core.security import SESSION, check_csrf, create_token
from apps.ops.crud import authenticate, create_record, get_record
from apps.ops.forms.spec import FormSpec, NumberField, SelectField, TextField
from apps.ops.forms.store import get_definition, list_latest, spec_of
from apps.ops.web.deps import SESSION_COOKIE, CsrfToken, WebUser, get_web_user, safe_next
from apps.ops.web.templating import render, url_with_lang

router = APIRouter(include_in_schema=False)


async def read_form_data(request: Request) -> dict[str, str]:
    """The posted fields (text values only; the last value wins for repeated names)."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(read_form_data)]


def _check_csrf(request: Request, settings: SettingsDep, form: FormData) -> None:
    if not check_csrf(
        secret_key=settings.secret_key,
        session_token=request.cookies.get(SESSION_COOKIE, ""),
        submitted=form.get("csrf_token"),
    ):
        raise CsrfError()


CsrfChecked = Depends(_check_csrf)


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


# forms ---------------------------------------------------------------------------------------


@router.get("/")
def home(
    request: Request, session: SessionDep, user: WebUser, csrf: CsrfToken, lang: LangDep
) -> Response:
    forms = [
        {"name": row.name, "version": row.version, "title": localize(row.definition["title"], lang)}
        for row in list_latest(session)
    ]
    return render(request, "home.html", {"forms": forms, "user": user, "csrf_token": csrf})


@dataclass
class FieldView:
    """What the template needs to draw one field."""

    name: str
    kind: str  # text | textarea | number | select
    label: str
    help: str
    required: bool
    value: str
    error: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    integer: bool = False

    @property
    def input_id(self) -> str:
        return f"field-{self.name}"

    @property
    def described_by(self) -> str:
        ids = [
            f"{self.input_id}-help" if self.help else "",
            f"{self.input_id}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)


def field_views(
    spec: FormSpec, lang: str, values: dict[str, Any], errors: dict[str, str]
) -> list[FieldView]:
    views = []
    for f in spec.fields:
        raw = values.get(f.name)
        view = FieldView(
            name=f.name,
            kind="text",
            label=localize(f.label, lang),
            help=localize(f.help, lang),
            required=f.required,
            value="" if raw is None else str(raw),
            error=errors.get(f.name),
        )
        if isinstance(f, TextField):
            view.kind = "textarea" if f.multiline else "text"
            view.max_length = f.max_length
        elif isinstance(f, NumberField):
            view.kind = "number"
            view.integer = f.integer
        elif isinstance(f, SelectField):
            view.kind = "select"
            view.options = [(o.value, localize(o.label, lang)) for o in f.options]
        views.append(view)
    return views


def _form_page(
    request: Request,
    *,
    spec: FormSpec,
    version: int,
    lang: str,
    user: Any,
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
        "fields": field_views(spec, lang, values, messages),
        "summary": [(f"field-{name}", message) for name, message in messages.items()],
        "user": user,
        "csrf_token": csrf,
    }
    return render(request, "form_new.html", context, status_code=422 if error else 200, lang=lang)


@router.get("/forms/{name}/new")
def new_record_page(
    request: Request, session: SessionDep, user: WebUser, csrf: CsrfToken, lang: LangDep, name: str
) -> Response:
    row = get_definition(session, name)
    return _form_page(
        request, spec=spec_of(row), version=row.version, lang=lang, user=user, csrf=csrf, values={}
    )


@router.post("/forms/{name}/new", dependencies=[CsrfChecked])
def submit_record(
    request: Request,
    session: SessionDep,
    user: WebUser,
    csrf: CsrfToken,
    lang: LangDep,
    name: str,
    form: FormData,
) -> Response:
    row = get_definition(session, name)
    spec = spec_of(row)
    # Only the form's own fields: the page also posts csrf_token and the like.
    values = {f.name: form.get(f.name) for f in spec.fields}
    try:
        record = create_record(
            session=session, form_name=name, data=values, created_by=user.username
        )
    except FormValidationError as error:
        return _form_page(
            request,
            spec=spec,
            version=row.version,
            lang=lang,
            user=user,
            csrf=csrf,
            values=values,
            error=error,
        )
    url = url_with_lang(f"/forms/{name}/records/{record.id}", lang, saved=1)
    return RedirectResponse(url, status_code=303)


@cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


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
) -> Response:
    record = get_record(session=session, form_name=name, record_id=record_id)
    created_at = record.created_at.astimezone(_zone(settings.timezone))
    # Show the record with the definition version it was made with.
    spec = spec_of(get_definition(session, name, record.form_version))
    rows = []
    for f in spec.fields:
        value = record.data.get(f.name)
        if isinstance(f, SelectField) and value is not None:
            value = localize(f.option_label(value), lang) or value
        rows.append((localize(f.label, lang), "" if value is None else str(value)))
    context = {
        "form": {"name": spec.name, "title": localize(spec.title, lang)},
        "record": record,
        "created_at": created_at,
        "timezone": settings.timezone,
        "rows": rows,
        "status": status_label(record.status, lang),
        "saved": saved,
        "user": user,
        "csrf_token": csrf,
    }
    return render(request, "record.html", context, lang=lang)
