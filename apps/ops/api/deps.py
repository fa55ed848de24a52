"""Dependencies of the API routes, as ``Annotated`` aliases (``session: SessionDep``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from apps.ops.context import OpsContext
from apps.ops.core.config import OpsSettings
from apps.ops.core.errors import AuthenticationError, ForbiddenError, InvalidTokenError
from apps.ops.core.i18n import negotiate_language
from apps.ops.core.security import ACCESS, read_token
from apps.ops.crud import get_user_by_username
from apps.ops.models import User

TOKEN_URL = "/api/v1/auth/token"


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency
# in the thread pool, and each of those hops cost more than the work (a submit made seven).


async def get_settings(request: Request) -> OpsSettings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request. Opening one does no I/O (the connection is taken at first
    use); closing one with a transaction still open (a read-only request, an error) rolls
    it back, which may wait on the database, so that happens in the thread pool."""
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_language(request: Request) -> str:
    return negotiate_language(request)


SettingsDep = Annotated[OpsSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
LangDep = Annotated[str, Depends(get_language)]

# auto_error=False: a missing token is answered by our handler (plain message, 401).
reusable_oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
TokenDep = Annotated[str | None, Depends(reusable_oauth2)]


def get_current_user(session: SessionDep, settings: SettingsDep, token: TokenDep) -> User:
    if not token:
        raise AuthenticationError()
    username = read_token(token, secret_key=settings.secret_key, purpose=ACCESS)
    user = get_user_by_username(session=session, username=username) if username else None
    if user is None or not user.is_active:
        raise InvalidTokenError()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_ops(request: Request) -> OpsContext:
    return request.app.state.ops


OpsDep = Annotated[OpsContext, Depends(get_ops)]


def require_admin(user: CurrentUser) -> User:
    if "admin" not in (user.roles or []):
        raise ForbiddenError()
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def deliver_outbox(request: Request) -> None:
    """Deliver queued rule actions right after the response (the scheduler retries)."""
    from apps.ops.rules.outbox import deliver_due

    deliver_due(request.app.state.sessionmaker, request.app.state.ops, request.app.state.smtp)


# Ids in paths: bounded, so a huge number is a 422, never a database overflow.
IdPath = Annotated[int, Path(ge=1, le=2**53 - 1)]
