"""OMS through the API: review holds, routing by region, split shipments, carrier tracking
(a fake carrier HTTP server), returns that restock, and the available-to-sell feed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.ops.api.routes.oms import oms_service
from apps.ops.oms.config import Carrier
from tests.ops.conftest import headers_for

ADDRESS = {
    "customer_name": "李四",
    "phone": "13900139000",
    "province": "广东",
    "city": "广州",
    "address": "天河区体育西路 1 号",
}


class FakeCarrier(BaseHTTPRequestHandler):
    statuses: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's API
        number = self.path.rsplit("/", 1)[-1]
        if number not in self.statuses:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(
            {"status": self.statuses[number], "events": [{"status": self.statuses[number]}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def carrier() -> Iterator[tuple[str, dict[str, str]]]:
    FakeCarrier.statuses = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCarrier)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", FakeCarrier.statuses
    finally:
        server.shutdown()


def put_stock(client, headers, sku: str, warehouse: str, on_hand: int) -> None:
    body = {"sku": sku, "warehouse": warehouse, "on_hand": on_hand}
    assert client.put("/api/v1/oms/stock", headers=headers, json=body).status_code == 200


def order(client, headers, external_id: str, lines, **extra):
    body = {"channel": "tmall", "external_id": external_id, **ADDRESS, "lines": lines, **extra}
    response = client.post("/api/v1/oms/orders", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_routing_split_tracking_returns_and_ats(client, carrier):
    admin = headers_for(client, "admin")
    carrier_url, statuses = carrier
    service = oms_service(client.app.state)  # the fake carrier stands in for "sf"
    service.config = service.config.model_copy(
        update={"carriers": {"sf": Carrier(tracking_url=carrier_url)}}
    )
    put_stock(client, admin, "OL-A-1", "WH01", 5)
    put_stock(client, admin, "OL-A-1", "WH02", 5)

    # a Guangdong customer is served from Guangzhou (WH02) when it can fill the order
    near = order(client, admin, "T1", [{"sku": "OL-A-1", "quantity": 2, "unit_price": "10.00"}])
    assert near["status"] == "allocated"
    assert [a["warehouse"] for a in near["allocations"]] == ["WH02"]
    # the same channel order again is the same order (idempotent intake)
    assert (
        order(client, admin, "T1", [{"sku": "OL-A-1", "quantity": 2, "unit_price": "10.00"}])["id"]
        == near["id"]
    )

    # 7 more: no single warehouse has them (WH02 3, WH01 5) → split, nearest first
    split = order(client, admin, "T2", [{"sku": "OL-A-1", "quantity": 7, "unit_price": "10.00"}])
    assert split["status"] == "allocated"
    assert sorted((a["warehouse"], a["quantity"]) for a in split["allocations"]) == [
        ("WH01", 4),
        ("WH02", 3),
    ]
    feed = client.get("/api/v1/oms/ats", headers=admin, params={"channel": "tmall"}).json()
    assert feed == {"channel": "tmall", "data": [{"sku": "OL-A-1", "available": 0}]}  # 1 - 2

    shipped = client.post(
        f"/api/v1/oms/orders/{split['id']}/ship", headers=admin, json={"carrier": "sf"}
    ).json()
    assert shipped["status"] == "shipped" and len(shipped["shipments"]) == 2  # two parcels
    numbers = [s["tracking_no"] for s in shipped["shipments"]]
    statuses[numbers[0]] = "in_transit"
    changed = client.post("/api/v1/oms/tracking/refresh", headers=admin).json()
    assert changed == {"changed": 1}  # the other parcel is not scanned yet (404)
    statuses.update({n: "delivered" for n in numbers})
    client.post("/api/v1/oms/tracking/refresh", headers=admin)
    delivered = client.get(f"/api/v1/oms/orders/{split['id']}", headers=admin).json()
    assert delivered["status"] == "delivered"
    assert {s["status"] for s in delivered["shipments"]} == {"delivered"}

    # a return restocks the resellable units into the receiving warehouse
    rma = client.post(
        f"/api/v1/oms/orders/{split['id']}/returns",
        headers=admin,
        json={
            "warehouse": "WH02",
            "lines": [
                {"sku": "OL-A-1", "quantity": 2},
                {"sku": "OL-A-1", "quantity": 1, "condition": "damaged"},
            ],
        },
    )
    assert rma.status_code == 201, rma.text
    feed = client.get("/api/v1/oms/ats", headers=admin, params={"channel": "shopify"}).json()
    assert feed["data"] == [{"sku": "OL-A-1", "available": 1}]  # WH01: 5 - 4 shipped
    too_many = client.post(
        f"/api/v1/oms/orders/{split['id']}/returns",
        headers=admin,
        json={"warehouse": "WH02", "lines": [{"sku": "OL-A-1", "quantity": 5}]},
    )
    assert too_many.status_code == 409


def test_review_holds_doubtful_orders_until_a_person_releases_them(client):
    admin = headers_for(client, "admin")
    put_stock(client, admin, "OL-B-1", "WH01", 10)
    held = order(
        client,
        admin,
        "T9",
        [{"sku": "OL-B-1", "quantity": 1, "unit_price": "10.00"}],
        address="",
        phone="00000000000",
    )
    assert held["status"] == "on_hold" and held["allocations"] == []
    assert {r["check"] for r in held["review"]} == {"address_complete", "risk_blocked_phone"}
    assert "Incomplete shipping details" in held["reason"]
    operator = headers_for(client, "operator")
    assert (
        client.post(f"/api/v1/oms/orders/{held['id']}/release", headers=operator).status_code == 403
    )
    released = client.post(f"/api/v1/oms/orders/{held['id']}/release", headers=admin).json()
    assert released["status"] == "allocated"
