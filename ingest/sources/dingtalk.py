"""DingTalk (钉钉) oapi: attendance results by work-date windows, and the user list.

``gettoken`` gives an access token valid ``expires_in`` seconds; it is renewed a minute
before it runs out and whenever the API answers errcode 88 with a token sub_code.
``attendance/list`` takes at most 7 days and 50 users per call and pages by
offset/limit until ``hasMore`` is false; users come from ``department/list`` +
``topapi/v2/user/list`` (cursor paging).
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pyarrow as pa

from ingest.core import SourceError, batch_id
from ingest.http import ApiClient, AuthExpired, Retryable, pages
from ingest.sources.api import (
    CST,
    ApiConfig,
    Malformed,
    WindowedStream,
    cst,
    json_body,
    payload,
    text_id,
)
from warehouse.loader import Batch
from warehouse.settings import Settings

TOKEN_SUB_CODES = {"40014", "42001", "40001"}  # invalid / expired access token

ATTENDANCE_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("user_id", pa.string()),
        ("work_date", pa.date32()),
        ("check_type", pa.string()),
        ("time_result", pa.string()),
        ("check_time", pa.timestamp("us", tz="UTC")),
        ("payload", pa.string()),
    ]
)
USERS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("name", pa.string()),
        ("dept_ids", pa.string()),
        ("active", pa.bool_()),
        ("snapshot_id", pa.string()),
        ("payload", pa.string()),
    ]
)


def check(response: httpx.Response) -> dict:
    try:
        doc = json_body(response)
    except ValueError as exc:
        raise Retryable(f"HTTP {response.status_code}, not JSON: {response.text[:100]}") from exc
    code = doc.get("errcode", 0)
    if code == 0:
        return doc
    text = f"dingtalk errcode {code} {doc.get('errmsg', '')} {doc.get('sub_code', '')}".strip()
    if code == 88 and str(doc.get("sub_code", "")) in TOKEN_SUB_CODES or code in (40014, 42001):
        raise AuthExpired(text)
    if code == -1 or 90000 <= int(code) < 91000:
        raise Retryable(text)
    raise SourceError(text)


@dataclass
class Token:
    """The access token of one run: fetched on demand, renewed before it runs out."""

    base: str
    app_key: str
    app_secret: str
    client: ApiClient
    value: str = ""
    expires: float = 0.0

    def get(self) -> str:
        if clock.monotonic() > self.expires - 60:
            self.renew()
        return self.value

    def renew(self) -> None:
        doc = self.client.send(
            lambda: {
                "method": "GET",
                "url": f"{self.base}/gettoken",
                "params": {"appkey": self.app_key, "appsecret": self.app_secret},
            },
            check,
        )
        self.value = doc["access_token"]
        self.expires = clock.monotonic() + float(doc.get("expires_in", 7200))


def list_users(client: ApiClient, base: str, token: Token) -> list[dict]:
    """Every user of every department, once each (department/list + user/list pages)."""
    depts = list_departments(client, base, token)
    users: dict[str, dict] = {}
    for dept in depts:

        def page(cursor: int, dept_id: int = dept["id"]) -> tuple[list[dict], int | None]:
            result = client.send(
                lambda: {
                    "method": "POST",
                    "url": f"{base}/topapi/v2/user/list",
                    "params": {"access_token": token.get()},
                    "json": {"dept_id": dept_id, "cursor": cursor, "size": 100},
                },
                check,
            )["result"]
            return result["list"], result.get("next_cursor") if result.get("has_more") else None

        for chunk in pages(0, page):
            for user in chunk:
                users.setdefault(str(user["userid"]), user)
    return [users[k] for k in sorted(users)]


@dataclass
class DingTalkAttendanceStream(WindowedStream):
    api: ApiConfig
    app_key: str
    app_secret: str
    window: timedelta = timedelta(days=7)
    name: str = "dingtalk_attendance"
    source: str = "dingtalk"
    schema: pa.Schema = field(default_factory=lambda: ATTENDANCE_SCHEMA)
    primary_key: tuple[str, ...] = ("record_id",)
    cursor_field: str | None = "work_date"
    user_ids: list[str] = field(default_factory=list)
    token: Token | None = None

    def session(self, client: ApiClient, base: str) -> None:
        self.token = Token(base, self.app_key, self.app_secret, client)
        client.refresh = self.token.renew
        self.user_ids = [u["userid"] for u in list_users(client, base, self.token)]

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        assert self.token is not None
        token = self.token
        for i in range(0, len(self.user_ids), 50):
            users = self.user_ids[i : i + 50]

            def page(offset: int, users: list[str] = users) -> tuple[list[dict], int | None]:
                doc = client.send(
                    lambda: {
                        "method": "POST",
                        "url": f"{base}/attendance/list",
                        "params": {"access_token": token.get()},
                        "json": {
                            "workDateFrom": cst(start),
                            "workDateTo": cst(end),
                            "userIdList": users,
                            "offset": offset,
                            "limit": 50,
                            "isI18n": False,
                        },
                    },
                    check,
                )
                return doc.get("recordresult") or [], offset + 50 if doc.get("hasMore") else None

            yield from pages(0, page)

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        record_id = text_id(rec, "id")
        work_date = rec.get("workDate")
        if not isinstance(work_date, int):
            raise Malformed(f"workDate {work_date!r} is not a time in milliseconds")
        t = datetime.fromtimestamp(work_date / 1000, UTC)
        checked = rec.get("userCheckTime")
        check_time = (
            datetime.fromtimestamp(checked / 1000, UTC) if isinstance(checked, int) else None
        )
        return t, (
            record_id,
            str(rec.get("userId") or ""),
            t.astimezone(CST).date(),
            rec.get("checkType"),
            rec.get("timeResult"),
            check_time,
            payload(rec),
        )


def list_departments(client: ApiClient, base: str, token: Token) -> list[dict]:
    return client.send(
        lambda: {
            "method": "GET",
            "url": f"{base}/department/list",
            "params": {"access_token": token.get()},
        },
        check,
    )["department"]


def _user_row(u: dict) -> dict:
    return {
        "user_id": str(u.get("userid")),
        "name": u.get("name"),
        "dept_ids": orjson.dumps(u.get("dept_id_list", [])).decode(),
        "active": u.get("active"),
    }


def _department_row(d: dict) -> dict:
    parent = d.get("parentid")
    return {
        "department_id": str(d.get("id")),
        "name": d.get("name"),
        "parent_id": None if parent is None else str(parent),
    }


DEPARTMENTS_SCHEMA = pa.schema(
    [
        ("department_id", pa.string()),
        ("name", pa.string()),
        ("parent_id", pa.string()),
        ("snapshot_id", pa.string()),
        ("payload", pa.string()),
    ]
)


@dataclass
class DingTalkSnapshotStream:
    """A whole list (users or departments) per run; an unchanged list lands nothing new."""

    api: ApiConfig
    app_key: str
    app_secret: str
    kind: str = "users"  # users | departments
    source: str = "dingtalk"
    cursor_field: str | None = None

    def __post_init__(self) -> None:
        self.name = f"dingtalk_{self.kind}"
        users = self.kind == "users"
        self.schema = USERS_SCHEMA if users else DEPARTMENTS_SCHEMA
        self.primary_key = ("snapshot_id", "user_id" if users else "department_id")
        self._list = list_users if users else list_departments
        self._row = _user_row if users else _department_row

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        with self.api.endpoint() as base, self.api.client(self.source) as client:
            token = Token(base, self.app_key, self.app_secret, client)
            client.refresh = token.renew
            items = self._list(client, base, token)
        texts = [payload(item) for item in items]
        snapshot = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:32]
        if snapshot in landed_parts:
            return
        rows = [
            self._row(item) | {"snapshot_id": snapshot, "payload": text}
            for item, text in zip(items, texts, strict=True)
        ]
        yield Batch(
            stream=self.name,
            batch_id=batch_id(self.name, snapshot),
            source=self.source,
            rows=pa.Table.from_pylist(rows, schema=self.schema),
            parts=[(snapshot, f"{len(items)} {self.kind}")],
        )


def _api(settings: Settings) -> ApiConfig:
    return ApiConfig.from_settings(settings, settings.dingtalk_url, "/dingtalk")


STREAMS = {
    "dingtalk_attendance": (
        "dingtalk",
        lambda s: DingTalkAttendanceStream(_api(s), s.dingtalk_app_key, s.dingtalk_app_secret),
    ),
    "dingtalk_users": (
        "dingtalk",
        lambda s: DingTalkSnapshotStream(_api(s), s.dingtalk_app_key, s.dingtalk_app_secret),
    ),
    "dingtalk_departments": (
        "dingtalk",
        lambda s: DingTalkSnapshotStream(
            _api(s), s.dingtalk_app_key, s.dingtalk_app_secret, "departments"
        ),
    ),
}
