"""MetricService: listing, running on a passed-in connection, and compile caching."""

from __future__ import annotations

import pyarrow as pa
from semantic_data import MANIFEST

from semantic import MetricQuery, compile_query
from semantic.compiler import build_index
from semantic.manifest import load_manifest
from semantic.service import MetricService


def test_list_metrics(con):
    service = MetricService(MANIFEST, lambda: con)
    metrics = {m.name: m for m in service.list_metrics()}
    assert metrics["revenue"].label == "Revenue"
    assert metrics["revenue"].description == "Order amounts."
    assert {m.type for m in metrics.values()} == {"simple", "ratio", "derived", "cumulative"}


def test_query_returns_arrow_and_columns(con, data):
    calls = []

    def factory():
        calls.append(1)
        return con

    service = MetricService(MANIFEST, factory)
    q = MetricQuery(metrics=["revenue", "orders"], group_by=["metric_time__year"])
    result = service.query(q)
    assert isinstance(result.table, pa.Table)
    assert result.columns == ["metric_time__year", "revenue", "orders"]
    assert sum(r["orders"] for r in result.rows()) == len(data.orders)
    service.query(q)
    assert calls == [1]  # one connection, kept
    assert service.compile(q) == result.sql


def test_manifest_is_cached_until_the_file_changes(tmp_path):
    path = tmp_path / "semantic_manifest.json"
    path.write_text(MANIFEST.read_text())
    first = load_manifest(path)
    assert load_manifest(path) is first
    assert build_index(first) is build_index(first)


def test_compile_is_deterministic(manifest):
    """Compiling the same query twice (cold, then from the caches) gives the same SQL.

    Compile speed is a benchmark figure (`make bench`, bi_metric_compile_budget), not a test.
    """
    queries = [
        MetricQuery(metrics=["revenue"], group_by=["metric_time__month"]),
        MetricQuery(
            metrics=["pos_average_order_value"], group_by=["metric_time__month", "store_code"]
        ),
        MetricQuery(
            metrics=["revenue_mom_growth"], group_by=["metric_time__month"], start="2024-01-01"
        ),
        MetricQuery(metrics=["revenue_all_time", "revenue_ytd"], group_by=["metric_time__month"]),
        MetricQuery(
            metrics=["german_revenue"],
            group_by=["customer__region__country"],
            where=[{"dimension": "order__status", "op": "in", "values": ["completed"]}],
        ),
    ]
    for q in queries:
        assert compile_query(manifest, q) == compile_query(manifest, q)
