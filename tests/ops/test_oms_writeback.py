"""The write-back loop: stock movements in the lake produce a safety-stock breach in the
marts; the lake-condition rule creates exactly one purchase request for it, routed for
approval — not again when the rule runs again, nor the next day once the request has
reached the lake. Slow-moving stock notifies the buyers once."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from apps.ops.core.config import BUILTIN_RULES_DIR
from apps.ops.core.db import make_engine, make_sessionmaker
from apps.ops.models import FlowInstance, FlowTask, FormRecord, Notification
from apps.ops.oms.loop import run_lake_rules
from warehouse.lake import Lake

MOVEMENTS = """
CREATE TABLE raw.stock_movements AS SELECT * FROM (VALUES
  (DATE '2026-02-27', 'OL-KIT-0001', 'WH01', 100),
  (DATE '2026-02-28', 'OL-KIT-0001', 'WH01', -60),
  (DATE '2026-03-01', 'OL-KIT-0001', 'WH01', -35),
  (DATE '2026-02-27', 'OL-KIT-0002', 'WH01', 50)
) t(moved_on, sku, warehouse_code, qty)
"""
# what the dbt models do, in small: daily stock from the movements, breaches below safety
MARTS = [
    """CREATE TABLE marts.fct_inventory_daily AS
       WITH days AS (SELECT DISTINCT moved_on AS snapshot_date FROM raw.stock_movements),
            keys AS (SELECT DISTINCT sku, warehouse_code FROM raw.stock_movements)
       SELECT d.snapshot_date, k.warehouse_code, k.sku, 20 AS safety_qty,
              (SELECT sum(m.qty) FROM raw.stock_movements m WHERE m.sku = k.sku
                 AND m.warehouse_code = k.warehouse_code AND m.moved_on <= d.snapshot_date)
                AS on_hand_qty
       FROM days d CROSS JOIN keys k""",
    """CREATE TABLE marts.fct_safety_stock_breaches AS
       SELECT snapshot_date, warehouse_code, sku, on_hand_qty, safety_qty,
              safety_qty - on_hand_qty AS shortfall_qty
       FROM marts.fct_inventory_daily WHERE on_hand_qty < safety_qty""",
    """CREATE TABLE marts.fct_form_submissions
       (record_id BIGINT, form_name VARCHAR, status VARCHAR, data_json VARCHAR)""",
    """CREATE TABLE marts.fct_inventory_turnover AS SELECT * FROM (VALUES
       (DATE '2026-02-01', 'WH02', 'OL-OLD-0009', 400.0, 3, 3733.3),
       (DATE '2026-02-01', 'WH01', 'OL-KIT-0002', 50.0, 60, 23.3)
       ) t(month, warehouse_code, sku, avg_on_hand_qty, units_sold, days_of_inventory)""",
]


@pytest.fixture
def lake(tmp_path: Path, extension_dir: Path) -> Lake:
    lake = Lake(tmp_path / "lake" / "catalog.sqlite", tmp_path / "lake" / "data", extension_dir)
    lake.init()
    with lake.writing() as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE SCHEMA marts")
        con.execute(MOVEMENTS)
        for sql in MARTS:
            con.execute(sql)
    return lake


def purchase_requests(settings) -> list[FormRecord]:
    engine = make_engine(settings.app_db)
    try:
        with make_sessionmaker(engine)() as session:
            return list(
                session.scalars(
                    select(FormRecord).where(FormRecord.form_name == "purchase_request")
                )
            )
    finally:
        engine.dispose()


def test_a_safety_stock_breach_makes_exactly_one_purchase_request(
    make_settings, tmp_path: Path, clock, lake: Lake
):
    rules = tmp_path / "rules"
    shutil.copytree(BUILTIN_RULES_DIR, rules)
    settings = make_settings(rules_dir=rules)

    first = run_lake_rules(settings, clock=clock, lake_reader=lake.reader)
    assert "safety_stock_replenish" in first.rules and not first.failed
    [request] = purchase_requests(settings)
    assert request.created_by == "rules" and request.status == "in_approval"
    assert request.data["items"] == [
        {"item": "OL-KIT-0001", "quantity": 35, "unit_price": "1.00", "line_total": "35.00"}
    ]
    assert "[OL-KIT-0001@WH01@2026-03-01]" in request.data["title"]

    engine = make_engine(settings.app_db)
    try:
        with make_sessionmaker(engine)() as session:
            [task] = session.scalars(
                select(FlowTask)
                .join(FlowInstance, FlowInstance.id == FlowTask.instance_id)
                .where(FlowInstance.record_id == request.id)
            ).all()
            assert task.assignee == "pm_li" and task.status == "pending"  # routed
            buyers = session.scalars(
                select(Notification.title).where(Notification.username == "buyer_wang")
            ).all()
            assert sum("OL-KIT-0001" in t for t in buyers) == 1
            assert sum("OL-OLD-0009" in t for t in buyers) == 1  # slow-moving: notified
            assert not any("OL-KIT-0002 @" in t for t in buyers)  # sells well: quiet
    finally:
        engine.dispose()

    # the rule runs again the same day: the same cause, no second request
    again = run_lake_rules(settings, clock=clock, lake_reader=lake.reader)
    assert again.firings == 0
    assert len(purchase_requests(settings)) == 1

    # the pipeline ingests the app store; the next day the breach is still there
    with lake.writing() as con:
        con.execute(
            "INSERT INTO marts.fct_form_submissions VALUES (?, 'purchase_request', ?, ?)",
            [request.id, request.status, json.dumps(request.data, ensure_ascii=False)],
        )
    clock.advance(timedelta(days=1))
    run_lake_rules(settings, clock=clock, lake_reader=lake.reader)
    assert len(purchase_requests(settings)) == 1


def test_the_apps_own_scheduler_routes_a_rule_created_request(
    make_settings, tmp_path: Path, clock, lake: Lake
):
    # the app polls its lake rules itself between pipeline runs; its first delivery must
    # find the rule actor's manager without `lake-rules` having run before
    from apps.ops.core.config import as_ops_settings
    from apps.ops.main import bootstrap, build_context, smtp_config
    from apps.ops.scheduler import tick

    rules = tmp_path / "rules"
    shutil.copytree(BUILTIN_RULES_DIR, rules)
    # low_stock_alert reads a column these small marts lack: it fails alone, the others run
    settings = as_ops_settings(make_settings(rules_dir=rules))
    engine = make_engine(settings.app_db)
    try:
        bootstrap(engine, settings)
        ctx = build_context(settings, clock)
        ctx.rules.lake_reader = lake.reader
        make_session = make_sessionmaker(engine)
        for _ in range(3):  # rule schedules come due on the app's clock
            result = tick(make_session, ctx, smtp_config(settings))
            assert not result.delivery.retried, result.delivery
            clock.advance(timedelta(hours=1))
        [request] = purchase_requests(settings)
        with make_session() as session:
            [task] = session.scalars(
                select(FlowTask)
                .join(FlowInstance, FlowInstance.id == FlowTask.instance_id)
                .where(FlowInstance.record_id == request.id)
            ).all()
        assert request.created_by == "rules" and task.assignee == "pm_li"
    finally:
        engine.dispose()
