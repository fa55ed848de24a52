"""Tmall/Taobao (TOP): taobao.trades.sold.increment.get over 1-day modified windows.

Signed form POSTs (md5 over the sorted params, secret-wrapped). As TOP's docs advise, a
window is read from its last page back to page 1 (a one-row probe gives ``total_results``),
so a trade modified while we page hides no other (``api.pages_from_the_back``).
TOP's code 7 "This ban will last for N more seconds" waits N seconds. Codes 26/27 (session
missing, invalid or expired) renew the session with ``taobao.top.auth.token.refresh`` when a
refresh token is configured and repeat the call; without one the run stops (re-authorize).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import orjson

from ingest.core import SourceError
from ingest.http import ApiClient, AuthExpired, Retryable
from ingest.sources.api import (
    ApiConfig,
    Malformed,
    WindowedStream,
    cst,
    from_cst,
    json_body,
    pages_from_the_back,
    payload,
    text_id,
)
from ingest.sources.signing import top_sign
from warehouse.settings import Settings

METHOD = "taobao.trades.sold.increment.get"
REFRESH_METHOD = "taobao.top.auth.token.refresh"
SESSION_CODES = {26, 27}  # missing / invalid (or expired) session
FIELDS = "tid,tid_str,status,type,created,modified,payment,total_fee,post_fee,orders"
_BAN = re.compile(r"ban will last for (\d+(?:\.\d+)?)", re.I)
RETRY_CODES = {7, 10, 20, 520}  # call limited, service unavailable, platform errors


def check(response: httpx.Response) -> dict:
    """The ``trades_sold_increment_get_response`` or a Retryable/SourceError."""
    try:
        doc = json_body(response)
    except ValueError as exc:
        raise Retryable(f"HTTP {response.status_code}, not JSON: {response.text[:100]}") from exc
    err = doc.get("error_response")
    if err:
        text = f"TOP error {err.get('code')} {err.get('msg')} {err.get('sub_code', '')} " + str(
            err.get("sub_msg", "")
        )
        ban = _BAN.search(str(err.get("sub_msg", "")) + str(err.get("msg", "")))
        if ban:
            raise Retryable(text.strip(), after=float(ban.group(1)))
        if int(err.get("code", 0)) in RETRY_CODES or "isp." in str(err.get("sub_code", "")):
            raise Retryable(text.strip())
        if int(err.get("code", 0)) in SESSION_CODES:
            raise AuthExpired(text.strip())
        raise SourceError(f"tmall: {text.strip()}")
    return doc["trades_sold_increment_get_response"]


def check_refresh(response: httpx.Response) -> dict:
    """The new token of ``taobao.top.auth.token.refresh`` (``token_result`` is JSON text)."""
    try:
        doc = json_body(response)
        err = doc.get("error_response")
        if err:
            raise SourceError(
                f"tmall: the session could not be renewed (TOP error {err.get('code')} "
                f"{err.get('sub_code', '')} {err.get('sub_msg', err.get('msg', ''))}); "
                "re-authorize the shop"
            )
        return orjson.loads(doc["top_auth_token_refresh_response"]["token_result"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Retryable(f"not a token refresh answer: {response.text[:100]}") from exc


@dataclass
class TmallTradesStream(WindowedStream):
    api: ApiConfig
    app_key: str
    app_secret: str
    session_key: str
    page_size: int = 100
    name: str = "tmall_trades"
    source: str = "tmall"
    refresh_token: str = ""
    fetchers: int = 4  # windows in flight (TOP counts calls per day, not connections)

    def session(self, client: ApiClient, base: str) -> None:
        if self.refresh_token:
            client.refresh = lambda: self._renew(client, base)

    def _renew(self, client: ApiClient, base: str) -> None:
        def build() -> dict:
            params = {
                "method": REFRESH_METHOD,
                "app_key": self.app_key,
                "timestamp": cst(datetime.now()),
                "format": "json",
                "v": "2.0",
                "sign_method": "md5",
                "refresh_token": self.refresh_token,
            }
            params["sign"] = top_sign(params, self.app_secret)
            return {"method": "POST", "url": base, "data": params}

        token = client.send(build, check_refresh)
        self.session_key = token["access_token"]
        self.refresh_token = token.get("refresh_token") or self.refresh_token

    def _request(
        self, base: str, start: datetime, end: datetime, page_no: int, size: int = 0
    ) -> dict:
        params = {
            "method": METHOD,
            "app_key": self.app_key,
            "session": self.session_key,
            "timestamp": cst(datetime.now()),
            "format": "json",
            "v": "2.0",
            "sign_method": "md5",
            "fields": FIELDS,
            "start_modified": cst(start),
            "end_modified": cst(end),
            "page_no": str(page_no),
            "page_size": str(size or self.page_size),
        }
        params["sign"] = top_sign(params, self.app_secret)
        return {"method": "POST", "url": base, "data": params}

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        probe = client.send(lambda: self._request(base, start, end, 1, size=1), check)

        def page(no: int) -> list[dict]:
            body = client.send(lambda: self._request(base, start, end, no), check)
            return (body.get("trades") or {}).get("trade") or []

        total = int(probe.get("total_results") or 0)
        return pages_from_the_back(total, self.page_size, page, _version)

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        order_id = text_id(rec, "tid_str", "tid")
        try:
            modified = from_cst(rec.get("modified"))
        except ValueError as exc:
            raise Malformed(f"modified: {exc}") from exc
        return modified, ("tmall", order_id, modified, rec.get("status"), payload(rec))


def _version(trade: dict) -> tuple[object, object]:
    return trade.get("tid_str") or trade.get("tid"), trade.get("modified")


def _factory(settings: Settings) -> TmallTradesStream:
    return TmallTradesStream(
        api=ApiConfig.from_settings(settings, settings.tmall_url, "/tmall/router/rest"),
        app_key=settings.tmall_app_key,
        app_secret=settings.tmall_app_secret,
        session_key=settings.tmall_session,
        refresh_token=settings.tmall_refresh_token,
    )


STREAMS = {"tmall_trades": ("tmall", _factory)}
