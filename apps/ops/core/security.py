"""Passwords (argon2 via pwdlib), signed tokens (JWT via pyjwt) and CSRF tokens.

Each use of the secret key gets its own derived key (API access tokens, web session
cookies, CSRF), so a token made for one purpose is never accepted for another.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError

ALGORITHM = "HS256"
ACCESS = "access"
SESSION = "session"

_password_hash = PasswordHash.recommended()


@cache
def _dummy_hash() -> str:
    # Verified when the user does not exist: a wrong username costs as long as a wrong password.
    return _password_hash.hash("opslake-no-such-user")


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _password_hash.verify(password, _dummy_hash())
        return False
    try:
        return _password_hash.verify(password, password_hash)
    except PwdlibError:  # an unreadable stored hash is a failed login, not a 500
        return False


def derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"opslake.ops.{purpose}".encode(), hashlib.sha256).digest()


def create_token(*, secret_key: str, purpose: str, subject: str, expires: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": subject, "iat": now, "exp": now + expires}
    return jwt.encode(claims, derive_key(secret_key, purpose), algorithm=ALGORITHM)


def read_token(token: str, *, secret_key: str, purpose: str) -> str | None:
    """The subject (username) of a valid, unexpired token, else None."""
    try:
        claims = jwt.decode(
            token,
            derive_key(secret_key, purpose),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None


def csrf_token(*, secret_key: str, session_token: str) -> str:
    """Bound to the session cookie: a page from another session cannot post here."""
    key = derive_key(secret_key, "csrf")
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(*, secret_key: str, session_token: str, submitted: str | None) -> bool:
    expected = csrf_token(secret_key=secret_key, session_token=session_token)
    return bool(submitted) and hmac.compare_digest(expected, submitted or "")
