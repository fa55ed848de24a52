"""WeCom (企业微信) cgi-bin: gettoken?corpid&corpsecret, errcode/errmsg, check-in data.

The demo company's attendance (``hr/attendance.jsonl``, DingTalk-shaped) served in WeCom's
shape: ``checkin/getcheckindata`` by check-in time in Unix seconds (at most 30 days and 100
users per call, no paging), users from ``user/simplelist``. A stale token is errcode 42001,
an unknown one 40014 (per SOURCE_SHAPES; the codes are unverified there).
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .app import json_response
from .state import APP_KEY, APP_SECRET, ServerState

PLATFORM = "wecom"
CORP_ID, CORP_SECRET = APP_KEY, APP_SECRET
MAX_SPAN = 30 * 86400
CHECK_TYPE = {"OnDuty": "上班打卡", "OffDuty": "下班打卡"}
EXCEPTION = {
    "Normal": "",
    "Early": "时间异常",
    "Late": "时间异常",
    "SeriousLate": "时间异常",
    "Absenteeism": "未打卡",
    "NotSigned": "未打卡",
}


def err(code: int, msg: str, **extra: object) -> Response:
    return json_response({"errcode": code, "errmsg": msg, **extra})


def as_wecom(rec: dict) -> dict:
    """A DingTalk attendance result as a WeCom check-in record."""
    checked = rec.get("userCheckTime") or rec.get("baseCheckTime") or 0
    return {
        "userid": rec.get("userId"),
        "groupname": f"考勤组{rec.get('groupId', '')}",
        "groupid": rec.get("groupId"),
        "checkin_type": CHECK_TYPE.get(rec.get("checkType"), rec.get("checkType")),
        "exception_type": EXCEPTION.get(rec.get("timeResult"), "时间异常"),
        "checkin_time": checked // 1000,
        "sch_checkin_time": (rec.get("baseCheckTime") or 0) // 1000,
        "location_title": "",
        "location_detail": "",
        "wifiname": "OpsLake-Office",
        "wifimac": "",
        "notes": "",
        "mediaids": [],
        "deviceid": "",
        "timeline_id": rec.get("planId"),
    }


def routes(state: ServerState) -> list[tuple[str, object, list[str]]]:
    def refused(request: Request) -> Response | None:
        fault = state.take(request.url.path, ("token_expired", "busy"))
        if fault is not None and fault.kind == "busy":
            return err(-1, "system busy")
        if fault is not None:
            state.expire_tokens()
        token = request.query_params.get("access_token")
        if state.token_valid(token):
            return None
        if token in state.tokens or fault is not None:
            return err(42001, "access_token expired")
        return err(40014, "invalid access_token")

    async def gettoken(request: Request) -> Response:
        q = request.query_params
        if q.get("corpid") != CORP_ID:
            return err(40013, "invalid corpid")
        if q.get("corpsecret") != CORP_SECRET:
            return err(40001, "invalid credential, access_token is invalid or not latest")
        token, _, ttl = state.issue_token()
        return err(0, "ok", access_token=token, expires_in=ttl)

    async def simplelist(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        everyone = state.json_file("hr/users.json")["result"]["list"]
        users = [
            {"userid": u["userid"], "name": u.get("name"), "department": u.get("dept_id_list")}
            for u in everyone
        ]
        return err(0, "ok", userlist=users)

    async def checkindata(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        try:
            body = await request.json()
            start, end = int(body["starttime"]), int(body["endtime"])
            users = [str(u) for u in body["useridlist"]]
            kind = int(body.get("opencheckindatatype", 3))
        except (KeyError, ValueError, TypeError) as exc:
            return err(40058, f"invalid parameter: {exc}")
        if not 0 <= end - start <= MAX_SPAN:
            return err(301023, "starttime/endtime: at most 30 days, end after start")
        if not 1 <= len(users) <= 100 or kind not in (1, 2, 3):
            return err(301024, "useridlist: 1 to 100 users; opencheckindatatype 1, 2 or 3")
        series = state.data("wecom_checkins")
        lo, hi = series.between(start, end)
        wanted = set(users)
        data = [
            as_wecom(orjson.loads(series.lines[i]))
            for i in range(lo, hi)
            if series.keys[i] in wanted
        ]
        return err(0, "ok", checkindata=data)

    return [
        ("/wecom/cgi-bin/gettoken", gettoken, ["GET"]),
        ("/wecom/cgi-bin/user/simplelist", simplelist, ["GET"]),
        ("/wecom/cgi-bin/checkin/getcheckindata", checkindata, ["POST"]),
    ]
