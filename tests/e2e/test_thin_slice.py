"""One thin slice through every layer, checked against the demo generator's truth.

demo POS files → connector → raw → dbt staging and mart (through Dagster) → metric in the
semantic layer; and a form submitted in the ops app → app-db connector → lake → mart.
"""

from __future__ import annotations

import json
import time
import warnings
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from apps.ops.core.config import OpsSettings
from apps.ops.main import create_app
from ingest.demo import generate
from orchestration.run import run_job
from pipelines.constants import DBT_PROJECT_DIR
from semantic.query import MetricQuery
from semantic.service import MetricService
from warehouse.lake import Lake
from warehouse.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from fastapi.testclient import TestClient

FORM = {"warehouse": "WH02", "sku": "OL-KIT-0042", "quantity": 5, "reason": "count"}


def _counts(lake: Lake) -> dict[str, object]:
    with lake.reading() as con:
        return {
            "raw_pos": con.sql("SELECT count(*) FROM raw.pos_sales_lines").fetchone()[0],
            "quarantine": con.sql(
                "SELECT count(*) FROM raw._quarantine WHERE stream = 'pos_sales_lines'"
            ).fetchone()[0],
            "mart": con.sql(
                "SELECT count(*), sum(net_sales) FROM marts.fct_pos_daily_sales"
            ).fetchone(),
            "forms": con.sql("SELECT count(*) FROM marts.fct_form_submissions").fetchone()[0],
        }


def test_pos_files_and_an_ops_form_reach_the_marts_and_the_metric(settings: Settings) -> None:
    truth = generate(settings.demo_dir, scale=2000, seed=7)
    stores = truth["pos"]["stores"]

    ops = OpsSettings(_env_file=None, secret_key="test-secret-key-that-is-long-enough-0123456789")
    with TestClient(create_app(ops)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "operator", "password": "operator"}
        ).json()["access_token"]
        response = client.post(
            "/api/v1/forms/stock_adjustment/records",
            json={"data": FORM},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        record_id = response.json()["id"]
    time.sleep(2.5)  # past the app-db connector's settle window

    assert run_job("build_all", Console(stderr=True))
    lake = Lake.from_settings(settings)
    first = _counts(lake)

    assert first["raw_pos"] == sum(s["valid_rows"] for s in stores.values())
    assert first["quarantine"] == sum(s["malformed_rows"] for s in stores.values())
    expected_sales = sum(Decimal(str(s["net_sales"])) for s in stores.values())
    assert first["mart"][1] == expected_sales
    with lake.reading() as con:
        per_store = dict(
            con.sql(
                "SELECT store_code, sum(net_sales) FROM marts.fct_pos_daily_sales GROUP BY 1"
            ).fetchall()
        )
        form = con.execute(
            "SELECT form_name, data_json FROM marts.fct_form_submissions WHERE record_id = ?",
            [record_id],
        ).fetchone()
    assert per_store == {k: Decimal(str(v["net_sales"])) for k, v in stores.items()}
    assert form[0] == "stock_adjustment" and json.loads(form[1])["sku"] == FORM["sku"]

    manifest = Path(DBT_PROJECT_DIR) / "target" / "semantic_manifest.json"
    with MetricService(manifest, lake.reader) as service:
        rows = service.query(MetricQuery(metrics=["pos_net_sales"], group_by=["store_code"])).rows()
    assert {r["store_code"]: r["pos_net_sales"] for r in rows} == per_store

    # the whole pipeline again: nothing new, nothing doubled
    assert run_job("build_all", Console(stderr=True))
    assert _counts(lake) == first
