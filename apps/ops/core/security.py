"""Passwords (argon2 via pwdlib), signed tokens (JWT via pyjwt) and CSRF tokens.

Each use of the secret key gets its own derived key (API access tokens, web session
cookies, CSRF), so a token made for one purpose is never accepted for another.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError

ALGORITHM = "HS256"
ACCESS = "access"
SESSION = "session"
TOKEN_CACHE_SIZE = 4096

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


@cache
def derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"opslake.ops.{purpose}".encode(), hashlib.sha256).digest()


def create_token(*, secret_key: str, purpose: str, subject: str, expires: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": subject, "iat": now, "exp": now + expires}
    return jwt.encode(claims, derive_key(secret_key, purpose), algorithm=ALGORITHM)


class _TokenCache:
    """Recently verified tokens -> (subject, expiry): a client sends the same token with
    every request, and verifying it again costs more than the rest of a small request's
    authentication. Only valid tokens are kept (bounded, LRU); the expiry is still
    checked on every use. Keyed by token, purpose and key, so nothing crosses purposes."""

    def __init__(self, size: int = TOKEN_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, bytes], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bytes]) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[1] <= time.time():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple[str, bytes], subject: str, expires: float) -> None:
        with self._lock:
            self._items[key] = (subject, expires)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_TOKENS = _TokenCache()


def read_token(token: str, *, secret_key: str, purpose: str) -> str | None:
    """The subject (username) of a valid, unexpired token, else None."""
    key = derive_key(secret_key, purpose)
    subject = _TOKENS.get((token, key))
    if subject is not None:
        return subject
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    if not (isinstance(subject, str) and subject):
        return None
    _TOKENS.put((token, key), subject, float(claims["exp"]))
    return subject


def csrf_token(*, secret_key: str, session_token: str) -> str:
    """Bound to the session cookie: a page from another session cannot post here."""
    key = derive_key(secret_key, "csrf")
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(*, secret_key: str, session_token: str, submitted: str | None) -> bool:
    expected = csrf_token(secret_key=secret_key, session_token=session_token)
    return bool(submitted) and hmac.compare_digest(expected, submitted or "")
