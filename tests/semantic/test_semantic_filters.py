"""Structured filters (values stay literals), MetricFlow where templates, start/end."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlglot
from semantic_data import FIXTURES, close, month, run

from semantic import Filter, MetricQuery, SemanticError, compile_query
from semantic.compiler import translate_template

TEMPLATES = json.loads((FIXTURES / "where_templates.json").read_text())


@pytest.mark.parametrize("case", TEMPLATES, ids=[c["template"] for c in TEMPLATES])
def test_where_template_translation(case):
    node, refs = translate_template(case["template"])
    assert node.sql() == case["sql"]
    names = ["__".join((*r.path, r.element, *([r.grain] if r.grain else []))) for r in refs]
    assert names == case["refs"]


def _amount_by(data, keep) -> float:
    return sum(r["amount"] for r in data.orders if keep(r))


OPS = [
    (Filter("order__status", "=", "completed"), lambda r: r["status"] == "completed"),
    (Filter("status", "!=", "completed"), lambda r: r["status"] != "completed"),
    (
        Filter("order__status", "in", values=("returned", "cancelled")),
        lambda r: r["status"] in ("returned", "cancelled"),
    ),
    (
        Filter("metric_time__day", "<", "2023-03-01"),
        lambda r: r["order_date"] < dt.date(2023, 3, 1),
    ),
    (
        Filter("order_date", "<=", dt.date(2023, 3, 1)),
        lambda r: r["order_date"] <= dt.date(2023, 3, 1),
    ),
    (
        Filter("order__order_date", ">", "2024-12-01"),
        lambda r: r["order_date"] > dt.date(2024, 12, 1),
    ),
    (Filter("order_date", ">=", "2024-12-01"), lambda r: r["order_date"] >= dt.date(2024, 12, 1)),
    (
        Filter("order_date", "between", values=("2024-02-01", "2024-02-29")),
        lambda r: dt.date(2024, 2, 1) <= r["order_date"] <= dt.date(2024, 2, 29),
    ),
    (Filter("customer__segment", "=", "enterprise"), None),
    (Filter("is_online", "=", True), lambda r: r["is_online"]),
    (Filter("customer", "=", None), lambda r: r["customer_id"] is None),
]


@pytest.mark.parametrize("flt,keep", OPS, ids=[f"{f.dimension} {f.op}" for f, _ in OPS])
def test_structured_filter_ops(manifest, con, data, flt, keep):
    if keep is None:
        segment = {c["customer_id"]: c["segment"] for c in data.customers}
        keep = lambda r: segment.get(r["customer_id"]) == "enterprise"  # noqa: E731
    rows = run(con, compile_query(manifest, MetricQuery(metrics=["revenue"], where=[flt])))
    assert len(rows) == 1
    assert close(rows[0]["revenue"] or 0, _amount_by(data, keep))


def test_filter_dicts_are_accepted(manifest):
    q = MetricQuery(
        metrics=["revenue"], where=[{"dimension": "status", "op": "in", "values": ["a"]}]
    )
    assert q.where == (Filter("status", "in", values=("a",)),)


INJECTIONS = [
    "completed' OR '1'='1",
    "x'; DROP TABLE lake.marts.fct_orders; --",
    "\\' OR 1=1 --",
    "{{ Dimension('order__status') }}",
]


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("dialect", ["duckdb", "trino", "postgres"])
def test_injection_stays_a_literal(manifest, con, data, value, dialect):
    q = MetricQuery(
        metrics=["revenue", "orders"],
        group_by=["metric_time__month"],
        where=[Filter("status", "=", value), Filter("status", "in", values=("completed", value))],
    )
    sql = compile_query(manifest, q, dialect=dialect)
    # the value parses back as one string literal, wherever it appears
    tree = sqlglot.parse_one(sql, read=dialect)
    literals = {lit.this for lit in tree.find_all(sqlglot.exp.Literal) if lit.is_string}
    assert value in literals
    assert len(list(tree.find_all(sqlglot.exp.Drop))) == 0
    if dialect == "duckdb":
        rows = run(con, sql)
        assert rows == []  # no status equals the odd value, and the table is still there
        assert run(con, "SELECT count(*) AS n FROM lake.marts.fct_orders")[0]["n"] == len(
            data.orders
        )


def test_start_end_and_post_filter_on_metric_time(manifest, con, data):
    q = MetricQuery(
        metrics=["revenue"],
        group_by=["metric_time__month"],
        start="2023-03-15",  # periods overlapping the range: March is in
        end=dt.date(2023, 5, 2),
        where=[Filter("metric_time__month", "!=", "2023-04-01")],
    )
    rows = run(con, compile_query(manifest, q))
    assert [r["metric_time__month"] for r in rows] == [dt.date(2023, 3, 1), dt.date(2023, 5, 1)]
    for r in rows:
        want = sum(
            o["amount"] for o in data.orders if month(o["order_date"]) == r["metric_time__month"]
        )
        assert close(r["revenue"], want)

    # without a time group-by, start/end filter the days
    q = MetricQuery(metrics=["orders"], start="2023-03-15", end="2023-05-02")
    rows = run(con, compile_query(manifest, q))
    want = sum(
        1 for o in data.orders if dt.date(2023, 3, 15) <= o["order_date"] <= dt.date(2023, 5, 2)
    )
    assert rows == [{"orders": want}]


def test_order_by_and_limit(manifest, con):
    q = MetricQuery(
        metrics=["revenue"], group_by=["metric_time__month"], order_by=["-revenue"], limit=3
    )
    rows = run(con, compile_query(manifest, q))
    assert len(rows) == 3
    assert rows[0]["revenue"] >= rows[1]["revenue"] >= rows[2]["revenue"]


def test_bad_filters(manifest):
    with pytest.raises(SemanticError, match="valid ops"):
        Filter("status", "like", "x")
    with pytest.raises(SemanticError, match="two values"):
        Filter("status", "between", values=("a",))
    with pytest.raises(SemanticError, match="not a date"):
        compile_query(
            manifest, MetricQuery(metrics=["revenue"], where=[Filter("order_date", ">", "soon")])
        )
