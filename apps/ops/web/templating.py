"""Jinja2 rendering for the server-side web UI (no JavaScript build)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from apps.ops.core.i18n import (
    LANGUAGE_NAMES,
    SUPPORTED_LANGUAGES,
    localize,
    negotiate_language,
    translate,
)
from apps.ops.web.messages import UI_MESSAGES

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def ui_text(code: str, lang: str, /, **params: Any) -> str:
    """A text of the web pages; falls back to the app's messages (errors, statuses)."""
    entry = UI_MESSAGES.get(code)
    if entry is None:
        return translate(code, lang, **params)
    return localize(entry, lang).format(**params)


def url_with_lang(path: str, lang: str, **params: Any) -> str:
    query = {key: value for key, value in params.items() if value is not None}
    return f"{path}?{urlencode({**query, 'lang': lang})}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    lang: str | None = None,
) -> Response:
    lang = lang or negotiate_language(request)
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    base = {
        "lang": lang,
        "t": lambda code, **params: ui_text(code, lang, **params),
        "link": lambda path, **params: url_with_lang(path, lang, **params),
        "languages": [
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "url": url_with_lang(request.url.path, code, **query),
                "current": code == lang,
            }
            for code in SUPPORTED_LANGUAGES
        ],
        "user": None,
        "csrf_token": None,
    }
    response = templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status_code
    )
    response.headers["Content-Language"] = lang
    return response
