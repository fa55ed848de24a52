"""Superset end to end: provisioned twice, driven over HTTP only.

Run: `.venv/bin/pytest -m superset tests/bi -s` (after `make superset-venv`).
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from .conftest import STORES, Superset, TinyLake

pytestmark = pytest.mark.superset

CHART = "门店日销售额 / Store daily net sales"
DASHBOARD_SLUG = "sales-overview"


def _list(http: httpx.Client, resource: str) -> list[dict]:
    q = json.dumps({"page_size": 100})
    resp = http.get(f"/api/v1/{resource}/", params={"q": q})
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def _files(kind: str) -> int:
    """How many assets of a kind the provisioned tree holds."""
    from .conftest import ROOT

    return len(list((ROOT / "apps" / "bi" / "assets" / kind).rglob("*.yaml")))


def _chart_id(http: httpx.Client) -> int:
    charts = [c for c in _list(http, "chart") if c["slice_name"] == CHART]
    assert len(charts) == 1, charts
    return charts[0]["id"]


def _per_store(payload: dict) -> dict[str, float]:
    """Sum the chart's pivoted result (one column per store) per store."""
    result = payload["result"][0]
    assert result["status"] == "success", result
    sums: dict[str, float] = {}
    for row in result["data"]:
        for col, value in row.items():
            if col != "sales_date" and value is not None:
                sums[col] = sums.get(col, 0.0) + value
    return sums


def _assert_sums(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(want)
    for store, total in want.items():
        assert got[store] == pytest.approx(total, abs=0.005), store


def test_provisioned_once_after_two_provisions(superset: Superset) -> None:
    with superset.client("admin", "admin") as http:
        dashboards = _list(http, "dashboard")
        charts = _list(http, "chart")
        datasets = _list(http, "dataset")
        databases = _list(http, "database")
        # every asset of the tree exactly once, however often it was provisioned
        assert len(dashboards) == len({d["slug"] for d in dashboards}) == _files("dashboards")
        assert len(charts) == _files("charts")
        assert len({c["id"] for c in charts}) == len(charts)
        assert len(datasets) == len({d["table_name"] for d in datasets}) == _files("datasets")
        overview = [d for d in dashboards if d["slug"] == DASHBOARD_SLUG]
        assert [d["dashboard_title"] for d in overview] == ["销售概览 / Sales overview"]
        assert overview[0]["published"] is True
        assert [c["slice_name"] for c in charts].count(CHART) == 1
        assert ("marts", "fct_pos_daily_sales") in {
            (d["schema"], d["table_name"]) for d in datasets
        }
        assert [d["database_name"] for d in databases] == ["opslake_lake"]

        # the dashboard holds the chart (position uuid -> chart id mapping worked)
        resp = http.get(f"/api/v1/dashboard/{DASHBOARD_SLUG}/charts")
        assert resp.status_code == 200, resp.text
        assert [c["slice_name"] for c in resp.json()["result"]] == [CHART]

        # the saved metric and the read-only lake URI
        pos = next(d for d in datasets if d["table_name"] == "fct_pos_daily_sales")
        ds = http.get(f"/api/v1/dataset/{pos['id']}").json()["result"]
        saved = {m["metric_name"]: m["expression"] for m in ds["metrics"]}
        assert saved["net_sales"] == "SUM(net_sales)"
        db = http.get(f"/api/v1/database/{databases[0]['id']}/connection").json()["result"]
        uri = db["sqlalchemy_uri"]
        assert uri.startswith(f"duckdb:///ducklake:sqlite:{superset.home}/lake/catalog.sqlite?")
        for param in ("access_mode=read_only", "autoinstall_known_extensions=false"):
            assert param in uri
        assert db["allow_dml"] is False


def test_chart_data_matches_lake(superset: Superset, tiny_lake: TinyLake) -> None:
    want = tiny_lake.totals()
    assert set(want) == {name for _, name in STORES}
    with superset.client("admin", "admin") as http:
        chart_id = _chart_id(http)
        resp = http.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
        assert resp.status_code == 200, resp.text
        _assert_sums(_per_store(resp.json()), want)

        # the same through POST /api/v1/chart/data with the chart's saved query context
        chart = http.get(f"/api/v1/chart/{chart_id}").json()["result"]
        query_context = json.loads(chart["query_context"])
        assert query_context["datasource"]["type"] == "table"
        query_context["force"] = True
        resp = http.post("/api/v1/chart/data", json=query_context)
        assert resp.status_code == 200, resp.text
        _assert_sums(_per_store(resp.json()), want)


def test_new_snapshot_is_visible_through_kept_connections(
    superset: Superset, tiny_lake: TinyLake
) -> None:
    with superset.client("admin", "admin") as http:
        chart_id = _chart_id(http)
        # warm every worker's kept-open DuckDB connection on the old snapshot
        for _ in range(6):
            resp = http.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
            assert resp.status_code == 200, resp.text
        before = tiny_lake.totals()

        with tiny_lake.lake.writing() as con:
            con.execute(
                "insert into marts.fct_pos_daily_sales values "
                "(date '2025-03-01', 'S001', ?, 'pos', 1, 1, 1, 1234.56)",
                [STORES[0][1]],
            )
        want = dict(before)
        want[STORES[0][1]] = float(Decimal(str(before[STORES[0][1]])) + Decimal("1234.56"))
        assert tiny_lake.totals() == pytest.approx(want)

        # several requests, so both gunicorn workers answer at least once
        for _ in range(6):
            resp = http.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
            assert resp.status_code == 200, resp.text
            _assert_sums(_per_store(resp.json()), want)


def test_exec_reads_but_cannot_create(superset: Superset) -> None:
    with superset.client("exec", "exec") as http:
        dashboards = _list(http, "dashboard")
        assert DASHBOARD_SLUG in [d["slug"] for d in dashboards]
        resp = http.get(f"/api/v1/dashboard/{DASHBOARD_SLUG}")
        assert resp.status_code == 200, resp.text
        chart_id = _chart_id(http)
        resp = http.get(f"/api/v1/chart/{chart_id}/data/")
        assert resp.status_code == 200, resp.text
        dataset_id = _list(http, "dataset")[0]["id"]

        resp = http.post(
            "/api/v1/chart/",
            json={
                "slice_name": "exec was here",
                "viz_type": "table",
                "datasource_id": dataset_id,
                "datasource_type": "table",
            },
        )
        assert resp.status_code == 403, resp.text
        resp = http.put(f"/api/v1/dashboard/{dashboards[0]['id']}", json={"css": ""})
        assert resp.status_code == 403, resp.text


def test_analyst_can_create_and_delete_a_chart(superset: Superset) -> None:
    with superset.client("analyst", "analyst") as http:
        dataset_id = _list(http, "dataset")[0]["id"]
        resp = http.post(
            "/api/v1/chart/",
            json={
                "slice_name": "analyst scratch",
                "viz_type": "table",
                "datasource_id": dataset_id,
                "datasource_type": "table",
                "params": json.dumps({"metrics": ["net_sales"], "groupby": ["channel"]}),
            },
        )
        assert resp.status_code == 201, resp.text
        new_id = resp.json()["id"]
        assert http.delete(f"/api/v1/chart/{new_id}").status_code == 200


def test_sql_lab_is_confined_to_the_lake(superset: Superset, tiny_lake: TinyLake) -> None:
    """DuckDB's read_only mode alone lets SQL Lab COPY/ATTACH host files: the sandbox must not."""
    leak = tiny_lake.home / "leak.csv"
    metadata_db = tiny_lake.home / "superset" / "superset.db"
    with superset.client("analyst", "analyst") as http:
        database_id = _list(http, "database")[0]["id"]

        def run(sql: str) -> httpx.Response:
            return http.post(
                "/api/v1/sqllab/execute/",
                json={"database_id": database_id, "sql": sql, "runAsync": False, "schema": "marts"},
            )

        resp = run("select count(*) as n from marts.fct_pos_daily_sales")
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"][0]["n"] > 0
        for sql in (
            "with s as (select store_name, sum(net_sales) v from marts.fct_pos_daily_sales"
            " group by 1) select * from s union all select 'x', 0",
            "summarize marts.fct_pos_daily_sales",
            "explain select count(*) from marts.fct_pos_daily_sales",
        ):
            resp = run(sql)
            assert resp.status_code == 200, (sql, resp.text)
        for sql in (
            f"copy (select 42) to '{leak}'",
            f"attach '{metadata_db}' as meta (type sqlite)",
            "select * from read_csv('/etc/passwd')",
            "select * from read_text('/etc/passwd')",
            "load httpfs",
            "set threads = 1",
            "insert into marts.fct_pos_daily_sales select * from marts.fct_pos_daily_sales",
        ):
            resp = run(sql)
            assert resp.status_code != 200, (sql, resp.text)
        assert not leak.exists()


def test_chart_data_is_cached_after_the_first_query(superset: Superset) -> None:
    """A forced query runs on the lake; the next plain request is answered from the cache.

    Latency is a benchmark figure (`make bench`, bi_chart_p95), not a test; this prints the
    provisioning timings for the log only.
    """
    with superset.client("admin", "admin") as http:
        chart_id = _chart_id(http)
        forced = http.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
        assert forced.status_code == 200, forced.text
        assert not forced.json()["result"][0]["is_cached"]  # None or False: not from the cache
        again = http.get(f"/api/v1/chart/{chart_id}/data/")
        assert again.status_code == 200, again.text
        result = again.json()["result"][0]
        assert result["is_cached"] is True
        assert result["data"] == forced.json()["result"][0]["data"]
    figures = {k: round(v, 2) for k, v in superset.timings.items()}
    print(f"\nsuperset figures: {json.dumps(figures)}")


def test_both_workers_share_the_query_cache(superset: Superset) -> None:
    """A result cached by one gunicorn worker is a hit on the other (a file or Redis cache,
    not a per-process one): fresh clients, which land on either worker, all get it cached."""
    with superset.client("admin", "admin") as http:
        chart_id = _chart_id(http)
        forced = http.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
        assert forced.status_code == 200, forced.text
    cached = []
    for _ in range(8):  # a new connection each time: gunicorn hands it to any worker
        with superset.client("admin", "admin") as http:
            resp = http.get(f"/api/v1/chart/{chart_id}/data/")
            assert resp.status_code == 200, resp.text
            cached.append(resp.json()["result"][0]["is_cached"])
    assert cached == [True] * 8
    assert any((superset.home / "superset" / "cache" / "opslake_data").iterdir())


def test_events_go_to_the_log_file_not_the_metadata_db(superset: Superset) -> None:
    """Superset's event log writes JSON lines into run/superset.log (decision 0053), not a
    row per request into the metadata DB (OPSLAKE_SUPERSET_EVENT_LOG=db would)."""
    import sqlite3
    import time

    db = superset.home / "superset" / "superset.db"

    def db_rows() -> int:
        with sqlite3.connect(db) as con:
            return con.execute("select count(*) from logs").fetchone()[0]

    before = db_rows()
    with superset.client("admin", "admin") as http:
        chart_id = _chart_id(http)
        assert http.get(f"/api/v1/chart/{chart_id}/data/").status_code == 200
    log = superset.home / "run" / "superset.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "opslake.superset.events" not in log.read_text(
        encoding="utf-8", errors="replace"
    ):
        time.sleep(0.2)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "opslake.superset.events" in text
    assert '"action"' in text
    assert db_rows() == before
