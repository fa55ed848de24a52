"""The write-back loop as one Dagster job (`writeback_loop`): ingest the app store and the
stock files, rebuild the marts the lake rules read, run the rules through the ops app's
command. A safety-stock breach that arrives with new stock files makes exactly one
purchase request, and running the job again makes none."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
import sqlglot
from rich.console import Console
from sqlalchemy import create_engine, text

from apps.ops.core.config import BUILTIN_RULES_DIR
from apps.ops.rules.loader import read_rules
from orchestration.definitions import defs
from orchestration.run import run_job
from pipelines.writeback_assets import LAKE_RULES_KEY, RULE_INPUTS
from warehouse.lake import Lake
from warehouse.settings import Settings


def test_the_job_holds_the_app_streams_the_rule_inputs_and_the_rules() -> None:
    job = defs.resolve_job_def("writeback_loop")
    keys = {"/".join(k.path) for k in job.asset_layer.executable_asset_keys}
    assert "ops/lake_rules" in keys
    assert {"raw/app_form_records", "raw/app_flow_tasks", "raw/app_rule_firings"} <= keys
    assert {f"marts/{m}" for m in RULE_INPUTS} <= keys
    assert {"marts/fct_approval_tasks", "marts/fct_rule_firings"} <= keys
    assert "marts/fct_order_lines" not in keys  # orders are the hourly build's work
    assert "ops/lake_rules" not in {
        "/".join(k.path)
        for k in defs.resolve_job_def("build_all").asset_layer.executable_asset_keys
    }
    schedule = defs.resolve_schedule_def("hourly_writeback")
    assert schedule.job_name == "writeback_loop"
    graph = defs.resolve_asset_graph()
    assert {k.path[1] for k in graph.get(LAKE_RULES_KEY).parent_keys} == set(RULE_INPUTS)


def test_the_rule_inputs_cover_every_mart_a_lake_rule_reads() -> None:
    read = set()
    for rule in read_rules(BUILTIN_RULES_DIR).values():
        if rule.trigger.event == "lake":
            tree = sqlglot.parse_one(rule.trigger.sql, read="duckdb")
            read |= {t.name for t in tree.find_all(sqlglot.exp.Table) if t.db == "marts"}
    assert read == set(RULE_INPUTS)


def _purchase_requests(app_db: str) -> list[tuple[int, str, str]]:
    engine = create_engine(app_db)
    try:
        with engine.connect() as con:
            return con.execute(
                text(
                    "SELECT id, created_by, json_extract(data, '$.title') FROM form_records "
                    "WHERE form_name = 'purchase_request' ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()


@pytest.fixture
def loop_home(tmp_path: Path, extension_dir: Path, demo_lake, monkeypatch) -> Settings:
    """A private copy of the demo lake (built by the pipeline) with an empty app store."""
    from warehouse.backup import backup, restore

    home = tmp_path / "home"
    copy = backup(demo_lake.lake, tmp_path / "backup" / "lake")
    monkeypatch.setenv("OPSLAKE_HOME", str(home))
    monkeypatch.setenv("OPSLAKE_EXTENSION_DIR", str(extension_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    settings = Settings()
    restore(Lake.from_settings(settings), copy)
    from apps.ops.core.db import migrate

    migrate(settings.app_db)  # the app has created its store before the pipeline reads it
    return settings


def test_a_breach_from_new_stock_files_makes_exactly_one_purchase_request(
    loop_home: Settings,
) -> None:
    settings = loop_home
    lake = Lake.from_settings(settings)
    with lake.reading() as con:
        day, warehouse, sku, on_hand, safety = con.execute(
            "SELECT snapshot_date, warehouse_code, sku, on_hand_qty, safety_qty "
            "FROM marts.fct_inventory_daily "
            "WHERE snapshot_date = (SELECT max(snapshot_date) FROM marts.fct_inventory_daily) "
            "AND safety_qty > 2 AND on_hand_qty >= safety_qty ORDER BY sku, warehouse_code LIMIT 1"
        ).fetchone()
    # the next day the WMS reports a sale that takes the SKU to 1 unit, below its safety level
    new_day = day + timedelta(days=1)
    inventory = settings.demo_dir / "inventory"
    inventory.mkdir(parents=True, exist_ok=True)
    with open(inventory / "stock_movements_writeback_test.csv", "w", newline="") as f:
        csv.writer(f).writerows(
            [
                [
                    "movement_id",
                    "moved_at",
                    "warehouse",
                    "sku",
                    "movement_type",
                    "qty",
                    "reference",
                ],
                ["MV-WB-1", f"{new_day} 15:00:00", warehouse, sku, "sale", 1 - on_hand, "SO-WB-1"],
            ]
        )
    with open(inventory / "stock_snapshots_writeback_test.csv", "w", newline="") as f:
        csv.writer(f).writerows(
            [["snapshot_date", "warehouse", "sku", "on_hand_qty"], [new_day, warehouse, sku, 1]]
        )

    assert run_job("writeback_loop", Console(stderr=True)), "the write-back job failed"
    [(record_id, actor, title)] = _purchase_requests(settings.app_db)
    assert actor == "rules"
    assert f"[{sku}@{warehouse}@{new_day}]" in title, title

    # again: the request reaches the lake (app_db ingest) and the rule makes no second one
    assert run_job("writeback_loop", Console(stderr=True)), "the second run failed"
    assert _purchase_requests(settings.app_db) == [(record_id, actor, title)]
    with lake.reading() as con:
        landed = con.execute(
            "SELECT count(*) FROM marts.fct_form_submissions WHERE record_id = ?", [record_id]
        ).fetchone()[0]
        firings = con.execute(
            "SELECT count(*) FROM marts.fct_rule_firings WHERE rule_name = 'safety_stock_replenish'"
        ).fetchone()[0]
    assert landed == 1 and firings == 1
    assert safety > 1
