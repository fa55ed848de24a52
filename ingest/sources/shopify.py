"""Shopify Admin REST orders.json: ``updated_at`` windows, ``Link`` header cursor paging.

``status=any`` (the default ``open`` misses closed and cancelled orders); the token goes
in ``X-Shopify-Access-Token``; a 429 waits for ``Retry-After``. Next pages are followed
verbatim from ``rel="next"`` (with ``page_info`` only ``limit`` may be sent).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from ingest.core import SourceError
from ingest.http import ApiClient, Retryable, next_link, pages
from ingest.sources.api import ApiConfig, Malformed, WindowedStream, json_body, payload, text_id
from warehouse.settings import Settings


def check(response: httpx.Response) -> tuple[list[dict], str | None]:
    if response.status_code in (401, 403):
        raise SourceError(
            f"shopify: access refused (HTTP {response.status_code}): {response.text[:200]}; "
            "check the Admin API access token"
        )
    if response.status_code >= 400:
        raise SourceError(f"shopify: HTTP {response.status_code}: {response.text[:300]}")
    try:
        orders = json_body(response)["orders"]
    except (ValueError, KeyError) as exc:
        raise Retryable(f"not an orders page: {response.text[:100]}") from exc
    return orders, next_link(response)


def status_of(rec: dict) -> str:
    """``financial_status/fulfillment_status`` ('unfulfilled' for null)."""
    return f"{rec.get('financial_status')}/{rec.get('fulfillment_status') or 'unfulfilled'}"


@dataclass
class ShopifyOrdersStream(WindowedStream):
    api: ApiConfig
    access_token: str
    limit: int = 250
    window: timedelta = timedelta(days=7)
    name: str = "shopify_orders"
    source: str = "shopify"

    def make_client(self) -> ApiClient:
        return self.api.client(self.source, headers={"X-Shopify-Access-Token": self.access_token})

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        first = {
            "method": "GET",
            "url": f"{base}/orders.json",
            "params": {
                "status": "any",
                "updated_at_min": start.isoformat(),
                "updated_at_max": end.isoformat(),
                "limit": self.limit,
            },
        }

        def page(request: dict) -> tuple[list[dict], dict | None]:
            orders, link = client.send(lambda: request, check)
            return orders, {"method": "GET", "url": link} if link else None

        return pages(first, page)

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        return order_row(rec)


def order_row(rec: dict) -> tuple[datetime, tuple]:
    """A Shopify order (REST page or webhook body) → (updated_at, its raw row)."""
    order_id = text_id(rec, "id")
    try:
        updated = datetime.fromisoformat(rec.get("updated_at")).astimezone(UTC)
    except (TypeError, ValueError) as exc:
        raise Malformed(f"updated_at {rec.get('updated_at')!r} is not an ISO 8601 time") from exc
    return updated, ("shopify", order_id, updated, status_of(rec), payload(rec))


def _factory(settings: Settings) -> ShopifyOrdersStream:
    return ShopifyOrdersStream(
        api=ApiConfig.from_settings(settings, settings.shopify_url, "/shopify/admin/api/2024-10"),
        access_token=settings.shopify_access_token,
    )


STREAMS = {"shopify_orders": ("shopify", _factory)}
