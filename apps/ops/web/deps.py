"""Web UI session: a signed cookie holding the username (JWT, its own key), plus CSRF."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request

from apps.ops.api.deps import SessionDep, SettingsDep
from apps.ops.core.security import SESSION, csrf_token, read_token
from apps.ops.crud import get_user_by_username
from apps.ops.models import User

SESSION_COOKIE = "opslake_session"


class LoginRequired(Exception):
    """Answered with a redirect to /login (see the handler in apps.ops.main)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url

    def login_url(self) -> str:
        return "/login?" + urlencode({"next": self.next_url})


def safe_next(url: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


def get_web_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    username = read_token(token, secret_key=settings.secret_key, purpose=SESSION)
    user = get_user_by_username(session=session, username=username) if username else None
    return user if user is not None and user.is_active else None


def require_web_user(request: Request, user: Annotated[User | None, Depends(get_web_user)]) -> User:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def get_csrf_token(request: Request, settings: SettingsDep) -> str:
    return csrf_token(
        secret_key=settings.secret_key, session_token=request.cookies.get(SESSION_COOKIE, "")
    )


WebUser = Annotated[User, Depends(require_web_user)]
CsrfToken = Annotated[str, Depends(get_csrf_token)]
