"""The metrics endpoints (issue #5, served by the ops API) against a real small DuckLake:
the fixture company of the semantic tests written into a lake, read back read-only. The
API's numbers must be MetricService's numbers for the same query, in JSON and in CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from apps.ops.core.config import OpsSettings
from apps.ops.main import create_app
from semantic.query import Filter, MetricQuery
from semantic.service import MetricService
from tests.ops.conftest import TestClient, headers_for
from tests.semantic.semantic_data import MANIFEST, load_dataset, make_dataset
from warehouse.lake import Lake
from warehouse.settings import Settings

QUERY = "/api/v1/metrics/query"


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory, extension_dir: Path) -> Lake:
    home = tmp_path_factory.mktemp("metrics-home")
    lake = Lake.from_settings(Settings(_env_file=None, home=home, extension_dir=extension_dir))
    lake.init()
    source = duckdb.connect()
    load_dataset(source, make_dataset())  # the tables, in an in-memory "lake" database
    tables = [r[0] for r in source.execute("SHOW TABLES FROM lake.marts").fetchall()]
    with lake.writing() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS lake.marts")
        for table in tables:
            con.register("batch", source.execute(f"FROM lake.marts.{table}").to_arrow_table())
            con.execute(f"CREATE TABLE lake.marts.{table} AS FROM batch")
            con.unregister("batch")
    source.close()
    return lake


@pytest.fixture
def metrics_client(
    make_settings: Callable[..., OpsSettings], small_lake: Lake, extension_dir: Path
) -> Iterator[TestClient]:
    settings = make_settings(
        lake_dir=small_lake.catalog_path.parent,
        extension_dir=extension_dir,
        semantic_manifest=MANIFEST,
    )
    with TestClient(create_app(settings)) as client:
        yield client
        service = getattr(client.app.state, "metrics", None)
        if service is not None:
            service.close()


@pytest.fixture
def service(small_lake: Lake) -> Iterator[MetricService]:
    with MetricService(MANIFEST, small_lake.reader) as svc:
        yield svc


def _plain(value: Any) -> Any:
    """A value as it comes back in JSON."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _same(api_rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(api_rows) == len(expected) > 0
    for got, want in zip(api_rows, expected, strict=True):
        assert set(got) == set(want)
        for key, value in want.items():
            if isinstance(value, Decimal | float):
                assert got[key] == pytest.approx(float(value)), key
            else:
                assert got[key] == _plain(value), key


def test_lists_the_kpis_with_their_labels_and_types(metrics_client):
    response = metrics_client.get("/api/v1/metrics", headers=headers_for(metrics_client, "admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    names = [m["name"] for m in body["data"]]
    assert "revenue" in names and "revenue_mom_growth" in names
    assert body["count"] == len(names) == 27
    by_name = {m["name"]: m for m in body["data"]}
    assert by_name["pos_average_order_value"]["type"] == "ratio"
    assert set(by_name["revenue"]) == {"name", "label", "description", "type"}


def test_a_role_without_metrics_access_is_refused(metrics_client):
    headers = headers_for(metrics_client, "operator")
    assert metrics_client.get("/api/v1/metrics", headers=headers).status_code == 403
    response = metrics_client.post(QUERY, headers=headers, json={"metrics": ["revenue"]})
    assert response.status_code == 403
    assert metrics_client.get("/api/v1/metrics").status_code == 401


def test_the_api_number_is_the_metric_service_number(metrics_client, service):
    body = {
        "metrics": ["revenue", "orders", "revenue_mom_growth"],
        "group_by": ["metric_time__month"],
        "start": "2023-03-01",
        "end": "2024-06-30",
        "order_by": ["metric_time__month"],
    }
    response = metrics_client.post(QUERY, headers=headers_for(metrics_client, "admin"), json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    expected = service.query(
        MetricQuery(
            metrics=body["metrics"],
            group_by=body["group_by"],
            start=body["start"],
            end=body["end"],
            order_by=body["order_by"],
        )
    )
    assert result["columns"] == expected.columns
    assert result["truncated"] is False
    _same(result["data"], expected.rows())


def test_csv_parses_to_the_same_rows(metrics_client, service):
    headers = headers_for(metrics_client, "admin")
    body = {"metrics": ["pos_net_sales"], "group_by": ["store_code"], "order_by": ["store_code"]}
    expected = service.query(
        MetricQuery(metrics=["pos_net_sales"], group_by=["store_code"], order_by=["store_code"])
    ).rows()
    by_accept = metrics_client.post(QUERY, headers={**headers, "Accept": "text/csv"}, json=body)
    by_param = metrics_client.post(QUERY + "?format=csv", headers=headers, json=body)
    for response in (by_accept, by_param):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [r["store_code"] for r in rows] == [e["store_code"] for e in expected]
        for row, want in zip(rows, expected, strict=True):
            assert Decimal(row["pos_net_sales"]) == pytest.approx(want["pos_net_sales"])


def test_get_with_query_parameters_and_a_filter(metrics_client, service):
    response = metrics_client.get(
        QUERY,
        headers=headers_for(metrics_client, "admin"),
        params={"metrics": "revenue", "group_by": "status", "where": "is_online=true"},
    )
    assert response.status_code == 200, response.text
    expected = service.query(
        MetricQuery(
            metrics=["revenue"], group_by=["status"], where=[Filter("is_online", "=", "true")]
        )
    )
    key = lambda row: str(row["status"])  # noqa: E731
    _same(sorted(response.json()["data"], key=key), sorted(expected.rows(), key=key))


def test_a_limit_says_when_rows_were_left_out(metrics_client):
    response = metrics_client.post(
        QUERY,
        headers=headers_for(metrics_client, "admin"),
        json={"metrics": ["revenue"], "group_by": ["metric_time__month"], "limit": 3},
    )
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 3 and response.json()["truncated"] is True


def test_an_unknown_metric_is_a_422_that_lists_the_valid_names(metrics_client):
    response = metrics_client.post(
        QUERY, headers=headers_for(metrics_client, "admin"), json={"metrics": ["revenu"]}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "revenu" in detail and "revenue_mom_growth" in detail and "pos_net_sales" in detail
    bad_dim = metrics_client.post(
        QUERY,
        headers=headers_for(metrics_client, "admin"),
        json={"metrics": ["revenue"], "group_by": ["no_such_dimension"]},
    )
    assert bad_dim.status_code == 422 and "no_such_dimension" in bad_dim.json()["detail"]


def test_no_lake_yet_is_a_503_that_says_so(make_settings, tmp_path):
    settings = make_settings(lake_dir=tmp_path / "no-lake", semantic_manifest=MANIFEST)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/metrics", headers=headers_for(client, "admin"))
    assert response.status_code == 503
    assert "no lake" in response.json()["detail"]
