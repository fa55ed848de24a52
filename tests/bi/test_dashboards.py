"""Dashboards as code: the spec is consistent, and on a lake built by the real pipeline every
chart of every dashboard returns rows through Superset's chart-data API; one KPI is identical
from the semantic layer and from Superset."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from types import ModuleType

import pytest

from .conftest import BI_DIR, Superset


def load_spec() -> ModuleType:
    spec = importlib.util.spec_from_file_location("opslake_bi_dashboards", BI_DIR / "dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


dashboards = load_spec()


def _saved_metrics() -> dict[str, set[str]]:
    from semantic.export import export
    from semantic.manifest import load_manifest

    from .conftest import ensure_semantic_manifest

    result = export(load_manifest(ensure_semantic_manifest()))
    return {
        key.split(".", 1)[1]: {m["metric_name"] for m in ms} for key, ms in result.datasets.items()
    }


def test_spec_is_consistent_with_marts_and_semantic_layer() -> None:
    columns = dashboards.columns_from_assets()
    assert dashboards.check(columns, _saved_metrics()) == []
    assert len(dashboards.viz_types()) >= 20, sorted(dashboards.viz_types())
    slugs = {d.slug for d in dashboards.DASHBOARDS}
    assert {
        "cockpit",
        "sales-oms",
        "inventory",
        "procurement",
        "finance",
        "hr",
        "crm",
        "production-quality",
        "projects",
        "operations",
    } <= slugs


def test_generated_assets_are_up_to_date() -> None:
    """The committed YAML is what the spec renders (run apps/bi/dashboards.py after edits)."""
    files = dashboards.render(dashboards.columns_from_assets())
    for rel, obj in files.items():
        path = BI_DIR / "assets" / rel
        assert path.exists(), f"{rel} missing: run apps/bi/dashboards.py"
        assert path.read_text(encoding="utf-8") == dashboards.dump(obj), f"{rel} is stale"


def _dashboard_charts(http) -> dict[str, list[dict]]:
    found = http.get("/api/v1/dashboard/?q=(page_size:100)").json()["result"]
    return {
        d["slug"]: http.get(f"/api/v1/dashboard/{d['id']}/charts").json()["result"] for d in found
    }


@pytest.mark.superset
def test_every_chart_of_every_dashboard_returns_rows(demo_superset: Superset) -> None:
    problems = []
    with demo_superset.client("admin", "admin") as http:
        charts = _dashboard_charts(http)
        assert len(charts) >= 11
        for slug, items in charts.items():
            for chart in items:
                resp = http.get(f"/api/v1/chart/{chart['id']}/data/", params={"format": "json"})
                if resp.status_code != 200:
                    problems.append(
                        f"{slug}/{chart['slice_name']}: HTTP {resp.status_code} {resp.text[:200]}"
                    )
                    continue
                for q in resp.json()["result"]:
                    if q.get("error") or not q.get("rowcount"):
                        problems.append(
                            f"{slug}/{chart['slice_name']}: {q.get('error') or 'no rows'}"
                        )
    assert not problems, "\n".join(problems)


@pytest.mark.superset
def test_revenue_by_month_and_channel_is_identical_in_semantic_layer_and_superset(
    demo_superset: Superset, demo_lake
) -> None:
    from semantic import MetricQuery
    from semantic.service import MetricService

    from .conftest import ensure_semantic_manifest

    title = next(c.title for c in dashboards.COCKPIT.charts if c.key == "cockpit-revenue-channel")
    with demo_superset.client("admin", "admin") as http:
        chart = next(c for c in _dashboard_charts(http)["cockpit"] if c["slice_name"] == title)
        resp = http.get(f"/api/v1/chart/{chart['id']}/data/", params={"format": "json"})
        assert resp.status_code == 200, resp.text
        rows = resp.json()["result"][0]["data"]
    from_superset = {
        (dt.datetime.fromtimestamp(r["placed_date"] / 1000, dt.UTC).date(), r["channel"]): r[
            "revenue"
        ]
        for r in rows
    }
    with MetricService(ensure_semantic_manifest(), demo_lake.lake.reader) as service:
        result = service.query(
            MetricQuery(metrics=["revenue"], group_by=["metric_time__month", "channel"])
        )
    from_semantic = {}
    for r in result.rows():
        month = r["metric_time__month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        channel = r.get("channel", r.get("orders__channel"))
        from_semantic[(month, channel)] = float(r["revenue"])
    assert len(from_semantic) > 20
    assert from_superset.keys() == from_semantic.keys()
    for key, value in from_semantic.items():
        assert from_superset[key] == pytest.approx(value, rel=1e-12, abs=0.005), key


@pytest.mark.superset
def test_regional_manager_sees_only_her_region(demo_superset: Superset) -> None:
    title = next(c.title for c in dashboards.COCKPIT.charts if c.key == "cockpit-region")

    def provinces(user: str) -> set[str]:
        with demo_superset.client(user, user) as http:
            chart = next(c for c in _dashboard_charts(http)["cockpit"] if c["slice_name"] == title)
            resp = http.get(f"/api/v1/chart/{chart['id']}/data/", params={"format": "json"})
            assert resp.status_code == 200, resp.text
            return {r["province"] for r in resp.json()["result"][0]["data"]}

    assert len(provinces("admin")) > 5
    assert provinces("manager_zj") == {"浙江"}
