from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from apps.ops.api.deps import CurrentUser, SessionDep, SettingsDep
from apps.ops.core.errors import BadCredentialsError, TooManyAttemptsError
from apps.ops.core.ratelimit import LoginLimiter
from apps.ops.core.security import ACCESS, create_token
from apps.ops.crud import authenticate
from apps.ops.schemas import ErrorPublic, Token, UserPublic

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses={400: {"model": ErrorPublic}, 429: {"model": ErrorPublic}})
def login_for_access_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """OAuth2 password flow: username and password (form-encoded) for a bearer token."""
    limiter: LoginLimiter = request.app.state.login_limiter
    address = request.client.host if request.client else "-"
    wait = limiter.retry_after(form.username, address)
    if wait:
        raise TooManyAttemptsError(seconds=wait)
    user = authenticate(session=session, username=form.username, password=form.password)
    if user is None:
        limiter.failed(form.username, address)
        raise BadCredentialsError()
    limiter.succeeded(form.username, address)
    expires = timedelta(minutes=settings.access_token_expire_minutes)
    token = create_token(
        secret_key=settings.secret_key, purpose=ACCESS, subject=user.username, expires=expires
    )
    return Token(access_token=token, expires_in=int(expires.total_seconds()))


@router.get("/auth/me", responses={401: {"model": ErrorPublic}})
def read_current_user(user: CurrentUser) -> UserPublic:
    """The user the bearer token belongs to."""
    return UserPublic.model_validate(user)
