"""Unknown names fail with one exception class and a message listing the valid names."""

from __future__ import annotations

import pytest

from semantic import MetricQuery, SemanticError, compile_query
from semantic.manifest import parse_manifest


def test_unknown_metric_lists_valid_metrics(manifest):
    with pytest.raises(SemanticError) as err:
        compile_query(manifest, MetricQuery(metrics=["revenu"]))
    msg = str(err.value)
    assert "unknown metric 'revenu'" in msg
    for name in ("revenue", "pos_net_sales", "revenue_mom_growth"):
        assert name in msg


def test_unknown_dimension_lists_valid_names(manifest):
    with pytest.raises(SemanticError) as err:
        compile_query(manifest, MetricQuery(metrics=["revenue"], group_by=["colour"]))
    msg = str(err.value)
    assert "unknown dimension 'colour'" in msg
    for name in ("metric_time", "order__status", "customer__segment", "customer__region__country"):
        assert name in msg


def test_unknown_filter_dimension(manifest):
    q = MetricQuery(metrics=["revenue"], where=[{"dimension": "nope", "value": 1}])
    with pytest.raises(SemanticError, match="unknown dimension 'nope'.*order__status"):
        compile_query(manifest, q)


def test_dimension_of_another_model_not_reachable(manifest):
    # form-like case: pos sales have no path to customers
    with pytest.raises(SemanticError, match="unknown dimension 'customer__segment'.*store__city"):
        compile_query(
            manifest, MetricQuery(metrics=["pos_net_sales"], group_by=["customer__segment"])
        )


@pytest.mark.parametrize(
    "query,match",
    [
        (
            MetricQuery(metrics=["revenue_all_time"], group_by=["order__status"]),
            "needs metric_time",
        ),
        (MetricQuery(metrics=["revenue_mom_growth"]), "needs metric_time"),
        (
            MetricQuery(metrics=["revenue_trailing_3_months"], group_by=["metric_time__year"]),
            "query it at month or finer",
        ),
        (
            MetricQuery(metrics=["revenue"], group_by=["metric_time__fortnight"]),
            "unknown dimension",
        ),
        (
            MetricQuery(metrics=["revenue"], group_by=["order__status__month"]),
            "not a time dimension",
        ),
        (MetricQuery(metrics=["revenue"], group_by=["metric_time__hour"]), "only known to the day"),
        (MetricQuery(metrics=["revenue"], order_by=["nope"]), "cannot order by 'nope'"),
        (MetricQuery(metrics=["revenue"], group_by=["revenue"]), "both as metric and group-by"),
    ],
)
def test_query_errors(manifest, query, match):
    with pytest.raises(SemanticError, match=match):
        compile_query(manifest, query)


def test_empty_query_and_bad_dialect(manifest):
    with pytest.raises(SemanticError, match="at least one metric"):
        MetricQuery(metrics=[])
    with pytest.raises(SemanticError, match="valid: duckdb, trino, postgres"):
        compile_query(manifest, MetricQuery(metrics=["revenue"]), dialect="mysql")


def test_malformed_manifest():
    with pytest.raises(SemanticError, match="malformed"):
        parse_manifest({"semantic_models": [{"name": "x"}]})
    bad = {
        "metrics": [
            {
                "name": "m",
                "type": "derived",
                "type_params": {"expr": "a + zzz", "metrics": [{"name": "a"}]},
            },
            {"name": "a", "type": "simple", "type_params": {"measure": {"name": "q"}}},
        ],
        "semantic_models": [],
    }
    with pytest.raises(SemanticError, match="expr refers to 'zzz'|unknown measure 'q'"):
        compile_query(parse_manifest(bad), MetricQuery(metrics=["m"]))
