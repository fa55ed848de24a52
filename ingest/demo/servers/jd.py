"""JD JOS routerjson: 360buy_param_json, signature, the `responce` spelling, apiResult errors."""

from __future__ import annotations

from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ingest.sources.signing import jd_sign

from .app import json_response, params_of, raw_json
from .state import APP_KEY, APP_SECRET, REFRESH, ServerState, cst_seconds

PLATFORM = "jd"
METHOD = "jingdong.pop.order.search"
MAX_WINDOW = 31 * 86400


def error(code: str, zh: str, en: str) -> Response:
    return json_response({"error_response": {"code": code, "zh_desc": zh, "en_desc": en}})


def api_failure(zh: str, en: str) -> Response:
    """A business failure: HTTP 200, code "0", apiResult.success false."""
    return json_response(
        {
            "jingdong_pop_order_search_responce": {
                "code": "0",
                "searchorderinfo_result": {
                    "apiResult": {"success": False, "chineseErrCode": zh, "englishErrCode": en},
                    "orderTotal": 0,
                    "orderInfoList": [],
                },
            }
        }
    )


def routes(state: ServerState) -> list[tuple[str, object, list[str]]]:
    async def router(request: Request) -> Response:
        p = await params_of(request)
        if p.get("app_key") != APP_KEY:
            return error("19", "无效的app_key", "Invalid app_key")
        if p.get("sign") != jd_sign(p, APP_SECRET):
            return error("12", "无效签名", "Invalid signature")
        fault = state.take(request.url.path, ("token_expired", "busy"))
        expired = fault is not None and fault.kind == "token_expired"
        if expired or not state.session_valid(p.get("access_token")):
            return error("19", "token已过期或者不存在，请重新授权", "Invalid access_token")
        if fault is not None:
            return api_failure("系统繁忙，请稍后再试", "system busy, retry later")
        if p.get("method") != METHOD:
            return error("22", "无效的方法名", "Invalid method")
        try:
            biz = orjson.loads(p.get("360buy_param_json", "{}"))
            start = cst_seconds(biz["start_date"])
            end = cst_seconds(biz["end_date"])
            page = int(biz.get("page", 1))
            size = int(biz.get("page_size", 20))
            datetime.strptime(p.get("timestamp", "")[:19], "%Y-%m-%d %H:%M:%S")
        except (KeyError, ValueError, TypeError) as exc:
            return api_failure(f"参数错误: {exc}", f"invalid parameter: {exc}")
        if not 0 <= end - start <= MAX_WINDOW:
            return api_failure("查询时间跨度不能超过一个月", "date range must be within a month")
        if page < 1 or not 1 <= size <= 100:
            return api_failure("page从1开始, page_size不能大于100", "page >= 1, page_size <= 100")
        series = state.data(PLATFORM)
        lo, hi = series.between(start, end)
        if str(biz.get("sortType", "1")) == "1":
            first = hi - (page - 1) * size
            lines = series.lines[max(lo, first - size) : first][::-1] if first > lo else []
        else:
            at = lo + (page - 1) * size
            lines = series.lines[at : min(hi, at + size)]
        body = (
            b'{"jingdong_pop_order_search_responce":{"code":"0","searchorderinfo_result":'
            b'{"apiResult":{"success":true,"chineseErrCode":"\xe6\x88\x90\xe5\x8a\x9f",'
            b'"englishErrCode":"success"},"orderTotal":'
            + str(hi - lo).encode()
            + b',"orderInfoList":['
            + b",".join(lines)
            + b"]}}}"
        )
        return raw_json(body)

    async def refresh(request: Request) -> Response:
        """open-oauth.jd.com/oauth2/refresh_token: app key + secret + refresh token."""
        q = dict(request.query_params)
        if (q.get("app_key"), q.get("app_secret")) != (APP_KEY, APP_SECRET):
            return json_response({"code": 401, "msg": "app_key或app_secret错误"})
        if q.get("grant_type") != "refresh_token":
            return json_response({"code": 400, "msg": "grant_type必须为refresh_token"})
        if q.get("refresh_token") not in (REFRESH, *state.refresh_tokens):
            return json_response({"code": 402, "msg": "refresh_token无效或已过期"})
        token, new_refresh, ttl = state.issue_token()
        state.refresh_tokens.add(q["refresh_token"])
        return json_response(
            {"code": 0, "access_token": token, "refresh_token": new_refresh, "expires_in": ttl}
        )

    return [
        ("/jd/routerjson", router, ["GET", "POST"]),
        ("/jd/oauth2/refresh_token", refresh, ["GET"]),
    ]
