"""Douyin 抖店: signed query + param_json body, tokens with refresh, page from 0, code 10000."""

from __future__ import annotations

import secrets

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ingest.sources.signing import douyin_sign

from .app import json_response, raw_json
from .state import APP_KEY, APP_SECRET, DOUYIN_SHOP_ID, ServerState

PLATFORM = "douyin"
MAX_REACHABLE = 50_000


def envelope(code: int, msg: str, sub_code: str = "", sub_msg: str = "", data: object = None):
    doc = {
        "code": code,
        "msg": msg,
        "sub_code": sub_code,
        "sub_msg": sub_msg,
        "log_id": secrets.token_hex(8),
        "data": data if data is not None else {},
    }
    return json_response(doc)


def _invalid(sub: str, text: str) -> Response:
    return envelope(40004, "参数错误", f"isv.parameter-invalid:{sub}", text)


async def _verified(request: Request, method: str) -> dict | Response:
    q = dict(request.query_params)
    if q.get("app_key") != APP_KEY:
        return envelope(30001, "app_key不存在", "isv.app-key-invalid")
    if q.get("method") != method:
        return envelope(30001, "method不匹配", "isv.method-invalid")
    body = (await request.body()).decode() or q.get("param_json", "{}")
    try:
        expected = douyin_sign(
            APP_KEY, method, body, q.get("timestamp", ""), APP_SECRET, q.get("sign_method", "md5")
        )
    except ValueError:
        return envelope(30001, "sign_method不支持", "isv.sign-method-invalid")
    if q.get("sign") != expected:
        return envelope(30001, "签名错误", "isv.sign-invalid", "sign校验失败")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _invalid("10001", "param_json不是合法的JSON")


def routes(state: ServerState) -> list[tuple[str, object, list[str]]]:
    async def token_create(request: Request) -> Response:
        params = await _verified(request, "token.create")
        if isinstance(params, Response):
            return params
        if (
            params.get("grant_type") != "authorization_self"
            or str(params.get("shop_id")) != DOUYIN_SHOP_ID
        ):
            return envelope(40004, "参数错误", "isv.parameter-invalid:grant_type")
        return _token(state)

    async def token_refresh(request: Request) -> Response:
        params = await _verified(request, "token.refresh")
        if isinstance(params, Response):
            return params
        if not state.use_refresh_token(params.get("refresh_token")):
            return envelope(30002, "refresh_token已过期", "isv.refresh-token-invalid")
        return _token(state)

    async def search(request: Request) -> Response:
        params = await _verified(request, "order.searchList")
        if isinstance(params, Response):
            return params
        if state.take(request.url.path, ("token_expired",)):
            state.expire_tokens()
        if not state.token_valid(request.query_params.get("access_token")):
            return envelope(30002, "access_token已过期", "isv.access-token-expired")
        try:
            start = int(params["update_time_start"])
            end = int(params.get("update_time_end", 4_000_000_000))
            page = int(params.get("page", 0))
            size = int(params.get("size", 10))
        except (KeyError, ValueError, TypeError) as exc:
            return _invalid("10001", f"update_time_start/page/size: {exc}")
        if page < 0:
            return _invalid("10035", "page不能小于0")
        if not 1 <= size <= 100:
            return _invalid("20008", "size不能超过100")
        if (page + 1) * size > MAX_REACHABLE:
            return _invalid("20013", "最多查询50000条")
        series = state.data(PLATFORM)
        lo, hi = series.between(start, end)
        if params.get("order_asc") in (True, "true"):
            at = lo + page * size
            lines = series.lines[at : min(hi, at + size)]
        else:
            first = hi - page * size
            lines = series.lines[max(lo, first - size) : first][::-1] if first > lo else []
        body = (
            b'{"code":10000,"msg":"success","sub_code":"","sub_msg":"","log_id":"'
            + secrets.token_hex(8).encode()
            + b'","data":{"page":'
            + str(page).encode()
            + b',"size":'
            + str(size).encode()
            + b',"total":'
            + str(hi - lo).encode()
            + b',"shop_order_list":['
            + b",".join(lines)
            + b"]}}"
        )
        return raw_json(body)

    return [
        ("/douyin/token/create", token_create, ["POST"]),
        ("/douyin/token/refresh", token_refresh, ["POST"]),
        ("/douyin/order/searchList", search, ["POST"]),
    ]


def _token(state: ServerState) -> Response:
    token, refresh, ttl = state.issue_token()
    return envelope(
        10000,
        "success",
        data={
            "access_token": token,
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": "SCOPE",
            "shop_id": int(DOUYIN_SHOP_ID),
            "shop_name": "OpsLake家居抖音小店",
        },
    )
