"""Request signatures of the marketplace platforms (see SOURCE_SHAPES.md).

Used by the connectors to sign and by the demo servers to verify, so a test against
an official vector (JD) or a hand-computed one (TOP, Douyin) guards both sides.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping


def _concat(params: Mapping[str, object]) -> str:
    """``k1v1k2v2…`` over the params except ``sign`` and empty values, sorted by key."""
    return "".join(
        f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in (None, "")
    )


def top_sign(params: Mapping[str, object], secret: str, method: str = "md5") -> str:
    """Taobao/Tmall TOP: md5(secret+concat+secret) or HMAC-MD5/-SHA256(concat), upper hex."""
    text = _concat(params)
    if method == "md5":
        return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()
    digest = {"hmac": hashlib.md5, "hmac-sha256": hashlib.sha256}.get(method)
    if digest is None:
        raise ValueError(f"unknown TOP sign_method {method!r}")
    return hmac.new(secret.encode(), text.encode(), digest).hexdigest().upper()


def jd_sign(params: Mapping[str, object], secret: str) -> str:
    """JD JOS routerjson: upper(md5(secret + k1v1… + secret)); 360buy_param_json sorts first."""
    return hashlib.md5(f"{secret}{_concat(params)}{secret}".encode()).hexdigest().upper()


def douyin_param_json(params: Mapping[str, object]) -> str:
    """Douyin ``param_json``: keys sorted recursively, compact separators, UTF-8 as is."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def douyin_sign(
    app_key: str,
    method: str,
    param_json: str,
    timestamp: str,
    secret: str,
    sign_method: str = "md5",
) -> str:
    """Douyin: secret+app_key…+param_json…+timestamp…+v2+secret; md5 or HMAC-SHA256, lower hex.

    ``access_token`` is not part of the signature.
    """
    text = (
        f"{secret}app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v2{secret}"
    )
    if sign_method == "md5":
        return hashlib.md5(text.encode()).hexdigest()
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    raise ValueError(f"unknown Douyin sign_method {sign_method!r}")
