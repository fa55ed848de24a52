"""Taobao/Tmall TOP: signed form POST to /router/rest, taobao.trades.sold.increment.get."""

from __future__ import annotations

import secrets

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ingest.sources.signing import top_sign

from .app import json_response, params_of, raw_json
from .state import APP_KEY, APP_SECRET, REFRESH, ServerState, cst_seconds

PLATFORM = "tmall"
METHOD = "taobao.trades.sold.increment.get"
REFRESH_METHOD = "taobao.top.auth.token.refresh"
MAX_WINDOW = 86400  # end_modified - start_modified <= 1 day


def error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> Response:
    doc: dict[str, object] = {"code": code, "msg": msg, "request_id": secrets.token_hex(6)}
    if sub_code:
        doc["sub_code"] = sub_code
    if sub_msg:
        doc["sub_msg"] = sub_msg
    return json_response({"error_response": doc})


def _bad_args(text: str) -> Response:
    return error(41, "Invalid arguments", "isv.invalid-parameter", text)


def _refresh(state: ServerState, p: dict[str, str]) -> Response:
    """taobao.top.auth.token.refresh: a new session for a refresh token (token_result is a
    JSON string, as TOP sends it)."""
    refresh = p.get("refresh_token")
    if refresh != REFRESH and refresh not in state.refresh_tokens:
        return error(15, "Remote service error", "isv.refresh-token-invalid", "refresh_token无效")
    token, new_refresh, ttl = state.issue_token()
    state.refresh_tokens.add(refresh)  # TOP refresh tokens stay valid until they expire
    result = {"access_token": token, "refresh_token": new_refresh, "expires_in": ttl}
    return json_response(
        {"top_auth_token_refresh_response": {"token_result": orjson.dumps(result).decode()}}
    )


def routes(state: ServerState) -> list[tuple[str, object, list[str]]]:
    async def router(request: Request) -> Response:
        p = await params_of(request)
        if p.get("app_key") != APP_KEY:
            return error(29, "Invalid app Key")
        sign_method = p.get("sign_method", "md5")
        try:
            expected = top_sign(p, APP_SECRET, sign_method)
        except ValueError:
            return error(32, "Invalid sign method")
        if p.get("sign") != expected:
            return error(25, "Invalid signature")
        try:
            cst_seconds(p.get("timestamp", ""))
        except ValueError:
            return error(31, "Invalid timestamp")
        if p.get("method") == REFRESH_METHOD:
            return _refresh(state, p)
        fault = state.take(request.url.path, ("ban", "token_expired"))
        if fault is not None and fault.kind == "ban":
            return error(
                7,
                "App Call Limited",
                "accesscontrol.limited-by-app-access-count",
                f"This ban will last for {fault.seconds:g} more seconds",
            )
        if fault is not None or not state.session_valid(p.get("session")):
            # a session past its time (or call budget) is refused like a wrong one
            return error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法或已过期")
        if p.get("method") != METHOD:
            return error(22, "Invalid method")
        if not p.get("fields"):
            return error(40, "Missing required arguments:fields")
        try:
            start = cst_seconds(p["start_modified"])
            end = cst_seconds(p["end_modified"])
            page_no = int(p.get("page_no", 1))
            page_size = int(p.get("page_size", 40))
        except (KeyError, ValueError) as exc:
            return _bad_args(f"start_modified/end_modified/page_no/page_size: {exc}")
        if not 0 <= end - start <= MAX_WINDOW:
            return _bad_args("end_modified must be after start_modified and at most 1 day later")
        if page_no < 1 or not 1 <= page_size <= 100:
            return _bad_args("page_no >= 1, 1 <= page_size <= 100")
        series = state.data(PLATFORM)
        lo, hi = series.between(start, end)
        total = hi - lo
        # sorted by modified descending
        first = hi - (page_no - 1) * page_size
        last = max(lo, first - page_size)
        lines = series.lines[last:first][::-1] if first > lo else []
        has_next = last > lo
        head = (
            b'"has_next":' + (b"true" if has_next else b"false")
            if p.get("use_has_next") == "true"
            else b'"total_results":' + str(total).encode()
        )
        # one join: each ``+`` of the ~140 KB page would copy it once more
        trades = b",".join(lines)
        body = b"".join(
            (
                b'{"trades_sold_increment_get_response":{',
                head,
                b',"trades":{"trade":[',
                trades,
                b']},"request_id":"',
                secrets.token_hex(6).encode(),
                b'"}}',
            )
        )
        return raw_json(body)

    return [("/tmall/router/rest", router, ["GET", "POST"])]
