"""Rollups (``config.meta.opslake.rollups`` of a semantic model, decision 0053): every metric of
the model is exported on the rollup too, and on the demo lake each measure column of the
rollup is that measure of the model, grouped by the rollup's dimensions."""

from __future__ import annotations

from sqlglot import parse_one

from semantic.compiler import _measure_agg
from semantic.export import export
from semantic.manifest import load_manifest
from tests.bi.conftest import ensure_semantic_manifest


def _real():
    return load_manifest(ensure_semantic_manifest())


def test_the_orders_rollup_is_declared_and_carries_every_orders_metric() -> None:
    manifest = _real()
    orders = next(m for m in manifest.semantic_models if m.name == "orders")
    assert [r.model for r in orders.rollups] == ["agg_orders_daily"]
    out = export(manifest)
    on_model = {m["metric_name"]: m for m in out.datasets["marts.fct_orders"]}
    on_rollup = {m["metric_name"]: m for m in out.datasets["marts.agg_orders_daily"]}
    assert not [k for k in out.skipped if "@" in k], out.skipped  # every measure rolls up
    assert on_rollup.keys() == on_model.keys()
    assert on_rollup["revenue"]["expression"] == "SUM(order_revenue)"
    assert on_rollup["orders"]["expression"] == "COALESCE(SUM(order_count), 0)"


def test_rollup_columns_are_the_measures_grouped(demo_lake) -> None:
    manifest = _real()
    checked = 0
    with demo_lake.lake.reading() as con:
        for model in manifest.semantic_models:
            for rollup in model.rollups:
                base = ".".join(model.relation.parts[-2:])
                table = f"{model.relation.schema}.{rollup.model}"
                dims = [model.dimension(d).expr for d in rollup.dimensions]
                keys = ", ".join(dims)
                on = " and ".join(f"a.{d} is not distinct from b.{d}" for d in dims)
                for measure in model.measures:
                    value = _measure_agg(measure.agg, parse_one(measure.expr, read="duckdb"))
                    ours = f"select {keys}, {value.sql('duckdb')} as v from {base} group by all"
                    theirs = f"select {keys}, {measure.name} as v from {table}"
                    # (sums of doubles may differ in the last bits: compare with a tolerance)
                    diff = con.execute(
                        f"select count(*) from ({ours}) a full join ({theirs}) b on {on} "
                        "where (a.v is null) <> (b.v is null) "
                        "or abs(a.v - b.v) > 1e-9 * greatest(1, abs(a.v))"
                    ).fetchone()[0]
                    assert diff == 0, f"{rollup.model}.{measure.name}: {diff} rows differ"
                    checked += 1
    assert checked >= 9
