"""The rule engine: once per cause, e-mail to a local SMTP server, retries, lake rules."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from apps.ops.core.config import BUILTIN_RULES_DIR
from apps.ops.core.db import write_transaction
from apps.ops.main import create_app
from apps.ops.models import FormRecord, Notification, OutboxItem, RuleFiring
from apps.ops.rules.engine import RuleEngine
from apps.ops.rules.loader import read_rules
from tests.ops.conftest import headers_for, purchase, tick
from tests.ops.test_flows import act, inbox

FORM = "/api/v1/forms/purchase_request/records"

BIG_PURCHASE = """
name: big_purchase
trigger: {event: record_created, form: purchase_request}
condition: "amount >= 1000"
actions:
  - notify: {channel: email, to: [fd_chen], title: "大额采购 #{record_id}", body: "合计 {amount}"}
  - notify: {channel: in_app, to: ["role:finance_director"], title: "大额采购 #{record_id}"}
"""
BROKEN_HOOK = """
name: broken_hook
trigger: {event: field_changed, form: purchase_request, field: title, to: "urgent!"}
actions:
  - notify: {channel: webhook, url: "http://127.0.0.1:{port}/robot/send", title: "{title}"}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture
def rules_app(make_settings, tmp_path: Path, clock, smtp_server) -> Iterator[TestClient]:
    rules = tmp_path / "rules"
    shutil.copytree(BUILTIN_RULES_DIR, rules)
    (rules / "big_purchase.yaml").write_text(BIG_PURCHASE, encoding="utf-8")
    (rules / "broken_hook.yaml").write_text(
        BROKEN_HOOK.replace("{port}", str(free_port())), encoding="utf-8"
    )
    settings = make_settings(rules_dir=rules, smtp_port=smtp_server[0])
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client


def test_email_arrives_and_the_rule_fires_once_per_cause(rules_app, smtp_server):
    _, mailbox = smtp_server
    small = rules_app.post(
        FORM, headers=headers_for(rules_app, "buyer_wang"), json={"data": purchase("999.00")}
    )
    big = rules_app.post(
        FORM, headers=headers_for(rules_app, "buyer_wang"), json={"data": purchase("1500.00")}
    ).json()
    assert small.status_code == 201
    # delivered right after the response (background task)
    [(sender, recipients, content)] = mailbox.messages
    assert recipients == ["chen@example.com"]
    assert "1500.00" in content
    app = rules_app.app
    with app.state.sessionmaker() as session:
        firings = session.scalars(
            select(RuleFiring).where(RuleFiring.rule_name == "big_purchase").order_by(RuleFiring.id)
        ).all()
        assert [f.outcome for f in firings] == ["skipped", "queued"]  # every firing logged
        assert firings[1].inputs["amount"] == "1500.00"
        # the same cause again (a redelivered event, a second worker): no second action
        record = session.get(FormRecord, big["id"])
        with write_transaction(session):
            app.state.ops.rules.on_record_created(session, record)
        count = session.scalar(
            select(func.count())
            .select_from(RuleFiring)
            .where(RuleFiring.rule_name == "big_purchase")
        )
        assert count == 2
    tick(rules_app)
    assert len(mailbox.messages) == 1


def test_flow_finished_rule_mails_the_requester(rules_app, smtp_server):
    _, mailbox = smtp_server
    rules_app.post(
        FORM, headers=headers_for(rules_app, "buyer_wang"), json={"data": purchase("200.00")}
    )
    [task] = inbox(rules_app, "pm_li")
    act(rules_app, "pm_li", task["id"], "approve")
    assert any("wang@example.com" in m[1] and "approved" in m[2] for m in mailbox.messages)
    notes = rules_app.get("/api/v1/notifications", headers=headers_for(rules_app, "buyer_wang"))
    assert any("approved" in n["title"] for n in notes.json())


def test_a_failing_action_is_retried_then_reported_never_lost(rules_app, clock):
    buyer, finance = headers_for(rules_app, "buyer_wang"), headers_for(rules_app, "fd_chen")
    record = rules_app.post(FORM, headers=buyer, json={"data": purchase("20.00")}).json()
    changed = rules_app.patch(
        f"{FORM}/{record['id']}", headers=finance, json={"data": {"title": "urgent!"}}
    )
    assert changed.status_code == 200, changed.text
    app = rules_app.app
    for _ in range(6):
        clock.advance(timedelta(hours=2))
        tick(rules_app)
    with app.state.sessionmaker() as session:
        [item] = session.scalars(
            select(OutboxItem).where(OutboxItem.kind == "notify", OutboxItem.status != "done")
        ).all()
        assert item.status == "failed" and item.attempts == 5
        assert "ConnectError" in (item.last_error or "")
        reported = session.scalars(
            select(Notification).where(Notification.username == "admin")
        ).all()
        assert any("failed" in n.title for n in reported)


def test_lake_condition_reads_the_marts_read_only(tmp_path, extension_dir, clock, settings):
    from apps.ops.core.db import make_engine, make_sessionmaker, migrate
    from warehouse.lake import Lake

    lake = Lake(tmp_path / "lake" / "catalog.sqlite", tmp_path / "lake" / "data", extension_dir)
    lake.init()
    with lake.writing() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.fct_inventory_daily AS SELECT * FROM (VALUES "
            "(DATE '2026-03-01', 'SKU-1', 'WH01', 0, 10), "
            "(DATE '2026-03-02', 'SKU-1', 'WH01', 3, 10), "
            "(DATE '2026-03-02', 'SKU-2', 'WH01', 50, 10)) "
            "t(snapshot_date, sku, warehouse_code, available_to_promise_qty, safety_qty)"
        )
    rules = read_rules(BUILTIN_RULES_DIR)
    engine = RuleEngine({"low_stock_alert": rules["low_stock_alert"]}, clock.now, lake.reader)
    migrate(settings.app_db)
    db = make_engine(settings.app_db)
    try:
        make = make_sessionmaker(db)
        for _ in range(2):  # the second poll is not due yet; a later one is the same day
            with make() as session, write_transaction(session):
                engine.poll(session)
        clock.advance(timedelta(minutes=61))
        with make() as session, write_transaction(session):
            assert engine.poll(session) == 0  # SKU-1 already fired today: once per cause
        with make() as session:
            [firing] = session.scalars(select(RuleFiring)).all()
            assert firing.cause_key.startswith("lake:SKU-1@WH01:")
    finally:
        db.dispose()
    with lake.reading() as con, pytest.raises(Exception, match="read-only|read only"):
        con.execute("DELETE FROM marts.fct_inventory_daily")
