"""Audit chain (verify + CLI), field-level permission, row scope, login rate limit."""

from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from apps.ops import audit
from apps.ops.cli import app as audit_cli
from apps.ops.core.db import make_engine
from tests.ops.conftest import headers_for, purchase

FORM = "/api/v1/forms/purchase_request/records"


def test_every_write_is_audited_and_verify_catches_an_edited_row(ops_app, db_url):
    headers = headers_for(ops_app, "buyer_wang")
    created = ops_app.post(FORM, headers=headers, json={"data": purchase("120.00")})
    assert created.status_code == 201
    engine = make_engine(db_url)
    try:
        assert audit.verify(engine).ok
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, actor, action FROM audit_log ORDER BY id")).all()
        assert ("buyer_wang", "record.create") in [(r.actor, r.action) for r in rows]
        ok = CliRunner().invoke(audit_cli, ["verify", "--db", db_url])
        assert ok.exit_code == 0, ok.output
        # someone edits one audit row directly in the database
        victim = rows[1].id
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"), {"id": victim}
            )
        result = audit.verify(engine)
        assert not result.ok and result.first_bad_id == victim
        bad = CliRunner().invoke(audit_cli, ["verify", "--db", db_url])
        assert bad.exit_code == 1
        assert f"entry {victim}" in bad.output
    finally:
        engine.dispose()


def test_verify_detects_a_deleted_row(ops_app, db_url):
    headers = headers_for(ops_app, "buyer_wang")
    ops_app.post(FORM, headers=headers, json={"data": purchase("120.00")})
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]
            conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[1]})
        result = audit.verify(engine)
        assert not result.ok and result.first_bad_id == ids[2]
    finally:
        engine.dispose()


def test_field_permission_hides_in_reads_and_rejects_in_writes(ops_app):
    buyer = headers_for(ops_app, "buyer_wang")
    refused = ops_app.post(
        FORM, headers=buyer, json={"data": purchase("50.00", budget_code="B-2026-IT")}
    )
    assert refused.status_code == 403
    assert "budget_code" in refused.json()["errors"]
    created = ops_app.post(FORM, headers=buyer, json={"data": purchase("50.00")}).json()
    finance = headers_for(ops_app, "fd_chen")
    changed = ops_app.patch(
        f"{FORM}/{created['id']}", headers=finance, json={"data": {"budget_code": "B-2026-IT"}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["budget_code"] == "B-2026-IT"
    seen_by_buyer = ops_app.get(f"{FORM}/{created['id']}", headers=buyer).json()
    assert "budget_code" not in seen_by_buyer["data"]
    listed = ops_app.get(FORM, headers=buyer).json()["data"]
    assert all("budget_code" not in r["data"] for r in listed)


def test_row_scope_own_department_all(ops_app):
    wang, zhou = headers_for(ops_app, "buyer_wang"), headers_for(ops_app, "buyer_zhou")
    mine = ops_app.post(FORM, headers=wang, json={"data": purchase("10.00")}).json()
    assert ops_app.get(f"{FORM}/{mine['id']}", headers=zhou).status_code == 404  # own only
    assert ops_app.get(FORM, headers=zhou).json()["count"] == 0
    manager = headers_for(ops_app, "pm_li")  # department scope
    assert ops_app.get(FORM, headers=manager).json()["count"] == 1
    assert ops_app.get(FORM, headers=headers_for(ops_app, "wm_sun")).json()["count"] == 0
    assert ops_app.get(FORM, headers=headers_for(ops_app, "fin_liu")).json()["count"] == 1
    # finance may update, buyers may not
    assert (
        ops_app.patch(
            f"{FORM}/{mine['id']}", headers=wang, json={"data": {"title": "x"}}
        ).status_code
        == 403
    )


def test_filter_and_sort(ops_app):
    wang = headers_for(ops_app, "buyer_wang")
    for amount in ("10.00", "7000.00", "300.00"):
        ops_app.post(FORM, headers=wang, json={"data": purchase(amount)})
    page = ops_app.get(
        FORM, headers=wang, params={"where": "amount:ge:100", "sort": "-amount"}
    ).json()
    assert [r["data"]["amount"] for r in page["data"]] == ["7000.00", "300.00"]
    bad = ops_app.get(FORM, headers=wang, params={"where": "amount:like:1"})
    assert bad.status_code == 422


def test_login_rate_limit(client):
    for _ in range(5):
        wrong = client.post("/api/v1/auth/token", data={"username": "admin", "password": "x"})
        assert wrong.status_code == 400
    blocked = client.post("/api/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.json()["detail"]
