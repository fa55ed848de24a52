"""Every fixture metric compiles for Trino and PostgreSQL: it parses back in that dialect and
uses no DuckDB-only function."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from semantic import MetricQuery, compile_query

# functions sqlglot knows only from DuckDB (or that render DuckDB-only names)
DUCKDB_ONLY = {
    "QUANTILE_CONT",
    "QUANTILE_DISC",
    "QUANTILE",
    "LIST",
    "STRFTIME",
    "STRPTIME",
    "EPOCH_MS",
    "DATE_DIFF",
    "ARG_MAX",
    "ARG_MIN",
    "STRING_SPLIT",
    "REGEXP_MATCHES",
    "EPOCH",
    "TODAY",
}


def _queries(manifest):
    for metric in manifest.metrics:
        grain = "day" if metric.window and metric.window.granularity == "day" else "month"
        yield MetricQuery(
            metrics=[metric.name],
            group_by=[f"metric_time__{grain}"],
            where=[{"dimension": f"metric_time__{grain}", "op": ">=", "value": "2023-02-01"}],
            start="2023-01-01",
            end="2024-06-30",
            order_by=[metric.name],
            limit=10,
        )


@pytest.mark.parametrize("dialect", ["trino", "postgres"])
def test_transpiles_and_parses_back(manifest, dialect):
    queries = list(_queries(manifest))
    queries.append(
        MetricQuery(metrics=["revenue", "german_revenue"], group_by=["customer__region__country"])
    )
    for query in queries:
        sql = compile_query(manifest, query, dialect=dialect)
        tree = sqlglot.parse_one(sql, read=dialect)  # raises on invalid SQL
        names = {f.sql_name().upper() for f in tree.find_all(exp.Func)}
        anonymous = {f.name.upper() for f in tree.find_all(exp.Anonymous)}
        assert not (names | anonymous) & DUCKDB_ONLY, (query.metrics, sql)
        assert not anonymous, (query.metrics, anonymous)
        assert "QUANTILE" not in sql.upper()
        # round trip is stable
        assert sqlglot.parse_one(tree.sql(dialect), read=dialect) == tree


def test_dialect_specific_rendering(manifest):
    q = MetricQuery(
        metrics=["revenue_trailing_3_months", "p90_order_amount"], group_by=["metric_time__quarter"]
    )
    with pytest.raises(Exception, match="month or finer"):
        compile_query(manifest, q, dialect="postgres")
    q = MetricQuery(
        metrics=["revenue_mom_growth", "p90_order_amount"], group_by=["metric_time__week"]
    )
    pg = compile_query(manifest, q, dialect="postgres")
    trino = compile_query(manifest, q, dialect="trino")
    assert "PERCENTILE_CONT(0.9) WITHIN GROUP" in pg
    assert "APPROX_PERCENTILE" in trino  # Trino has no exact percentile
    assert "INTERVAL '1 MONTH'" in pg and "INTERVAL '1' MONTH" in trino
    assert "DOUBLE PRECISION" in pg
