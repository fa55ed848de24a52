"""Renewed marketplace tokens kept between runs: ``<home>/tokens/<stream>.json``, mode 0600.

A run that renews its session (TOP ``taobao.top.auth.token.refresh``, JD
``/oauth2/refresh_token``) gets a new access token and often a new refresh token; the
configured ones may be spent (JD refresh tokens are single-use). Without the new pair the
next run starts from the configured, stale session and, where the old refresh token was
consumed, cannot renew it at all. The pair is written here after every renewal and read
at the start of the next run.

The file names the configured refresh token it descends from (a SHA-256, not the token):
when the configuration changes (the shop was authorized again), the file is ignored, so
a new authorization always wins over an old renewal. The file holds secrets: it is
created with mode 0600 and replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str


@dataclass(frozen=True)
class TokenStore:
    path: Path
    configured_refresh: str  # the refresh token in the settings

    @classmethod
    def under(cls, home: Path, stream: str, configured_refresh: str) -> TokenStore:
        return cls(Path(home) / "tokens" / f"{stream}.json", configured_refresh)

    def _origin(self) -> str:
        return hashlib.sha256(self.configured_refresh.encode()).hexdigest()

    def load(self) -> Tokens | None:
        """The pair a previous run renewed from the configured refresh token, if any."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or doc.get("origin") != self._origin():
            return None  # renewed from another authorization
        access, refresh = doc.get("access_token"), doc.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            return None
        return Tokens(access, refresh)

    def save(self, tokens: Tokens) -> None:
        doc = {
            "origin": self._origin(),
            "access_token": tokens.access,
            "refresh_token": tokens.refresh,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file 0600; the rename replaces the old one at once, so a crash
        # leaves either the old pair or the new one, never half a file
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
