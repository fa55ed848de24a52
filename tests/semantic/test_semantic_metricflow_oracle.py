"""MetricFlow (dbt-metricflow, dev dependency) as the oracle: it plans the same queries from the
same manifest, its SQL runs on the same tiny lake, and the numbers must match ours.

Known, deliberate differences (not compared here):

* ``p90_order_amount``: MetricFlow's PERCENTILE_CONT on a DECIMAL column rounds to the column's
  scale; we interpolate in DOUBLE.
* ``enterprise_revenue_share``: MetricFlow 0.213 names the filtered numerator and the plain
  denominator both ``revenue`` (same metric, no alias) and returns 1.0 for every month.
* ``german_revenue``: MetricFlow wants ``Dimension('region__country', entity_path=['customer'])``
  for a two-hop filter; it rejects the dunder form ``customer__region__country`` we also accept.
* cumulative windows queried at a coarser grain than a day: we sum whole periods (trailing 3
  months = this month and the 2 before); MetricFlow takes a day-level window at one day of the
  period (``period_agg``). At day grain we agree, which is compared below.
* all-time cumulatives: MetricFlow continues to the end of the time spine; we stop at the last
  data (or at ``end``). Rows up to the last data are compared.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from semantic_data import MANIFEST, close

from semantic import MetricQuery, compile_query, load_manifest

mf_engine = pytest.importorskip("metricflow.engine.metricflow_engine")
pytest.importorskip("dbt_metricflow")

REAL_MANIFEST = Path(__file__).resolve().parents[2] / "models" / "target" / "semantic_manifest.json"


class _ExplainOnlyClient:
    """The slice of MetricFlow's SqlClient that ``explain`` needs: the DuckDB renderer."""

    def __init__(self) -> None:
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self.sql_engine_type = SqlEngine.DUCKDB
        self.sql_plan_renderer = DuckDbSqlPlanRenderer()

    def render_bind_parameter_key(self, key: str) -> str:
        return f"${key}"

    def close(self) -> None:
        pass


def _engine(path: Path):
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    manifest = parse_manifest_from_dbt_generated_manifest(path.read_text())
    return mf_engine.MetricFlowEngine(SemanticManifestLookup(manifest), _ExplainOnlyClient())


def _key(value):
    return value.date() if isinstance(value, dt.datetime) else value


def _mf_rows(engine, con, metric: str, group_by: list[str]) -> dict:
    request = mf_engine.MetricFlowQueryRequest.create(
        metric_names=[metric], group_by_names=group_by
    )
    sql = engine.explain(request).sql_statement.sql
    rel = con.execute(sql)
    cols = [c[0] for c in rel.description]
    out = {}
    for row in rel.fetchall():
        rec = dict(zip(cols, row, strict=True))
        out[tuple(_key(rec[g]) for g in group_by)] = rec[metric]
    return out


def _our_rows(manifest, con, metric: str, group_by: list[str]) -> dict:
    rel = con.execute(compile_query(manifest, MetricQuery(metrics=[metric], group_by=group_by)))
    cols = [c[0] for c in rel.description]
    return {
        tuple(rec[g] for g in group_by): rec[metric]
        for rec in (dict(zip(cols, row, strict=True)) for row in rel.fetchall())
    }


def _assert_same(ours: dict, theirs: dict, label: str) -> None:
    ours = {k: v for k, v in ours.items() if v is not None}
    theirs = {k: v for k, v in theirs.items() if v is not None}
    assert set(ours) == set(theirs), (label, sorted(set(ours) ^ set(theirs))[:5])
    bad = [k for k in ours if not close(ours[k], theirs[k])]
    assert not bad, (label, [(k, ours[k], theirs[k]) for k in bad[:5]])


COMPARED = [
    ("pos_net_sales", ["metric_time__month"]),
    ("pos_net_sales", ["metric_time__month", "pos_daily_sales__store_code"]),
    ("pos_net_sales", ["store__city"]),
    ("pos_average_order_value", ["metric_time__month"]),
    ("revenue", ["metric_time__month"]),
    ("orders", ["metric_time__month"]),
    ("distinct_customers", ["metric_time__month"]),
    ("avg_order_amount", ["metric_time__month"]),
    ("min_order_amount", ["metric_time__month"]),
    ("max_order_amount", ["metric_time__month"]),
    ("online_orders", ["metric_time__month"]),
    ("shipped_revenue", ["metric_time__month"]),
    ("revenue_per_order", ["metric_time__month"]),
    ("completed_share", ["metric_time__month"]),
    ("revenue_prev_month", ["metric_time__month"]),
    ("revenue_mom_growth", ["metric_time__month"]),
    ("revenue_yoy_growth", ["metric_time__month"]),
    ("revenue_ytd", ["metric_time__month"]),
    ("revenue_ytd", ["metric_time__day"]),
    ("revenue_trailing_3_months", ["metric_time__day"]),
    ("orders_trailing_7_days", ["metric_time__day"]),
    ("completed_revenue", ["metric_time__month"]),
    ("enterprise_revenue", ["metric_time__month", "customer__segment"]),
    ("online_revenue_since_2024", ["metric_time__month"]),
]


@pytest.fixture(scope="module")
def engine():
    return _engine(MANIFEST)


def test_metricflow_agrees_on_fixture_data(engine, manifest, con):
    for metric, group_by in COMPARED:
        _assert_same(
            _our_rows(manifest, con, metric, group_by),
            _mf_rows(engine, con, metric, group_by),
            f"{metric} by {group_by}",
        )


def test_metricflow_agrees_on_all_time_cumulative_up_to_last_data(engine, manifest, con, data):
    last = max(o["order_date"] for o in data.orders)
    for metric in ("revenue_all_time", "customers_all_time"):
        theirs = _mf_rows(engine, con, metric, ["metric_time__day"])
        theirs = {k: v for k, v in theirs.items() if k[0] <= last}
        _assert_same(_our_rows(manifest, con, metric, ["metric_time__day"]), theirs, metric)


def test_metricflow_agrees_on_real_lake(demo_lake):
    """pos_net_sales by month on the real marts of the demo company built by the pipeline."""
    assert REAL_MANIFEST.exists(), "the demo build writes the dbt manifest"
    con = demo_lake.lake.reader()
    try:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'lake' "
                "AND table_schema = 'marts'"
            ).fetchall()
        }
        assert "fct_pos_daily_sales" in tables
        manifest = load_manifest(REAL_MANIFEST)
        engine = _engine(REAL_MANIFEST)
        for metric in ("pos_net_sales", "pos_average_order_value"):
            _assert_same(
                _our_rows(manifest, con, metric, ["metric_time__month"]),
                _mf_rows(engine, con, metric, ["metric_time__month"]),
                metric,
            )
    finally:
        con.close()
