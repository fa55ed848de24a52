"""Shopify order webhooks: verified by HMAC, stored once, landed beside the REST pull."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import func, select

from apps.ops.api.routes.webhooks import shopify_hmac
from apps.ops.models import ShopifyWebhook
from ingest.core import run_stream
from ingest.demo.servers import SESSION, DemoServer
from ingest.http import RetryPolicy
from ingest.sources.api import CST, ApiConfig, fixed
from ingest.sources.shopify import ShopifyOrdersStream
from ingest.sources.shopify_webhooks import ShopifyWebhooksStream
from warehouse.lake import Lake

URL = "/api/v1/webhooks/shopify/orders"
START = datetime(2026, 3, 1, tzinfo=CST)
ORDER = {
    "id": 5_800_000_000_017,
    "name": "#1017",
    "order_number": 1017,
    "created_at": "2026-03-02T10:15:00+08:00",
    "updated_at": "2026-03-02T10:15:00+08:00",
    "financial_status": "paid",
    "fulfillment_status": None,
    "currency": "CNY",
    "total_price": "259.00",
    "customer": {"id": 7_100_000_000_001, "email": "li.wei@example.cn"},
    "shipping_address": {"province": "浙江", "city": "杭州", "country_code": "CN"},
    "line_items": [{"id": 1, "sku": "OL-KIT-0001", "quantity": 2, "price": "129.50"}],
}


def deliver(client, order: dict, webhook_id: str, secret: str, topic: str = "orders/updated"):
    body = json.dumps(order, ensure_ascii=False).encode()
    return client.post(
        URL,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": shopify_hmac(body, secret),
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Shop-Domain": "opslake-demo.myshopify.com",
            "X-Shopify-API-Version": "2024-10",
        },
    )


def stored(client) -> list[ShopifyWebhook]:
    with client.app.state.sessionmaker() as session:
        return list(session.scalars(select(ShopifyWebhook).order_by(ShopifyWebhook.id)))


def test_a_wrong_or_missing_signature_is_401_and_nothing_is_stored(client, settings) -> None:
    wrong = deliver(client, ORDER, "w-1", secret="not-the-shared-secret")
    assert wrong.status_code == 401
    assert "X-Shopify-Hmac-Sha256 does not match" in wrong.json()["detail"]
    body = json.dumps(ORDER).encode()
    tampered = client.post(  # signed, then changed in transit
        URL,
        content=body.replace(b"259.00", b"1.00"),
        headers={
            "X-Shopify-Topic": "orders/updated",
            "X-Shopify-Hmac-Sha256": shopify_hmac(body, settings.shopify_webhook_secret),
            "X-Shopify-Webhook-Id": "w-2",
        },
    )
    assert tampered.status_code == 401
    unsigned = client.post(URL, content=body, headers={"X-Shopify-Webhook-Id": "w-3"})
    assert unsigned.status_code == 401
    assert "missing" in unsigned.json()["detail"]
    assert stored(client) == []


def test_the_same_webhook_twice_is_stored_once_and_bad_input_is_a_clear_400(
    client, settings
) -> None:
    secret = settings.shopify_webhook_secret
    first = deliver(client, ORDER, "w-10", secret)
    again = deliver(client, ORDER, "w-10", secret)  # Shopify's retry of the same delivery
    assert first.status_code == again.status_code == 200
    assert (first.json()["stored"], again.json()["duplicate"]) == (True, True)
    other = deliver(client, ORDER | {"financial_status": "refunded"}, "w-11", secret)
    assert other.json()["stored"] is True
    rows = stored(client)
    assert [r.webhook_id for r in rows] == ["w-10", "w-11"]
    assert json.loads(rows[0].body) == ORDER  # the raw body, as signed
    assert rows[0].topic == "orders/updated" and rows[0].shop_domain.endswith("myshopify.com")

    paid = deliver(client, ORDER, "w-12", secret, topic="orders/paid")
    assert paid.status_code == 400 and "orders/create" in paid.json()["detail"]
    no_id = deliver(client, {"name": "#1"}, "w-13", secret)
    assert no_id.status_code == 400 and "'id'" in no_id.json()["detail"]
    with client.app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ShopifyWebhook)) == 2


def _raw(lake: Lake) -> list[tuple]:
    with lake.reading() as con:
        return con.sql(
            "SELECT channel, order_id, modified_at, status, payload FROM raw.shopify_orders "
            "ORDER BY modified_at, _received_at"
        ).fetchall()


def _latest(lake: Lake) -> list[tuple]:
    """What staging keeps: the latest version per (channel, order id) by modified time."""
    with lake.reading() as con:
        return con.sql(
            "SELECT channel, order_id, status FROM (SELECT *, row_number() OVER (PARTITION BY "
            "channel, order_id ORDER BY modified_at DESC, _received_at DESC) AS k "
            "FROM raw.shopify_orders) WHERE k = 1"
        ).fetchall()


def test_a_webhook_update_lands_in_the_rest_streams_table_with_the_same_columns(
    client, settings, tmp_path: Path, extension_dir: Path
) -> None:
    demo = tmp_path / "demo"
    (demo / "shopify").mkdir(parents=True)
    (demo / "shopify" / "orders.jsonl").write_bytes(orjson.dumps(ORDER) + b"\n")
    lake = Lake(tmp_path / "lake" / "catalog.sqlite", tmp_path / "lake" / "data", extension_dir)
    lake.init()
    until = START + timedelta(days=3)
    with DemoServer(demo) as server:
        api = ApiConfig(
            fixed(server.url + "/shopify/admin/api/2024-10"),
            START,
            timeout=5,
            policy=RetryPolicy(attempts=2, base=0.01),
            until=lambda: until,
        )
        rest = ShopifyOrdersStream(api, SESSION)
        assert run_stream(lake, rest).rows_landed == 1
    (from_api,) = _raw(lake)

    hooks = ShopifyWebhooksStream(settings.app_db, settle_seconds=0)
    secret = settings.shopify_webhook_secret
    # the creation again by webhook: the same raw row as the REST pull's
    assert deliver(client, ORDER, "w-create", secret, topic="orders/create").status_code == 200
    assert run_stream(lake, hooks).rows_landed == 1
    assert _raw(lake) == [from_api, from_api]

    refunded = ORDER | {"updated_at": "2026-03-02T18:00:00+08:00", "financial_status": "refunded"}
    assert deliver(client, refunded, "w-update", secret).status_code == 200
    assert deliver(client, {"id": 9, "updated_at": "yesterday"}, "w-bad", secret).status_code == 200
    result = run_stream(lake, hooks)
    assert (result.rows_landed, result.rows_quarantined) == (1, 1)
    *_, update = _raw(lake)
    assert update[:4] == (
        "shopify",
        "5800000000017",
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        "refunded/unfulfilled",
    )
    assert orjson.loads(update[4]) == refunded
    assert _latest(lake) == [("shopify", "5800000000017", "refunded/unfulfilled")]
    with lake.reading() as con:
        reason = con.sql("SELECT location, reason FROM raw._quarantine").fetchone()
        cursors = dict(con.sql("SELECT stream, cursor FROM raw._cursors").fetchall())
    assert "webhook w-bad" in reason[0] and "not an ISO 8601 time" in reason[1]
    # each stream keeps its own cursor; running both again lands nothing
    assert set(cursors) == {"shopify_orders", "shopify_order_webhooks"}
    assert run_stream(lake, hooks).rows_landed == 0
    assert run_stream(lake, ShopifyWebhooksStream(settings.app_db)).rows_landed == 0
    assert len(_raw(lake)) == 3


def test_no_app_store_or_no_webhook_table_means_nothing_to_land(
    tmp_path: Path, extension_dir: Path
) -> None:
    lake = Lake(tmp_path / "catalog.sqlite", tmp_path / "data", extension_dir)
    lake.init()
    missing = tmp_path / "never-created.db"
    assert run_stream(lake, ShopifyWebhooksStream(f"sqlite:///{missing}")).rows_landed == 0
    assert not missing.exists()
