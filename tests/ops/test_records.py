from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.ops.conftest import VALID_DATA, submit


def test_submit_valid_record_then_list_it(client, auth_headers):
    response = submit(client, auth_headers, VALID_DATA)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["data"] == VALID_DATA
    assert record["form_name"] == "stock_adjustment"
    assert record["form_version"] == 1
    assert record["status"] == "submitted"
    assert record["created_by"] == "operator"
    assert record["created_at"] == record["updated_at"]
    assert record["created_at"].endswith("Z") or record["created_at"].endswith("+00:00")
    assert response.headers["location"] == f"/api/v1/forms/stock_adjustment/records/{record['id']}"

    listed = client.get("/api/v1/forms/stock_adjustment/records", headers=auth_headers)
    assert listed.status_code == 200
    page = listed.json()
    assert page["count"] == 1
    assert page["data"] == [record]

    one = client.get(response.headers["location"], headers=auth_headers)
    assert one.status_code == 200
    assert one.json() == record


def test_values_are_cleaned_and_optional_fields_stored_as_null(client, auth_headers):
    data = {"warehouse": "WH03", "sku": "  OL-STO-0007 ", "quantity": "12", "reason": "count"}
    response = submit(client, auth_headers, data)
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {
        "warehouse": "WH03",
        "sku": "OL-STO-0007",
        "quantity": 12,
        "reason": "count",
        "note": None,
    }


def test_invalid_data_is_422_with_the_fields_named(client, auth_headers):
    bad = {**VALID_DATA, "sku": "ol kit 1", "quantity": 0, "warehouse": "WH99", "colour": "red"}
    del bad["reason"]
    response = submit(client, auth_headers, bad)
    assert response.status_code == 422
    body = response.json()
    assert set(body["errors"]) == {"sku", "quantity", "warehouse", "reason", "colour"}
    assert body["errors"]["quantity"] == "Quantity must not be zero."
    assert body["errors"]["reason"].startswith("Reason is required")
    assert "capital letters" in body["errors"]["sku"]
    assert "WH01" in body["errors"]["warehouse"]
    assert body["errors"]["colour"] == "This form has no field named “colour”."
    assert body["detail"].startswith("Some fields are not valid: Warehouse, SKU, Quantity")
    # nothing was stored
    listed = client.get("/api/v1/forms/stock_adjustment/records", headers=auth_headers)
    assert listed.json()["count"] == 0


def test_validation_messages_follow_the_language(client, auth_headers):
    data = {**VALID_DATA, "quantity": 1.5}
    zh = client.post(
        "/api/v1/forms/stock_adjustment/records",
        headers={**auth_headers, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"},
        json={"data": data},
    )
    assert zh.status_code == 422
    assert zh.json()["errors"] == {"quantity": "调整数量必须是整数。"}
    en = client.post(
        "/api/v1/forms/stock_adjustment/records?lang=en",
        headers={**auth_headers, "Accept-Language": "zh-CN"},
        json={"data": data},
    )
    assert en.json()["errors"] == {"quantity": "Quantity must be a whole number."}


def test_unknown_form_is_404_with_a_message(client, auth_headers):
    for method, path in [
        ("post", "/api/v1/forms/purchase_order/records"),
        ("get", "/api/v1/forms/purchase_order/records"),
        ("get", "/api/v1/forms/purchase_order"),
        ("get", "/api/v1/forms/purchase_order/schema"),
    ]:
        response = client.request(method, path, headers=auth_headers, json={"data": {}})
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "There is no form named “purchase_order”."}

    missing = client.get("/api/v1/forms/stock_adjustment/records/999", headers=auth_headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Form “stock_adjustment” has no record 999."


@pytest.mark.parametrize(
    ("body", "error_key"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"data": [1]}', "data"),
        (b'{"data": "x"}', "data"),
        (b"{}", "data"),
        (b'{"data": {}, "extra": 1}', "extra"),
        (b'{"data": {"quantity": NaN}}', None),
        (b'{"data": {"quantity": 1e400}}', None),
        (b'{"data": {"quantity": 99999999999999999999999}}', None),
        (b'{"data": {"sku": ["A"], "quantity": {"x": 1}, "warehouse": 1}}', None),
        (b'{"data": {"quantity": true, "note": 5}}', None),
    ],
)
def test_malformed_requests_are_understandable_4xx(client, auth_headers, body, error_key):
    response = client.post(
        "/api/v1/forms/stock_adjustment/records",
        headers={**auth_headers, "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 422, response.text
    payload = response.json()
    assert isinstance(payload["detail"], str) and payload["detail"]
    assert all(isinstance(message, str) for message in payload["errors"].values())
    if error_key:
        assert error_key in payload["errors"]


def test_pagination(client, auth_headers):
    for quantity in (1, 2, 3):
        assert submit(client, auth_headers, {**VALID_DATA, "quantity": quantity}).status_code == 201
    url = "/api/v1/forms/stock_adjustment/records"
    first = client.get(url, params={"limit": 2}, headers=auth_headers).json()
    second = client.get(url, params={"limit": 2, "offset": 2}, headers=auth_headers).json()
    assert first["count"] == second["count"] == 3
    assert [r["data"]["quantity"] for r in first["data"]] == [3, 2]  # newest first
    assert [r["data"]["quantity"] for r in second["data"]] == [1]

    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "ten"}):
        response = client.get(url, params=params, headers=auth_headers)
        assert response.status_code == 422
        assert set(response.json()["errors"]) == set(params)


def test_form_records_table_matches_the_connector_contract(client, auth_headers, settings):
    assert submit(client, auth_headers, VALID_DATA).status_code == 201
    engine = create_engine(settings.app_db)
    try:
        inspector = inspect(engine)
        columns = [column["name"] for column in inspector.get_columns("form_records")]
        assert columns == [
            "id",
            "form_name",
            "form_version",
            "data",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("form_records")}
        assert indexes["ix_form_records_updated_at"][0] == "updated_at"
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT data, updated_at FROM form_records")).one()
    finally:
        engine.dispose()
    # data is a JSON string, Chinese kept readable; timestamps are UTC text that sorts
    assert "跌落破损" in raw.data
    assert json.loads(raw.data) == VALID_DATA
    assert len(raw.updated_at) == len("2025-01-01 00:00:00.000000")
