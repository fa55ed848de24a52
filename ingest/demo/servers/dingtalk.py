"""DingTalk oapi: gettoken with expiry, errcode 88, department/user lists, attendance/list."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .app import json_response
from .state import APP_KEY, APP_SECRET, ServerState, cst_seconds

PLATFORM = "dingtalk"
MAX_DAYS = 7


def err(code: int, msg: str, **extra: object) -> Response:
    return json_response({"errcode": code, "errmsg": msg, **extra})


def routes(state: ServerState) -> list[tuple[str, object, list[str]]]:
    def refused(request: Request) -> Response | None:
        """None when the access token is good, else DingTalk's errcode 88 / -1 answer."""
        fault = state.take(request.url.path, ("token_expired", "busy"))
        if fault is not None and fault.kind == "busy":
            return err(-1, "系统繁忙")
        if fault is not None:
            state.expire_tokens()
        if not state.token_valid(request.query_params.get("access_token")):
            return err(88, "鉴权异常", sub_code="40014", sub_msg="不合法的access_token")
        return None

    async def gettoken(request: Request) -> Response:
        q = request.query_params
        if q.get("appkey") != APP_KEY or q.get("appsecret") != APP_SECRET:
            return err(40089, "不合法的appkey或appsecret")
        token, _, ttl = state.issue_token()
        return err(0, "ok", access_token=token, expires_in=ttl)

    async def departments(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        return json_response(state.json_file("hr/departments.json"))

    async def users(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        body = await request.json()
        try:
            dept = int(body["dept_id"])
            cursor = int(body.get("cursor") or 0)
            size = int(body.get("size", 100))
        except (KeyError, ValueError, TypeError):
            return err(40035, "缺少参数 dept_id")
        if not 1 <= size <= 100:
            return err(40035, "size不能超过100")
        everyone = state.json_file("hr/users.json")["result"]["list"]
        members = [u for u in everyone if dept in u.get("dept_id_list", [])]
        page = members[cursor : cursor + size]
        more = cursor + size < len(members)
        result = {"has_more": more, "next_cursor": cursor + size if more else None, "list": page}
        return err(0, "ok", result=result, request_id="fake")

    async def attendance(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        body = await request.json()
        try:
            start = cst_seconds(body["workDateFrom"])
            end = cst_seconds(body["workDateTo"])
            users = [str(u) for u in body["userIdList"]]
            offset = int(body.get("offset", 0))
            limit = int(body.get("limit", 50))
        except (KeyError, ValueError, TypeError):
            return err(40035, "缺少参数 workDateFrom/workDateTo/userIdList")
        if not 0 <= end - start <= MAX_DAYS * 86400:
            return err(40035, "workDateFrom和workDateTo的间隔不能超过7天")
        if not users or len(users) > 50 or not 1 <= limit <= 50 or offset < 0:
            return err(40035, "userIdList 1..50 个, limit 不能超过50")
        series = state.data("attendance")
        lo, hi = series.between(start, end)
        wanted = set(users)
        hits = [series.lines[i] for i in range(lo, hi) if series.keys[i] in wanted]
        page = hits[offset : offset + limit]
        more = b"true" if offset + limit < len(hits) else b"false"
        body_out = (
            b'{"errcode":0,"errmsg":"ok","hasMore":'
            + more
            + b',"recordresult":['
            + b",".join(page)
            + b"]}"
        )
        return Response(body_out, media_type="application/json")

    return [
        ("/dingtalk/gettoken", gettoken, ["GET"]),
        ("/dingtalk/department/list", departments, ["GET"]),
        ("/dingtalk/topapi/v2/user/list", users, ["POST"]),
        ("/dingtalk/attendance/list", attendance, ["POST"]),
    ]
