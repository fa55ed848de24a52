"""Douyin 抖店 order.searchList over update-time windows (Unix seconds), pages from 0.

A self-use app gets its token from ``token.create`` (grant ``authorization_self``) and,
when the API says the token expired, trades the refresh token at ``token.refresh`` and
repeats the call. Calls are signed md5(secret + app_key… + param_json… + timestamp… + v2 +
secret) in lowercase hex; success is ``code`` 10000; money is integer fen (kept as is in
the payload).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from ingest.core import SourceError
from ingest.http import ApiClient, AuthExpired, Retryable
from ingest.sources.api import (
    ApiConfig,
    Malformed,
    WindowedStream,
    json_body,
    pages_from_the_back,
    payload,
    text_id,
)
from ingest.sources.signing import douyin_param_json, douyin_sign
from warehouse.settings import Settings

TOKEN_CODES = {30002, 30005}  # access_token expired / invalid (fake-server codes; unverified)


def check(response: httpx.Response) -> dict:
    try:
        doc = json_body(response)
    except ValueError as exc:
        raise Retryable(f"HTTP {response.status_code}, not JSON: {response.text[:100]}") from exc
    code = doc.get("code", doc.get("err_no"))
    if code in (10000, 0):
        return doc.get("data") or {}
    text = f"douyin code {code} {doc.get('msg', doc.get('message', ''))} {doc.get('sub_code', '')}"
    if code in TOKEN_CODES:
        raise AuthExpired(text.strip())
    if code == 20000 or "isp.service-error" in str(doc.get("sub_code", "")):
        raise Retryable(text.strip())
    raise SourceError(text.strip())


@dataclass
class DouyinOrdersStream(WindowedStream):
    api: ApiConfig
    app_key: str
    app_secret: str
    shop_id: str
    size: int = 100
    window: timedelta = timedelta(days=7)
    name: str = "douyin_orders"
    source: str = "douyin"
    token: dict = field(default_factory=dict)

    def _signed(self, base: str, path: str, method: str, params: dict, token: bool) -> dict:
        param_json = douyin_param_json(params)
        timestamp = str(int(datetime.now(UTC).timestamp()))
        query = {
            "app_key": self.app_key,
            "method": method,
            "param_json": param_json,
            "timestamp": timestamp,
            "v": "2",
            "sign": douyin_sign(self.app_key, method, param_json, timestamp, self.app_secret),
        }
        if token:
            query["access_token"] = self.token.get("access_token", "")
        return {
            "method": "POST",
            "url": f"{base}{path}",
            "params": query,
            "content": param_json.encode(),
            "headers": {"Content-Type": "application/json"},
        }

    def session(self, client: ApiClient, base: str) -> None:
        grant = {"grant_type": "authorization_self", "shop_id": self.shop_id}
        self.token = client.send(
            lambda: self._signed(base, "/token/create", "token.create", grant, False), check
        )

        def refresh() -> None:
            body = {"grant_type": "refresh_token", "refresh_token": self.token["refresh_token"]}
            self.token = client.send(
                lambda: self._signed(base, "/token/refresh", "token.refresh", body, False), check
            )

        client.refresh = refresh

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        def call(no: int, size: int) -> dict:
            params = {
                "update_time_start": int(start.timestamp()),
                "update_time_end": int(end.timestamp()),
                "order_by": "update_time",
                "order_asc": False,
                "page": no,
                "size": size,
            }
            return client.send(
                lambda: self._signed(base, "/order/searchList", "order.searchList", params, True),
                check,
            )

        # last page first (``api.pages_from_the_back``): an order updated while we page
        # hides no other; a one-row probe gives ``total``
        total = int(call(0, 1).get("total", 0))
        return pages_from_the_back(
            total,
            self.size,
            lambda no: call(no, self.size).get("shop_order_list") or [],
            lambda o: (o.get("order_id"), o.get("update_time")),
            first=0,
        )

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        order_id = text_id(rec, "order_id")
        updated = rec.get("update_time")
        if not isinstance(updated, int) or updated <= 0:
            raise Malformed(f"update_time {updated!r} is not a Unix time in seconds")
        t = datetime.fromtimestamp(updated, UTC)
        status = rec.get("order_status")
        return t, ("douyin", order_id, t, None if status is None else str(status), payload(rec))


def _factory(settings: Settings) -> DouyinOrdersStream:
    return DouyinOrdersStream(
        api=ApiConfig.from_settings(settings, settings.douyin_url, "/douyin"),
        app_key=settings.douyin_app_key,
        app_secret=settings.douyin_app_secret,
        shop_id=settings.douyin_shop_id,
    )


STREAMS = {"douyin_orders": ("douyin", _factory)}
