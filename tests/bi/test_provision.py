"""Fast checks of apps/bi/provision.py (no Superset needed: its top level is stdlib + PyYAML)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from .conftest import BI_DIR, load_provision

provision = load_provision()


def _split(uri: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(uri)
    return parts.path, dict(parse_qsl(parts.query))


def test_lake_uri_matches_the_warehouse(tmp_path: Path) -> None:
    from warehouse.lake import Lake

    env = {"OPSLAKE_HOME": str(tmp_path)}
    uri = provision.lake_sqlalchemy_uri(env)
    assert uri == (
        f"duckdb:///ducklake:sqlite:{tmp_path}/lake/catalog.sqlite"
        f"?extension_directory={tmp_path}/duckdb_ext&autoinstall_known_extensions=false"
        f"&access_mode=read_only&threads=2&memory_limit=2GB&temp_directory={tmp_path}/lake/spill"
    )
    lake = Lake(
        tmp_path / "lake" / "catalog.sqlite",
        tmp_path / "lake" / "data",
        tmp_path / "duckdb_ext",
        threads=2,
        memory_limit="2GB",
    )
    path, query = _split(lake.sqlalchemy_uri())
    # Superset spills where the lake's own connections spill (Lake.spill_path)
    assert _split(uri) == (path, query | {"temp_directory": str(lake.spill_path)})


def test_lake_uri_follows_settings_overrides(tmp_path: Path) -> None:
    env = {
        "OPSLAKE_HOME": str(tmp_path / "home"),
        "OPSLAKE_LAKE_DIR": str(tmp_path / "elsewhere"),
        "OPSLAKE_EXTENSION_DIR": str(tmp_path / "ext"),
        "OPSLAKE_SUPERSET_DUCKDB_MEMORY_LIMIT": "1GB",
    }
    path, query = _split(provision.lake_sqlalchemy_uri(env))
    assert path == f"/ducklake:sqlite:{tmp_path}/elsewhere/catalog.sqlite"
    assert query["extension_directory"] == str(tmp_path / "ext")
    assert query["memory_limit"] == "1GB"
    assert (
        provision.lake_sqlalchemy_uri({"OPSLAKE_SUPERSET_LAKE_URI": "duckdb:///x"}) == "duckdb:///x"
    )


def test_committed_assets_hold_no_machine_paths() -> None:
    # the places a provisioning run could have written in: this checkout, home, temp
    markers = {str(BI_DIR.parents[1]), str(Path.home()), tempfile.gettempdir()}
    for path in (BI_DIR / "assets").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for marker in markers:
            assert marker + "/" not in text, f"{path} contains {marker}"


def test_render_fills_placeholders_and_keeps_uuids(tmp_path: Path) -> None:
    values = provision.variables({"OPSLAKE_HOME": str(tmp_path)})
    contents = provision.render_assets(values=values)
    assert "metadata.yaml" in contents
    database = yaml.safe_load(contents["databases/opslake_lake.yaml"])
    assert database["sqlalchemy_uri"] == values["LAKE_SQLALCHEMY_URI"]
    assert "${" not in "".join(contents.values())

    chart = yaml.safe_load(contents["charts/store_daily_net_sales.yaml"])
    qc = json.loads(chart["query_context"])  # serialised for Superset, form_data filled in
    assert qc["form_data"]["viz_type"] == chart["viz_type"]
    dashboard = yaml.safe_load(contents["dashboards/sales_overview.yaml"])
    chart_nodes = [
        n
        for n in dashboard["position"].values()
        if isinstance(n, dict) and n.get("type") == "CHART"
    ]
    assert [n["meta"]["uuid"] for n in chart_nodes] == [chart["uuid"]]

    provision.write_bundle(contents, tmp_path / "bundle")
    assert (tmp_path / "bundle" / "datasets" / "opslake_lake" / "fct_pos_daily_sales.yaml").exists()


def test_unknown_placeholder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "metadata.yaml").write_text("version: 1.0.0\ntype: assets\n")
    (tmp_path / "databases").mkdir()
    (tmp_path / "databases" / "x.yaml").write_text("uuid: u1\nsqlalchemy_uri: ${NOPE}\n")
    with pytest.raises(provision.ProvisionError, match="NOPE"):
        provision.render_assets(tmp_path, values={})


def test_generated_metrics_extend_and_override(tmp_path: Path) -> None:
    metrics_file = tmp_path / "superset_metrics.json"
    metrics_file.write_text(
        json.dumps(
            {
                "marts.fct_pos_daily_sales": [
                    {"metric_name": "order_count", "expression": "SUM(order_count)"},
                    {
                        "metric_name": "net_sales",
                        "expression": "SUM(net_sales)",
                        "d3format": ",.0f",
                    },
                ]
            }
        )
    )
    contents = provision.render_assets(
        values=provision.variables({"OPSLAKE_HOME": str(tmp_path)}),
        metrics=provision.load_generated_metrics(metrics_file),
    )
    dataset = yaml.safe_load(contents["datasets/opslake_lake/fct_pos_daily_sales.yaml"])
    by_name = {m["metric_name"]: m for m in dataset["metrics"]}
    assert set(by_name) == {"net_sales", "order_count"}
    assert by_name["net_sales"]["d3format"] == ",.0f"

    metrics_file.write_text(json.dumps({"marts.x": [{"expression": "1"}]}))
    with pytest.raises(provision.ProvisionError):
        provision.load_generated_metrics(metrics_file)
