"""JD (JOS) jingdong.pop.order.search over modified-time windows (dateType 0).

All business params travel as one JSON string in ``360buy_param_json``; requests are
signed upper(md5(secret + sorted k/v + secret)). Answers say ``…_responce`` (sic); a
business failure comes back as HTTP 200 with ``apiResult.success = false``; paging ends
when the rows received reach ``orderTotal`` or a page is short.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from ingest.core import SourceError
from ingest.http import ApiClient, AuthExpired, Retryable
from ingest.sources.api import (
    CST,
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
from ingest.sources.signing import jd_sign
from ingest.tokens import TokenStore
from warehouse.settings import Settings

METHOD = "jingdong.pop.order.search"
RESPONSE = "jingdong_pop_order_search_responce"
OPTIONAL_FIELDS = (
    "orderId,venderId,orderState,orderTotalPrice,orderSellerPrice,orderPayment,freightPrice,"
    "sellerDiscount,orderStartTime,paymentConfirmTime,orderEndTime,modified,consigneeInfo,"
    "itemInfoList,couponDetailList"
)


def check(response: httpx.Response) -> dict:
    try:
        doc = json_body(response)
    except ValueError as exc:
        raise Retryable(f"HTTP {response.status_code}, not JSON: {response.text[:100]}") from exc
    if "error_response" in doc:
        err = doc["error_response"]
        text = f"jd: error {err.get('code')} {err.get('zh_desc', '')} ({err.get('en_desc', '')})"
        if "access_token" in str(err.get("en_desc", "")).lower():
            raise AuthExpired(text)  # expired or revoked: renewed if a refresh token is set
        raise SourceError(text)
    result = doc[RESPONSE]["searchorderinfo_result"]
    api_result = result.get("apiResult") or {}
    if not api_result.get("success"):
        # HTTP 200 with a business failure: busy/limit messages are worth another try
        raise Retryable(
            f"jd apiResult failure: {api_result.get('chineseErrCode')} "
            f"({api_result.get('englishErrCode')})"
        )
    return result


@dataclass
class JdOrdersStream(WindowedStream):
    api: ApiConfig
    app_key: str
    app_secret: str
    access_token: str
    page_size: int = 100
    window: timedelta = timedelta(days=7)
    name: str = "jd_orders"
    source: str = "jd"
    refresh_token: str = ""
    oauth_url: str | None = None  # default: ``…/oauth2`` beside ``…/routerjson`` (demo)
    tokens: TokenStore | None = None  # renewed tokens kept for the next run

    def credentials(self) -> tuple:
        return self.access_token, self.refresh_token

    def use_credentials(self, credentials: tuple) -> None:
        self.access_token, self.refresh_token = credentials

    def session(self, client: ApiClient, base: str) -> None:
        self.load_tokens()
        if self.refresh_token:
            client.refresh = lambda: self._renew(client, base)

    def _renew(self, client: ApiClient, base: str) -> None:
        oauth = (self.oauth_url or base.removesuffix("/routerjson") + "/oauth2").rstrip("/")
        params = {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
        }
        url = f"{oauth}/refresh_token"
        token = client.send(lambda: {"method": "GET", "url": url, "params": params}, check_refresh)
        self.access_token = token["access_token"]
        self.refresh_token = token.get("refresh_token") or self.refresh_token
        # the next run starts from this token (JD's refresh tokens are single-use: the
        # configured one is spent now)
        self.save_tokens()

    def _request(self, base: str, start: datetime, end: datetime, page: int, size: int = 0) -> dict:
        business = {
            "start_date": cst(start),
            "end_date": cst(end),
            "order_state": "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,"
            "TRADE_CANCELED,LOCKED,POP_ORDER_PAUSE",
            "optional_fields": OPTIONAL_FIELDS,
            "page": str(page),
            "page_size": str(size or self.page_size),
            "sortType": 1,
            "dateType": 0,
        }
        now = datetime.now(CST)  # JD's documented form: 2021-05-07 09:20:39.683+0800
        params = {
            "method": METHOD,
            "app_key": self.app_key,
            "access_token": self.access_token,
            "timestamp": f"{now:%Y-%m-%d %H:%M:%S}.{now.microsecond // 1000:03d}+0800",
            "v": "2.0",
            "360buy_param_json": json.dumps(business, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = jd_sign(params, self.app_secret)
        return {"method": "POST", "url": base, "data": params}

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        # last page first (``api.pages_from_the_back``): an order modified while we page
        # hides no other; a one-row probe gives ``orderTotal``
        probe = client.send(lambda: self._request(base, start, end, 1, size=1), check)

        def page(no: int) -> list[dict]:
            return (
                client.send(lambda: self._request(base, start, end, no), check).get("orderInfoList")
                or []
            )

        total = int(probe.get("orderTotal") or 0)
        return pages_from_the_back(total, self.page_size, page, _version)

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        order_id = text_id(rec, "orderId")
        try:
            modified = from_cst(rec.get("modified"))
        except ValueError as exc:
            raise Malformed(f"modified: {exc}") from exc
        return modified, ("jd", order_id, modified, rec.get("orderState"), payload(rec))


def check_refresh(response: httpx.Response) -> dict:
    """The answer of open-oauth.jd.com ``/oauth2/refresh_token``: code 0 and the new token."""
    try:
        doc = json_body(response)
    except ValueError as exc:
        raise Retryable(f"HTTP {response.status_code}, not JSON: {response.text[:100]}") from exc
    if doc.get("code") not in (0, "0") or not doc.get("access_token"):
        raise SourceError(
            f"jd: the access token could not be renewed (code {doc.get('code')} "
            f"{doc.get('msg', '')}); re-authorize the shop"
        )
    return doc


def _version(order: dict) -> tuple[object, object]:
    return order.get("orderId"), order.get("modified")


def _factory(settings: Settings) -> JdOrdersStream:
    return JdOrdersStream(
        api=ApiConfig.from_settings(settings, settings.jd_url, "/jd/routerjson"),
        app_key=settings.jd_app_key,
        app_secret=settings.jd_app_secret,
        access_token=settings.jd_access_token,
        refresh_token=settings.jd_refresh_token,
        oauth_url=settings.jd_oauth_url,
        tokens=TokenStore.under(settings.home, "jd_orders", settings.jd_refresh_token),
    )


STREAMS = {"jd_orders": ("jd", _factory)}
