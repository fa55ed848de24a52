"""Export the semantic layer's metrics as Superset dataset metrics (generated, never hand-copied).

For every semantic model, the metrics that live entirely on that model's table become SQL
aggregate expressions on the Superset dataset of that table:

* ``simple``: the measure's aggregation, e.g. ``SUM(revenue_amount)``;
* ``ratio``: ``CAST(<num> AS DOUBLE) / NULLIF(CAST(<den> AS DOUBLE), 0)`` of two such metrics,
  exactly what :mod:`semantic.compiler` computes for one group;
* ``derived``: its ``expr`` with each input replaced by that input's expression.

A metric whose inputs span several tables, carries a filter or offset, or is cumulative or a
conversion stays in the semantic layer only (it is listed under ``skipped`` by :func:`export`).

A semantic model's rollups (``config.meta.opslake.rollups``: pre-aggregated tables with one
column per measure, named after it, holding the measure summed per group) get the same
metrics under the same names, each measure read as ``SUM(<measure name>)`` from the rollup;
a metric with a measure that is not a count or a sum is left off the rollup.

The output is what ``apps/bi/provision.py`` merges into the datasets it imports::

    {"marts.fct_orders": [{"metric_name": "revenue", "expression": "SUM(revenue_amount)",
                           "verbose_name": "Revenue / 销售额", "d3format": ",.2f", ...}], ...}

Run ``python -m semantic.export`` (writes ``$OPSLAKE_HOME/semantic/superset_metrics.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp, parse_one

from semantic.compiler import _measure_agg
from semantic.errors import SemanticError
from semantic.manifest import Manifest, Metric, SemanticModel, load_manifest

DEFAULT_MANIFEST = (
    Path(__file__).resolve().parents[1] / "models" / "target" / "semantic_manifest.json"
)
DIALECT = "duckdb"

PERCENT = ".1%"
MONEY = ",.2f"
COUNT = ",d"
DECIMAL = ",.2f"


@dataclass
class Export:
    """Per ``schema.table``: the Superset metrics; and the metrics that could not go."""

    datasets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        return self.datasets


def _measure_expr(
    manifest: Manifest, metric: Metric, rollup: bool = False
) -> tuple[SemanticModel, exp.Expression]:
    assert metric.measure is not None
    if metric.measure.filters or metric.filters:
        raise SemanticError("has a filter")
    if metric.measure.fill_nulls_with is not None or metric.measure.join_to_timespine:
        raise SemanticError("fills nulls / joins to the time spine")
    model, measure = manifest.measure(metric.measure.name)
    if measure.non_additive:
        raise SemanticError("is semi-additive")
    if rollup:  # the rollup's column of this measure holds its sum (or count) per group
        if measure.agg not in ("sum", "count"):
            raise SemanticError(f"has a {measure.agg} measure, which does not roll up")
        total = exp.Sum(this=exp.column(measure.name))
        # a count is 0, never NULL, over no rows, as on the model itself
        return model, exp.Coalesce(this=total, expressions=[exp.Literal.number(0)]) if (
            measure.agg == "count"
        ) else total
    node = parse_one(measure.expr, read=DIALECT)
    return model, _measure_agg(measure.agg, node, measure)


def metric_expression(
    manifest: Manifest, name: str, _seen: frozenset[str] = frozenset(), rollup: bool = False
) -> tuple[SemanticModel, exp.Expression]:
    """(the one semantic model a metric reads, its SQL aggregate expression on that table).

    With ``rollup``, the expression on a rollup of that model (measures as sums of their
    columns). Raises :class:`SemanticError` when the metric cannot be one dataset expression.
    """
    if name in _seen:
        raise SemanticError("refers to itself")
    metric = manifest.metric(name)
    seen = _seen | {name}
    if metric.type == "simple":
        return _measure_expr(manifest, metric, rollup)
    if metric.filters:
        raise SemanticError("has a filter")
    if metric.type == "ratio":
        assert metric.numerator and metric.denominator
        parts = []
        for inp in (metric.numerator, metric.denominator):
            if inp.filters or inp.offset_window or inp.offset_to_grain:
                raise SemanticError("has an input with a filter or offset")
            parts.append(metric_expression(manifest, inp.name, seen, rollup))
        (m1, num), (m2, den) = parts
        if m1 is not m2:
            raise SemanticError(f"spans {m1.name} and {m2.name}")
        expr = exp.Div(
            this=exp.cast(num, exp.DataType.Type.DOUBLE),
            expression=exp.Nullif(
                this=exp.cast(den, exp.DataType.Type.DOUBLE),
                expression=exp.Literal.number(0),
            ),
        )
        return m1, expr
    if metric.type == "derived":
        if not metric.expr:
            raise SemanticError("has no expr")
        inputs: dict[str, exp.Expression] = {}
        model: SemanticModel | None = None
        for inp in metric.inputs:
            if inp.filters or inp.offset_window or inp.offset_to_grain:
                raise SemanticError("has an input with a filter or offset")
            m, node = metric_expression(manifest, inp.name, seen, rollup)
            if model is not None and m is not model:
                raise SemanticError(f"spans {model.name} and {m.name}")
            model = m
            inputs[inp.column] = node
        if model is None:
            raise SemanticError("has no inputs")

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table and node.name in inputs:
                return exp.paren(inputs[node.name].copy())
            return node

        return model, parse_one(metric.expr, read=DIALECT).transform(swap)
    raise SemanticError(f"is a {metric.type} metric")


def d3_format(manifest: Manifest, metric: Metric) -> str:
    """A display format from what the metric is (rate, money, count)."""
    name = metric.name
    if metric.type == "ratio" and any(w in name for w in ("rate", "share", "ratio")):
        return PERCENT
    if metric.type == "ratio" and name.endswith(("_turnover",)):
        return DECIMAL
    if metric.type == "simple" and metric.measure is not None:
        _, measure = manifest.measure(metric.measure.name)
        if measure.agg in ("count", "count_distinct") or "count" in measure.name:
            return COUNT
    return MONEY if metric.type != "derived" else DECIMAL


def _saved_metric(
    manifest: Manifest, metric: Metric, model: SemanticModel, node: exp.Expression, **extra: str
) -> dict[str, Any]:
    return {
        "metric_name": metric.name,
        "verbose_name": metric.label or metric.name,
        "expression": node.sql(dialect=DIALECT),
        "description": metric.description or None,
        "d3format": d3_format(manifest, metric),
        "metric_type": metric.type,
        "warning_text": None,
        "extra": json.dumps(
            {"opslake": {"generated_from": "semantic_manifest", "model": model.name} | extra}
        ),
    }


def export(manifest: Manifest) -> Export:
    out = Export()
    for metric in sorted(manifest.metrics, key=lambda m: m.name):
        try:
            model, node = metric_expression(manifest, metric.name)
        except SemanticError as exc:
            out.skipped[metric.name] = str(exc)
            continue
        key = f"{model.relation.schema}.{model.relation.alias}"
        out.datasets.setdefault(key, []).append(_saved_metric(manifest, metric, model, node))
        for rollup in model.rollups:
            try:
                _, on_rollup = metric_expression(manifest, metric.name, rollup=True)
            except SemanticError as exc:
                out.skipped[f"{metric.name}@{rollup.model}"] = str(exc)
                continue
            out.datasets.setdefault(f"{model.relation.schema}.{rollup.model}", []).append(
                _saved_metric(manifest, metric, model, on_rollup, rollup=rollup.model)
            )
    return out


def write(manifest_path: Path, out_path: Path) -> Export:
    result = export(load_manifest(manifest_path))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(result.as_json(), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    tmp.replace(out_path)
    return result


def default_out() -> Path:
    from warehouse.settings import Settings

    return Settings().home / "semantic" / "superset_metrics.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export semantic metrics to Superset datasets")
    parser.add_argument("--manifest", default=str(DEFAULT_MANIFEST))
    parser.add_argument("--out", help="default $OPSLAKE_HOME/semantic/superset_metrics.json")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else default_out()
    try:
        result = write(Path(args.manifest), out)
    except (OSError, SemanticError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    count = sum(len(v) for v in result.datasets.values())
    print(f"exported {count} metrics on {len(result.datasets)} datasets to {out}")
    for name, why in sorted(result.skipped.items()):
        print(f"  kept in the semantic layer only: {name} ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
