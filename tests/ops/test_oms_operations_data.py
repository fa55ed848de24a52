"""The app store's approvals and rule firings reach the operations marts: the demo work
(submitted and decided through the engines) is ingested by the app_db connector's four
streams, built by dbt, and read back as the approval cycle time KPI of the semantic layer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from apps.ops.core.config import OpsSettings
from apps.ops.org.demo_activity import REQUESTS, seed_demo_activity
from ingest.core import run_stream
from ingest.sources.app_db import TABLES, AppTableStream
from semantic import MetricQuery, compile_query, load_manifest
from tests.models.dbt_helpers import MODELS, dbt
from warehouse.lake import Lake

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
SELECT = ["--select", "path:models/staging/app", "path:models/marts/operations"]


@pytest.fixture
def ops_lake(tmp_path: Path, extension_dir: Path) -> tuple[Lake, str, Path]:
    app_db = f"sqlite:///{tmp_path / 'app.db'}"
    settings = OpsSettings(
        _env_file=None,
        home=tmp_path,
        app_db=app_db,
        environment="development",
        seed_demo_users=True,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        smtp_port=9,  # nobody listens: e-mail notices are retried, not sent
    )
    assert seed_demo_activity(settings, now=NOW) == len(REQUESTS)
    assert seed_demo_activity(settings, now=NOW) == 0  # once only
    lake = Lake(tmp_path / "lake" / "catalog.sqlite", tmp_path / "lake" / "data", extension_dir)
    lake.init()
    return lake, app_db, tmp_path / "dbt-target"


def _ingest(lake: Lake, app_db: str) -> dict[str, int]:
    return {
        name: run_stream(lake, AppTableStream(app_db, spec, name, settle_seconds=0)).rows_landed
        for name, spec in TABLES.items()
    }


def _rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reading() as con:
        return con.execute(sql).fetchall()


def test_approvals_and_rule_firings_reach_the_operations_marts(ops_lake) -> None:
    lake, app_db, target = ops_lake
    landed = _ingest(lake, app_db)
    # 7 requests, 7 flows, 11 to-dos (one a cc), 5 finished flows told their requesters
    assert landed == {
        "app_form_records": 7,
        "app_flow_instances": 7,
        "app_flow_tasks": 11,
        "app_rule_firings": 5,
    }
    assert set(_ingest(lake, app_db).values()) == {0}  # nothing new: nothing lands

    # a decision taken after the first ingest lands as a new version of the task and flow
    engine = sa.create_engine(app_db)
    with engine.begin() as con:
        con.exec_driver_sql(
            "UPDATE flow_tasks SET status = 'approved', acted_by = assignee, "
            "acted_at = '2026-03-10 10:00:00.000000' WHERE id = 10"
        )
        con.exec_driver_sql(
            "UPDATE flow_instances SET status = 'approved', "
            "finished_at = '2026-03-10 10:00:00.000000' WHERE id = 6"
        )
    engine.dispose()
    again = _ingest(lake, app_db)
    assert (again["app_flow_tasks"], again["app_flow_instances"]) == (1, 1)

    dbt(["build", *SELECT], lake.catalog_path, lake.extension_dir, target)

    flows = dict(
        _rows(lake, "SELECT flow_status, count(*) FROM marts.fct_flow_instances GROUP BY 1")
    )
    assert flows == {"approved": 5, "rejected": 1, "running": 1}
    [(title, amount, hours)] = _rows(
        lake,
        "SELECT record_title, record_amount, cycle_time_hours FROM marts.fct_flow_instances "
        "WHERE record_id = 1",
    )
    assert (title, float(amount), hours) == ("服务器 Two servers for WH02", 6000.0, 23.0)
    decisions = dict(
        _rows(lake, "SELECT decision, count(*) FROM marts.fct_approval_tasks GROUP BY 1")
    )
    assert decisions == {"approved": 8, "rejected": 1, "pending": 1}  # the cc is no to-do
    firings = _rows(
        lake, "SELECT rule_name, outcome, count(*) FROM marts.fct_rule_firings GROUP BY 1, 2"
    )
    assert firings == [("purchase_decided_notice", "queued", 5)]

    # the KPI, compiled by the semantic layer from the dbt manifest
    manifest = load_manifest(MODELS / "target" / "semantic_manifest.json")
    sql = compile_query(manifest, MetricQuery(metrics=["approval_cycle_time_hours"]))
    with lake.reading() as con:
        [(value,)] = con.execute(sql).fetchall()
    # submission to final decision: the demo's waits, and flow 6 (submitted 5 h before
    # 09:00, decided at 10:00 today) = 6 h
    finished = [3 + 20, 1.5, 4 + 30, 6, 26, 6]
    assert value == pytest.approx(sum(finished) / len(finished))
