"""Exception handlers: every error is an answer a person understands, never a bare 500.

API paths get JSON ``{"detail": "...", "errors": {field: message}}``; web pages get an HTML
page in the user's language.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from apps.ops.core.errors import FormValidationError, OpsError
from apps.ops.core.i18n import list_separator, negotiate_language, translate
from apps.ops.web.deps import LoginRequired
from apps.ops.web.templating import render

log = logging.getLogger(__name__)

API_PATHS = ("/api/", "/healthz", "/openapi.json", "/docs", "/redoc")

# pydantic error types we phrase ourselves; the rest keep pydantic's (English) message
REQUEST_MESSAGES = {
    "missing": "request.missing",
    "json_invalid": "request.json_invalid",
    "dict_type": "request.not_object",
    "model_attributes_type": "request.not_object",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PATHS)


def _error(
    request: Request,
    status_code: int,
    detail: str,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_json(request):
        body: dict[str, Any] = {"detail": detail}
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=status_code, headers=headers)
    context = {"message": detail, "errors": errors, "status_code": status_code}
    return render(request, "error.html", context, status_code=status_code)


async def ops_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpsError)
    lang = negotiate_language(request)
    errors = exc.field_messages(lang) if isinstance(exc, FormValidationError) else None
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return _error(request, exc.status_code, exc.message(lang), errors, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = translate("error.not_found", negotiate_language(request))
    return _error(request, exc.status_code, str(detail), headers=exc.headers)


def _field_key(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "request"


async def request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = negotiate_language(request)
    errors: dict[str, str] = {}
    for error in exc.errors():
        key = "body" if error["type"] == "json_invalid" else _field_key(tuple(error["loc"]))
        code = REQUEST_MESSAGES.get(error["type"])
        errors.setdefault(key, translate(code, lang) if code else str(error["msg"]) + ".")
    if list(errors) == ["body"]:  # the body as a whole (bad JSON, not an object)
        detail = errors["body"]
    else:
        detail = translate("error.request", lang, fields=list_separator(lang).join(errors))
    return _error(request, 422, detail, errors)


async def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(exc.login_url(), status_code=303)


async def unhandled_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error(request, 500, translate("error.internal", negotiate_language(request)))


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OpsError, ops_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Exception, unhandled_error)
