"""WeCom (企业微信) check-ins: ``checkin/getcheckindata`` over check-in-time windows.

The HR source in WeCom's shape, beside DingTalk's (``dingtalk.py``). The access token comes
from ``gettoken?corpid&corpsecret`` (the check-in app's secret); errcode 42001 (expired) or
40014/40001 (invalid) renews it and repeats the call, -1 (busy) and 45009 (frequency) wait
and retry, anything else non-zero stops the run with WeCom's ``errmsg``. Users come from
``user/simplelist`` (department 1 with children); check-ins are asked for 100 users and 7
days at a time (WeCom allows 30), in Unix seconds; WeCom returns them unpaged.

The generic REST connector (``ingest/config/rest``) cannot say this: it needs a token
exchange and a POST body with the window and a user list from another endpoint.

Raw ``wecom_checkins``: ``user_id``, ``checkin_type`` (上班打卡/下班打卡/外出打卡),
``exception_type`` ('' when normal), ``checkin_time`` (TIMESTAMPTZ), ``payload``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pyarrow as pa

from ingest.core import SourceError
from ingest.http import ApiClient, AuthExpired, Retryable
from ingest.sources.api import ApiConfig, Malformed, WindowedStream, json_body, payload
from warehouse.settings import Settings

SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("checkin_type", pa.string()),
        ("exception_type", pa.string()),
        ("checkin_time", pa.timestamp("us", tz="UTC")),
        ("payload", pa.string()),
    ]
)
TOKEN_CODES = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
RETRY_CODES = {-1, 45009}  # system busy, frequency limit


def check(response: httpx.Response) -> dict:
    try:
        doc = json_body(response)
    except ValueError as exc:
        raise Retryable(f"HTTP {response.status_code}, not JSON: {response.text[:100]}") from exc
    code = doc.get("errcode", 0)
    if code == 0:
        return doc
    text = f"wecom errcode {code} {doc.get('errmsg', '')}".strip()
    if code in TOKEN_CODES:
        raise AuthExpired(text)
    if code in RETRY_CODES:
        raise Retryable(text)
    raise SourceError(text)


def check_token(response: httpx.Response) -> dict:
    try:
        return check(response)
    except AuthExpired as exc:  # a wrong corpid/secret is not fixed by asking again
        raise SourceError(f"{exc}; check the corp id and the check-in app's secret") from exc


@dataclass
class WeComToken:
    base: str
    corp_id: str
    corp_secret: str
    client: ApiClient
    value: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> str:
        with self.lock:
            if not self.value:
                self._fetch()
            return self.value

    def renew(self) -> None:
        with self.lock:
            self._fetch()

    def _fetch(self) -> None:
        params = {"corpid": self.corp_id, "corpsecret": self.corp_secret}
        doc = self.client.send(
            lambda: {"method": "GET", "url": f"{self.base}/gettoken", "params": params},
            check_token,
        )
        self.value = doc["access_token"]


@dataclass
class WeComCheckinStream(WindowedStream):
    api: ApiConfig
    corp_id: str
    corp_secret: str
    window: timedelta = timedelta(days=7)
    users_per_call: int = 100
    name: str = "wecom_checkins"
    source: str = "wecom"
    schema: pa.Schema = field(default_factory=lambda: SCHEMA)
    primary_key: tuple[str, ...] = ("user_id", "checkin_time", "checkin_type")
    cursor_field: str | None = "checkin_time"
    user_ids: list[str] = field(default_factory=list)
    token: WeComToken | None = None

    def session(self, client: ApiClient, base: str) -> None:
        self.token = WeComToken(base, self.corp_id, self.corp_secret, client)
        client.refresh = self.token.renew
        token = self.token
        doc = client.send(
            lambda: {
                "method": "GET",
                "url": f"{base}/user/simplelist",
                "params": {"access_token": token.get(), "department_id": 1, "fetch_child": 1},
            },
            check,
        )
        self.user_ids = sorted({str(u["userid"]) for u in doc.get("userlist") or []})

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        assert self.token is not None
        token = self.token
        for i in range(0, len(self.user_ids), self.users_per_call):
            body = {
                "opencheckindatatype": 3,
                "starttime": int(start.timestamp()),
                "endtime": int(end.timestamp()),
                "useridlist": self.user_ids[i : i + self.users_per_call],
            }
            doc = client.send(
                lambda body=body: {
                    "method": "POST",
                    "url": f"{base}/checkin/getcheckindata",
                    "params": {"access_token": token.get()},
                    "json": body,
                },
                check,
            )
            yield doc.get("checkindata") or []

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        user = rec.get("userid")
        if not user:
            raise Malformed("missing userid")
        seconds = rec.get("checkin_time")
        if not isinstance(seconds, int) or seconds <= 0:
            raise Malformed(f"checkin_time {seconds!r} is not a Unix time in seconds")
        t = datetime.fromtimestamp(seconds, UTC)
        return t, (
            str(user),
            rec.get("checkin_type"),
            rec.get("exception_type"),
            t,
            payload(rec),
        )


def _factory(settings: Settings) -> WeComCheckinStream:
    return WeComCheckinStream(
        api=ApiConfig.from_settings(settings, settings.wecom_url, "/wecom/cgi-bin"),
        corp_id=settings.wecom_corp_id,
        corp_secret=settings.wecom_corp_secret,
    )


STREAMS = {"wecom_checkins": ("wecom", _factory)}
