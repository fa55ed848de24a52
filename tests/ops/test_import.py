"""Excel/CSV import: row-by-row validation, partial and all-or-nothing imports, limits,
and the audit trail (issue #6)."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from apps.ops.audit import verify
from apps.ops.core.config import BUILTIN_FORMS_DIR
from apps.ops.forms.importer import MAX_IMPORT_BYTES
from apps.ops.models import AuditEntry, FlowInstance, FormRecord
from tests.ops.conftest import headers_for

STOCK = "/api/v1/forms/stock_adjustment/import"
PURCHASE = "/api/v1/forms/purchase_request/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    """Only the forms these tests use; buyers may import purchase requests."""
    folder = tmp_path / "forms"
    folder.mkdir()
    shutil.copy(BUILTIN_FORMS_DIR / "stock_adjustment.yaml", folder)
    text = (BUILTIN_FORMS_DIR / "purchase_request.yaml").read_text(encoding="utf-8")
    grant = "    manager: {actions: [create, read], scope: department}\n"
    assert grant in text
    text = text.replace(grant, grant + "    buyer: {actions: [create, read, import], scope: own}\n")
    (folder / "purchase_request.yaml").write_text(text, encoding="utf-8")
    return folder


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, url: str, name: str, content: bytes, headers, **params: Any):
    kind = XLSX if name.endswith(".xlsx") else "text/csv"
    return client.post(url, headers=headers, params=params, files={"file": (name, content, kind)})


def count_records(client, form: str) -> int:
    with client.app.state.sessionmaker() as session:
        return session.scalar(
            select(func.count()).select_from(FormRecord).where(FormRecord.form_name == form)
        )


def test_xlsx_with_chinese_labels_stores_good_rows_and_reports_bad_ones(client):
    headers = headers_for(client, "operator")
    content = xlsx(
        [
            ["仓库", "商品编码（SKU）", "调整数量", "调整原因", "备注"],
            ["WH01", "OL-KIT-0001", -2, "damage", "跌落破损"],
            ["WH02", "bad sku", 5, "count", None],  # line 3: pattern
            [None, None, None, None, None],  # blank lines are skipped, numbering kept
            ["WH03", 12345, 1.0, "return", "退货"],  # a number typed into the SKU column
            ["WH09", "OL-KIT-0002", 0, "other", None],  # line 6: warehouse and zero
        ]
    )
    response = upload(client, STOCK, "调整.xlsx", content, headers, lang="zh-CN")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 2 and len(body["record_ids"]) == 2
    rejected = {row["row"]: row["errors"] for row in body["rejected"]}
    assert set(rejected) == {3, 6}
    assert "商品编码" in rejected[3]["sku"]
    assert set(rejected[6]) == {"warehouse", "quantity"}
    assert "不能为 0" in rejected[6]["quantity"]
    assert count_records(client, "stock_adjustment") == 2
    record = client.get(
        f"/api/v1/forms/stock_adjustment/records/{body['record_ids'][1]}", headers=headers
    ).json()
    assert record["data"]["sku"] == "12345" and record["data"]["quantity"] == 1
    assert record["created_by"] == "operator"


def test_gbk_csv_with_english_headers(client):
    headers = headers_for(client, "operator")
    text = "Warehouse,SKU,Quantity,Reason,Note\nWH01,OL-KIT-0001,3,count,盘点盘盈 3 件\n"
    response = upload(client, STOCK, "adjust.csv", text.encode("gbk"), headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1 and body["rejected"] == []
    record = client.get(
        f"/api/v1/forms/stock_adjustment/records/{body['record_ids'][0]}", headers=headers
    ).json()
    assert record["data"]["note"] == "盘点盘盈 3 件"


def test_utf8_csv_with_bom_and_field_names(client):
    headers = headers_for(client, "operator")
    text = "\ufeffwarehouse,sku,quantity,reason\nWH02,A-1,1,damage\nWH02,A-2,2,damage\n"
    response = upload(client, STOCK, "a.csv", text.encode("utf-8"), headers)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(client):
    headers = headers_for(client, "operator")
    content = xlsx(
        [
            ["warehouse", "sku", "quantity", "reason"],
            ["WH01", "A-1", 1, "damage"],
            ["WH01", "A-2", "many", "damage"],
        ]
    )
    response = upload(client, STOCK, "x.xlsx", content, headers, all_or_nothing="true")
    assert response.status_code == 422
    body = response.json()
    assert body["imported"] == 0 and body["record_ids"] == []
    assert [row["row"] for row in body["rejected"]] == [3]
    assert "Nothing was imported: 1 of 2 rows" in body["detail"]
    assert count_records(client, "stock_adjustment") == 0
    # the good file goes through in the same mode
    good = xlsx([["warehouse", "sku", "quantity", "reason"], ["WH01", "A-1", 1, "damage"]])
    response = upload(client, STOCK, "x.xlsx", good, headers, all_or_nothing="true")
    assert response.status_code == 200 and response.json()["imported"] == 1


def test_line_items_as_json_start_the_flow_and_a_failed_row_leaves_nothing(client):
    buyer = headers_for(client, "buyer_wang")
    items = json.dumps([{"item": "PC", "quantity": 2, "unit_price": "1200.00"}])
    content = xlsx(
        [
            ["申请事由", "紧急程度", "采购明细", "需求日期"],
            ["Laptops", "normal", items, date(2026, 5, 1)],
            ["No items", "normal", None, None],  # line items are required here
            ["Bad JSON", "normal", "[{", None],
        ]
    )
    response = upload(client, PURCHASE, "p.xlsx", content, buyer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    assert {row["row"] for row in body["rejected"]} == {3, 4}
    record = client.get(
        f"/api/v1/forms/purchase_request/records/{body['record_ids'][0]}", headers=buyer
    ).json()
    assert record["data"]["amount"] == "2400.00" and record["status"] == "in_approval"
    assert record["data"]["needed_by"] == "2026-05-01"
    # admin has no manager: the flow cannot start, so the row is rejected and nothing of
    # it (record, audit entries, flow instance) stays behind
    before = count_records(client, "purchase_request")
    admin = headers_for(client, "admin")
    content = xlsx([["title", "urgency", "items"], ["By admin", "normal", items]])
    response = upload(client, PURCHASE, "p.xlsx", content, admin)
    assert response.status_code == 200, response.text
    [row] = response.json()["rejected"]
    assert row["row"] == 2 and "record" in row["errors"]
    assert count_records(client, "purchase_request") == before
    with client.app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(FlowInstance)) == 1


def test_import_is_audited_and_the_chain_stays_intact(client):
    headers = headers_for(client, "operator")
    content = xlsx([["warehouse", "sku", "quantity", "reason"], ["WH01", "A-1", 1, "damage"]])
    upload(client, STOCK, "audit.xlsx", content, headers)
    with client.app.state.sessionmaker() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "records.import")
        ).one()
        assert entry.actor == "operator" and entry.entity_id == "stock_adjustment"
        assert entry.after["file"] == "audit.xlsx" and entry.after["imported"] == 1
        assert len(entry.after["sha256"]) == 64
    assert verify(client.app.state.engine).ok


def test_import_needs_the_import_permission(client):
    # finance may read and update purchase requests, not import them
    content = xlsx([["title"], ["x"]])
    response = upload(client, PURCHASE, "p.xlsx", content, headers_for(client, "fin_liu"))
    assert response.status_code == 403
    assert count_records(client, "purchase_request") == 0


@pytest.mark.parametrize(
    ("name", "content", "status", "phrase"),
    [
        ("a.xlsx", b"PK\x03\x04 not really a workbook", 422, "cannot be read"),
        ("a.csv", b"\xff\xfe\x00\x00\x81\x30\xff" * 10, 422, "neither UTF-8 nor GBK"),
        ("a.csv", b"", 422, "empty"),
        ("a.csv", b"\n\n,,\n", 422, "no header row"),
        ("a.csv", "仓库,颜色\nWH01,红\n".encode(), 422, "颜色"),
        ("a.csv", b"sku,SKU\nA,B\n", 422, "same field"),
        ("big.csv", b"sku\n" + b"A-1\n" * (MAX_IMPORT_BYTES // 4 + 1), 413, "too large"),
    ],
)
def test_bad_files_get_a_clear_4xx(client, name, content, status, phrase):
    response = upload(client, STOCK, name, content, headers_for(client, "operator"))
    assert response.status_code == status, response.text
    assert phrase in response.json()["detail"]
    assert count_records(client, "stock_adjustment") == 0


def test_too_many_rows(client, monkeypatch):
    from apps.ops.api.routes import imports

    monkeypatch.setattr(imports, "MAX_IMPORT_ROWS", 3)
    text = "warehouse,sku,quantity,reason\n" + "WH01,A-1,1,damage\n" * 4
    response = upload(client, STOCK, "a.csv", text.encode(), headers_for(client, "operator"))
    assert response.status_code == 422
    assert "more than 3 data rows" in response.json()["detail"]


def test_unknown_form_and_missing_file(client):
    headers = headers_for(client, "operator")
    response = upload(client, "/api/v1/forms/nope/import", "a.csv", b"a\n1\n", headers)
    assert response.status_code == 404
    assert client.post(STOCK, headers=headers).status_code == 422
