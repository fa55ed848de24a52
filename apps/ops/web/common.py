"""Shared bits of the web pages: CSRF check of posted forms, local times, 404."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request
from starlette.datastructures import FormData

from apps.ops.api.deps import SettingsDep
from apps.ops.core.errors import CsrfError, NotFoundError
from apps.ops.core.security import check_csrf
from apps.ops.web.deps import SESSION_COOKIE


class PageNotFound(NotFoundError):
    code = "error.not_found"


async def read_form(request: Request) -> FormData:
    """The posted form (fields and files), read once and cached by Starlette."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(read_form)]


def _check_csrf(request: Request, settings: SettingsDep, form: PostedForm) -> None:
    submitted = form.get("csrf_token")
    if not check_csrf(
        secret_key=settings.secret_key,
        session_token=request.cookies.get(SESSION_COOKIE, ""),
        submitted=submitted if isinstance(submitted, str) else None,
    ):
        raise CsrfError()


CsrfChecked = Depends(_check_csrf)


@cache
def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_time(moment: datetime | None, zone_name: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(zone(zone_name)).strftime("%Y-%m-%d %H:%M")
