"""Compile a :class:`MetricQuery` against a :class:`Manifest` into one SQL statement.

The query is built as a sqlglot expression tree (user values become literals) and rendered for
DuckDB, Trino or PostgreSQL. Shape of the SQL:

* one *leaf* CTE per measure use: ``FROM`` the measure's model, ``LEFT JOIN`` other models along
  the entity graph (foreign -> primary) for their dimensions, ``WHERE`` filters, ``GROUP BY``
  the requested dimensions;
* cumulative metrics join per-period leaf values to the time spine (``leaf.period <= spine.period``
  within the window / grain-to-date), offsets look each spine period up at ``period - offset``:
  both by time period, never by row position, and both before the query's time range is applied;
* ratio and derived metrics join their inputs on the group-by keys (null-safe), each input
  aggregated on its own.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import sqlglot
from sqlglot import exp

from semantic.errors import SemanticError
from semantic.manifest import GRAIN_RANK, PRIMARY_LIKE, Manifest, Metric, SemanticModel
from semantic.query import Filter, MetricQuery

DIALECTS = ("duckdb", "trino", "postgres")
METRIC_TIME = "metric_time"
MAX_HOPS = 2  # joins from a measure's model to a dimension's model
ADDITIVE = {"sum": "sum", "count": "sum", "sum_boolean": "sum", "min": "min", "max": "max"}
_PLACEHOLDER = "__sl_ref_{}"
# sqlglot renamed these Select args (from -> from_, with -> with_); support both
_FROM = "from_" if "from_" in exp.Select.arg_types else "from"
_WITH = "with_" if "with_" in exp.Select.arg_types else "with"


# -- names -------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A parsed group-by / filter name: ``entity__entity__element__grain``."""

    name: str
    path: tuple[str, ...]
    element: str
    grain: str | None

    @property
    def is_metric_time(self) -> bool:
        return self.element == METRIC_TIME


@lru_cache(maxsize=4096)
def parse_ref(name: str, grain: str | None = None) -> Ref:
    parts = name.strip().split("__")
    if not all(parts):
        raise SemanticError(f"malformed name {name!r}")
    if grain is None and len(parts) > 1 and parts[-1] in GRAIN_RANK:
        grain = parts.pop()
    if grain is not None and grain not in GRAIN_RANK:
        raise SemanticError(f"unknown time granularity {grain!r} in {name!r}")
    return Ref(name, tuple(parts[:-1]), parts[-1], grain)


# -- the entity graph (cached per manifest) ------------------------------------


@dataclass(frozen=True)
class Step:
    entity: str
    source: str  # model names
    target: str


@dataclass(frozen=True)
class Target:
    model: SemanticModel
    steps: tuple[Step, ...]
    name_path: tuple[str, ...]


@dataclass
class Index:
    manifest: Manifest
    # per source model: (name_path, element) -> targets; element -> targets (bare names)
    qualified: dict[str, dict[tuple[tuple[str, ...], str], list[Target]]]
    bare: dict[str, dict[str, list[Target]]]
    parsed: dict[tuple[str, str], exp.Expression] = field(default_factory=dict)
    templates: dict[str, tuple[exp.Expression, tuple[Ref, ...]]] = field(default_factory=dict)

    def sql(self, text: str) -> exp.Expression:
        """Parse a manifest SQL snippet once (as DuckDB SQL, the lake's dialect)."""
        key = ("sql", text)
        node = self.parsed.get(key)
        if node is None:
            try:
                node = sqlglot.parse_one(text, read="duckdb")
            except sqlglot.errors.ParseError as exc:
                raise SemanticError(f"cannot parse SQL {text!r} from the manifest: {exc}") from exc
            self.parsed[key] = node
        return node

    def valid_names(self, model: SemanticModel) -> list[str]:
        names = {METRIC_TIME, *self.bare[model.name]}
        names.update(
            "__".join((*path, element))
            for path, element in self.qualified[model.name]
            if not path or path[-1] != element
        )
        return sorted(names)


def _elements(model: SemanticModel) -> list[str]:
    return [d.name for d in model.dimensions] + [e.name for e in model.entities]


@lru_cache(maxsize=8)
def build_index(manifest: Manifest) -> Index:
    owners: dict[str, list[SemanticModel]] = {}
    for model in manifest.semantic_models:
        for ent in model.entities:
            if ent.type in PRIMARY_LIKE:
                owners.setdefault(ent.name, []).append(model)
    qualified: dict[str, dict[tuple[tuple[str, ...], str], list[Target]]] = {}
    bare: dict[str, dict[str, list[Target]]] = {}
    for source in manifest.semantic_models:
        targets: list[Target] = [
            Target(source, (), (ent.name,)) for ent in source.entities if ent.type in PRIMARY_LIKE
        ]
        if not targets:
            targets.append(Target(source, (), ()))
        frontier = [(source, (), (), frozenset({source.name}))]
        for _ in range(MAX_HOPS):
            nxt = []
            for model, steps, path, seen in frontier:
                for ent in model.entities:
                    for owner in owners.get(ent.name, ()):
                        if owner.name in seen:
                            continue
                        t_steps = (*steps, Step(ent.name, model.name, owner.name))
                        t_path = (*path, ent.name)
                        targets.append(Target(owner, t_steps, t_path))
                        nxt.append((owner, t_steps, t_path, seen | {owner.name}))
            frontier = nxt
        q: dict[tuple[tuple[str, ...], str], list[Target]] = {}
        b: dict[str, list[Target]] = {}
        for t in targets:
            for element in _elements(t.model):
                q.setdefault((t.name_path, element), []).append(t)
                b.setdefault(element, []).append(t)
        qualified[source.name] = q
        bare[source.name] = b
    return Index(manifest, qualified, bare)


# -- literals ----------------------------------------------------------------


def _date_literal(value: dt.date | dt.datetime) -> exp.Expression:
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)


def _as_time(value: object) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) <= 10:
                return dt.date.fromisoformat(value.strip())
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SemanticError(f"{value!r} is not a date or timestamp (use ISO format, 2024-01-31)")


def literal(value: object, *, time: bool = False) -> exp.Expression:
    """A SQL literal for a user value (the only way user values enter the SQL)."""
    if value is None:
        return exp.Null()
    if time:
        return _date_literal(_as_time(value))
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SemanticError(f"cannot filter on {value!r}")
        return exp.Literal.number(repr(value))
    if isinstance(value, dt.date | dt.datetime):
        return _date_literal(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise SemanticError(f"unsupported filter value {value!r} ({type(value).__name__})")


def truncate(value: dt.date | dt.datetime, grain: str) -> dt.date | dt.datetime:
    """Python ``date_trunc`` for grains of a day and coarser (used on start/end)."""
    if GRAIN_RANK[grain] < GRAIN_RANK["day"]:
        return value
    d = value.date() if isinstance(value, dt.datetime) else value
    if grain == "week":
        return d - dt.timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    if grain == "year":
        return d.replace(month=1, day=1)
    return d


# -- small expression helpers ------------------------------------------------


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(exp.to_identifier(name), exp.to_identifier(table) if table else None)


def _alias(node: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=node, alias=exp.to_identifier(name))


def _and(conds: list[exp.Expression]) -> exp.Expression | None:
    return exp.and_(*conds, copy=False) if conds else None


def trunc(node: exp.Expression, grain: str) -> exp.Expression:
    t = exp.TimestampTrunc(this=node, unit=exp.Var(this=grain.upper()))
    if GRAIN_RANK[grain] >= GRAIN_RANK["day"]:
        return exp.cast(t, exp.DataType.Type.DATE)
    return t


def interval(count: int, grain: str) -> exp.Interval:
    # Trino has no WEEK / QUARTER interval units
    if grain == "week":
        count, grain = count * 7, "day"
    elif grain == "quarter":
        count, grain = count * 3, "month"
    return exp.Interval(this=exp.Literal.string(str(count)), unit=exp.Var(this=grain.upper()))


def shift(node: exp.Expression, count: int, grain: str, query_grain: str) -> exp.Expression:
    moved = exp.Sub(this=node, expression=interval(count, grain))
    return trunc(moved, query_grain)


def _add(node: exp.Expression, count: int, grain: str) -> exp.Expression:
    added = exp.Add(this=node, expression=interval(count, grain))
    return (
        exp.cast(added, exp.DataType.Type.DATE) if GRAIN_RANK[grain] >= GRAIN_RANK["day"] else added
    )


def _qualify(node: exp.Expression, table: str) -> exp.Expression:
    node = node.copy()
    for column in node.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(table))
    return node


def _measure_agg(agg: str, node: exp.Expression, measure=None) -> exp.Expression:
    if agg == "sum":
        return exp.Sum(this=node)
    if agg == "count":
        return exp.Count(this=node)
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[node]))
    if agg == "average":
        return exp.Avg(this=node)
    if agg == "min":
        return exp.Min(this=node)
    if agg == "max":
        return exp.Max(this=node)
    if agg == "sum_boolean":
        return exp.Sum(this=exp.cast(node, exp.DataType.Type.INT))
    if agg in ("percentile", "median"):
        p = 0.5 if agg == "median" else measure.percentile
        if p is None:
            raise SemanticError(f"percentile measure {measure.name!r} has no agg_params.percentile")
        cls = (
            exp.PercentileDisc
            if measure is not None and measure.use_discrete_percentile
            else exp.PercentileCont
        )
        if cls is exp.PercentileCont:  # interpolates: a DECIMAL input would round the result
            node = exp.cast(node, exp.DataType.Type.DOUBLE)
        return exp.WithinGroup(
            this=cls(this=exp.Literal.number(repr(float(p)))),
            expression=exp.Order(expressions=[exp.Ordered(this=node)]),
        )
    raise SemanticError(f"unsupported aggregation {agg!r}")


# -- Jinja where templates ---------------------------------------------------

_JINJA = re.compile(
    r"\{\{\s*(Dimension|TimeDimension|Entity|Metric)\s*\((.*?)\)\s*((?:\.\w+\([^)]*\)\s*)*)\}\}"
)


def _call_args(text: str) -> tuple[list[object], dict[str, object]]:
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        assert isinstance(call, ast.Call)
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (SyntaxError, ValueError, AssertionError) as exc:
        raise SemanticError(f"cannot read filter call ({text})") from exc
    return args, kwargs


def translate_template(template: str) -> tuple[exp.Expression, tuple[Ref, ...]]:
    """Turn a MetricFlow where template into a sqlglot condition with placeholder columns.

    >>> node, refs = translate_template("{{ Dimension('order__status') }} = 'paid'")
    >>> node.sql(), refs[0].name
    "__sl_ref_0 = 'paid'"
    """
    refs: list[Ref] = []

    def replace(match: re.Match[str]) -> str:
        kind, raw_args, chain = match.group(1), match.group(2), match.group(3) or ""
        if kind == "Metric":
            raise SemanticError(f"metric filters are not supported: {match.group(0)}")
        args, kwargs = _call_args(raw_args)
        if not args or not isinstance(args[0], str):
            raise SemanticError(f"filter call needs a name: {match.group(0)}")
        grain = kwargs.get("time_granularity_name") or kwargs.get("time_granularity")
        if kind == "TimeDimension" and len(args) > 1:
            grain = args[1]
        g = re.search(r"\.grain\(\s*['\"](\w+)['\"]\s*\)", chain)
        if g:
            grain = g.group(1)
        ref = parse_ref(args[0], str(grain).lower() if grain else None)
        entity_path = kwargs.get("entity_path")
        if entity_path:
            ref = Ref(ref.name, (*entity_path, *ref.path), ref.element, ref.grain)
        refs.append(ref)
        return _PLACEHOLDER.format(len(refs) - 1)

    text = _JINJA.sub(replace, template)
    if "{{" in text or "{%" in text:
        raise SemanticError(f"unsupported Jinja in filter {template!r}")
    try:
        node = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SemanticError(f"cannot parse filter {template!r}: {exc}") from exc
    return node, tuple(refs)


# -- compilation -------------------------------------------------------------


@dataclass(frozen=True)
class Cte:
    name: str
    column: str  # value column
    fill: int | None = None


@dataclass
class _Leaf:
    """One measure's FROM / JOINs."""

    index: Index
    model: SemanticModel
    aliases: dict[tuple[Step, ...], str] = field(default_factory=dict)
    joins: list[exp.Join] = field(default_factory=list)

    def alias(self, steps: tuple[Step, ...]) -> str:
        if steps in self.aliases:
            return self.aliases[steps]
        if not steps:
            self.aliases[steps] = "t0"
            return "t0"
        parent = self.alias(steps[:-1])
        step = steps[-1]
        name = f"t{len(self.aliases)}"
        self.aliases[steps] = name
        src = self.index.manifest.models_by_name[step.source]
        dst = self.index.manifest.models_by_name[step.target]
        on = exp.EQ(
            this=_qualify(self.index.sql(src.entity(step.entity).expr), parent),
            expression=_qualify(self.index.sql(dst.entity(step.entity).expr), name),
        )
        self.joins.append(exp.Join(this=_table(dst, name), side="LEFT", on=on))
        return name


def _table(model: SemanticModel, alias: str) -> exp.Table:
    parts = [exp.to_identifier(p, quoted=True) for p in model.relation.parts]
    table = exp.Table(this=parts[-1])
    if len(parts) > 1:
        table.set("db", parts[-2])
    if len(parts) > 2:
        table.set("catalog", parts[-3])
    return exp.alias_(table, exp.to_identifier(alias), table=True)


@dataclass
class _Compiler:
    index: Index
    query: MetricQuery
    keys: list[Ref]
    time_key: Ref | None
    post_filters: list[Filter]
    leaf_filters: list[Filter]
    ctes: list[tuple[str, exp.Expression]] = field(default_factory=list)
    seen: dict[tuple, Cte] = field(default_factory=dict)

    @property
    def manifest(self) -> Manifest:
        return self.index.manifest

    def add_cte(self, stem: str, node: exp.Expression) -> str:
        name = f"{stem}_{len(self.ctes)}"
        self.ctes.append((name, node))
        return name

    # -- resolving names inside a leaf ------------------------------------

    def resolve(self, leaf: _Leaf, ref: Ref, metric: Metric, measure) -> exp.Expression:
        model = leaf.model
        if ref.is_metric_time:
            agg_dim = measure.agg_time_dimension or model.default_agg_time_dimension
            dim = model.dimension(agg_dim) if agg_dim else None
            if dim is None:
                raise SemanticError(
                    f"measure {measure.name!r} has no agg_time_dimension, so metric "
                    f"{metric.name!r} cannot be grouped by {ref.name!r}"
                )
            grain = ref.grain or self.default_grain
            return self._time(leaf, (), model, dim, grain, ref)
        if ref.path:
            targets = self.index.qualified[model.name].get((ref.path, ref.element), [])
        else:
            targets = self.index.bare[model.name].get(ref.element, [])
            if targets:
                fewest = min(len(t.steps) for t in targets)
                targets = [t for t in targets if len(t.steps) == fewest]
                if len({t.model.name for t in targets}) == 1:
                    targets = targets[:1]
        if not targets:
            raise SemanticError(
                f"unknown dimension {ref.name!r} for metric {metric.name!r}; valid names: "
                f"{', '.join(self.index.valid_names(model))}"
            )
        distinct = {(t.model.name, t.steps) for t in targets}
        if len(distinct) > 1:
            options = sorted("__".join((*t.name_path, ref.element)) for t in targets)
            raise SemanticError(f"ambiguous name {ref.name!r}; use one of: {', '.join(options)}")
        target = targets[0]
        dim = target.model.dimension(ref.element)
        if dim is not None and dim.is_time:
            return self._time(leaf, target.steps, target.model, dim, ref.grain, ref)
        if ref.grain:
            raise SemanticError(f"{ref.element!r} is not a time dimension; drop the grain")
        alias = leaf.alias(target.steps)
        expr_text = dim.expr if dim is not None else target.model.entity(ref.element).expr
        return _qualify(self.index.sql(expr_text), alias)

    def _time(self, leaf, steps, model, dim, grain, ref) -> exp.Expression:
        grain = grain or dim.time_granularity or "day"
        if dim.time_granularity and GRAIN_RANK[grain] < GRAIN_RANK[dim.time_granularity]:
            raise SemanticError(
                f"{ref.name!r}: {dim.name!r} is only known to the {dim.time_granularity}"
            )
        alias = leaf.alias(steps)
        return trunc(_qualify(self.index.sql(dim.expr), alias), grain)

    def is_agg_time(self, leaf: _Leaf, ref: Ref, measure) -> bool:
        if ref.is_metric_time:
            return True
        agg_dim = measure.agg_time_dimension or leaf.model.default_agg_time_dimension
        if ref.element != agg_dim:
            return False
        own = {e.name for e in leaf.model.entities if e.type in PRIMARY_LIKE}
        return not ref.path or (len(ref.path) == 1 and ref.path[0] in own)

    @property
    def default_grain(self) -> str:
        grains = [
            m.time_granularity
            for m in (self.manifest.metrics_by_name.get(n) for n in self.query.metrics)
            if m is not None and m.time_granularity
        ]
        return min(grains, key=GRAIN_RANK.__getitem__) if grains else "day"

    def key_grain(self, ref: Ref) -> str:
        if ref.grain:
            return ref.grain
        if ref.is_metric_time:
            return self.default_grain
        for model in self.manifest.semantic_models:
            dim = model.dimension(ref.element)
            if dim is not None and dim.is_time:
                return dim.time_granularity or "day"
        return "day"

    # -- filters ------------------------------------------------------------

    def structured(self, f: Filter, column: exp.Expression, time: bool) -> exp.Expression:
        if f.op == "in":
            return exp.In(this=column, expressions=[literal(v, time=time) for v in f.values])
        if f.op == "between":
            lo, hi = (literal(v, time=time) for v in f.values)
            return exp.Between(this=column, low=lo, high=hi)
        if f.value is None:
            if f.op not in ("=", "!="):
                raise SemanticError(f"filter on {f.dimension!r}: {f.op} NULL is never true")
            node = exp.Is(this=column, expression=exp.Null())
            return exp.Not(this=node) if f.op == "!=" else node
        ops: dict[str, Callable[..., exp.Expression]] = {
            "=": exp.EQ,
            "!=": exp.NEQ,
            "<": exp.LT,
            "<=": exp.LTE,
            ">": exp.GT,
            ">=": exp.GTE,
        }
        return ops[f.op](this=column, expression=literal(f.value, time=time))

    def _is_time_ref(self, leaf: _Leaf, ref: Ref) -> bool:
        if ref.is_metric_time or ref.grain:
            return True
        targets = self.index.bare[leaf.model.name].get(ref.element, [])
        return any((d := t.model.dimension(ref.element)) and d.is_time for t in targets)

    def template(self, leaf: _Leaf, text: str, metric: Metric, measure) -> exp.Expression:
        cached = self.index.templates.get(text)
        if cached is None:
            cached = translate_template(text)
            self.index.templates[text] = cached
        node, refs = cached
        columns = {
            _PLACEHOLDER.format(i): self.resolve(leaf, ref, metric, measure)
            for i, ref in enumerate(refs)
        }

        def swap(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table and n.name in columns:
                return columns[n.name].copy()
            return n

        return node.copy().transform(swap, copy=False)

    def time_range(self, column: exp.Expression, grain: str) -> list[exp.Expression]:
        conds: list[exp.Expression] = []
        if self.query.start is not None:
            start = truncate(_as_time(self.query.start), grain)
            conds.append(exp.GTE(this=column, expression=_date_literal(start)))
        if self.query.end is not None:
            end = truncate(_as_time(self.query.end), grain)
            conds.append(exp.LTE(this=column, expression=_date_literal(end)))
        return conds

    # -- leaves ------------------------------------------------------------

    def leaf(
        self,
        metric: Metric,
        measure_name: str,
        templates: tuple[str, ...],
        *,
        push_time: bool,
        aggregate: bool,
        need_time: bool = False,
    ) -> Cte:
        sig = ("leaf", metric.name, measure_name, templates, push_time, aggregate)
        if sig in self.seen:
            return self.seen[sig]
        model, measure = self.manifest.measure(measure_name)
        if measure.non_additive:
            raise SemanticError(
                f"measure {measure.name!r} has a non_additive_dimension (semi-additive measures "
                "are not supported yet)"
            )
        leaf = _Leaf(self.index, model)
        leaf.alias(())
        selects: list[exp.Expression] = []
        groups: list[exp.Expression] = []
        where: list[exp.Expression] = []
        time_col: exp.Expression | None = None
        for ref in self.keys:
            col = self.resolve(leaf, ref, metric, measure)
            selects.append(_alias(col, ref.name))
            groups.append(col)
            if ref is self.time_key and self.is_agg_time(leaf, ref, measure):
                time_col = col
        if need_time and time_col is None:
            if self.time_key is None:
                raise SemanticError(
                    f"metric {metric.name!r} ({metric.type}, or with an offset) needs "
                    f"{METRIC_TIME} in group_by, e.g. {METRIC_TIME}__month"
                )
            raise SemanticError(
                f"metric {metric.name!r} needs its own time dimension ({METRIC_TIME}) in "
                f"group_by, not {self.time_key.name!r}"
            )
        for f in self.leaf_filters:
            ref = parse_ref(f.dimension)
            col = self.resolve(leaf, ref, metric, measure)
            where.append(self.structured(f, col, time=self._is_time_ref(leaf, ref)))
        for text in templates:
            where.append(self.template(leaf, text, metric, measure))
        if time_col is not None:
            assert self.time_key is not None
            grain = self.key_grain(self.time_key)
            if push_time:
                where.extend(self.time_range(time_col.copy(), grain))
                for f in self.post_filters:
                    where.append(self.structured(f, time_col.copy(), time=True))
            elif self.query.end is not None:  # later periods never count
                end = truncate(_as_time(self.query.end), grain)
                where.append(exp.LTE(this=time_col.copy(), expression=_date_literal(end)))
        elif self.time_key is None and (self.query.start or self.query.end):
            agg_dim = measure.agg_time_dimension or model.default_agg_time_dimension
            if agg_dim is None:
                raise SemanticError(f"measure {measure.name!r} has no time dimension for start/end")
            col = self.resolve(leaf, parse_ref(METRIC_TIME, "day"), metric, measure)
            where.extend(self.time_range(col, "day"))
        value = _qualify(self.index.sql(measure.expr), "t0")
        if aggregate:
            value = _measure_agg(measure.agg, value, measure)
        selects.append(_alias(value, metric.name))
        select = exp.Select(expressions=selects)
        select.set(_FROM, exp.From(this=_table(model, "t0")))
        if leaf.joins:
            select.set("joins", leaf.joins)
        if where:
            select.set("where", exp.Where(this=_and(where)))
        if aggregate and groups:
            select.set("group", exp.Group(expressions=groups))
        cte = Cte(self.add_cte(f"leaf_{measure.name}", select), metric.name)
        self.seen[sig] = cte
        return cte

    # -- metrics -----------------------------------------------------------

    def metric(self, name: str, templates: tuple[str, ...] = (), *, push_time: bool = True) -> Cte:
        metric = self.manifest.metric(name)
        sig = ("metric", name, templates, push_time)
        if sig in self.seen:
            return self.seen[sig]
        filters = (*metric.filters, *templates)
        if metric.type == "simple":
            m = metric.measure
            assert m is not None, metric.name
            if m.join_to_timespine:
                raise SemanticError(f"metric {name!r}: join_to_timespine is not supported yet")
            leaf = self.leaf(
                metric, m.name, (*filters, *m.filters), push_time=push_time, aggregate=True
            )
            cte = Cte(leaf.name, leaf.column, m.fill_nulls_with)
        elif metric.type == "cumulative":
            cte = self.cumulative(metric, filters)
        elif metric.type == "ratio":
            assert metric.numerator and metric.denominator, metric.name
            num, den = metric.numerator, metric.denominator
            expr = exp.Div(
                this=exp.cast(_col("__num"), exp.DataType.Type.DOUBLE),
                expression=exp.Nullif(
                    this=exp.cast(_col("__den"), exp.DataType.Type.DOUBLE),
                    expression=exp.Literal.number(0),
                ),
            )
            cte = self.combine(metric, {"__num": num, "__den": den}, expr, filters, push_time)
        elif metric.type == "derived":
            if not metric.expr:
                raise SemanticError(f"derived metric {name!r} has no expr")
            inputs = {i.column: i for i in metric.inputs}
            cte = self.combine(metric, inputs, self.index.sql(metric.expr), filters, push_time)
        else:
            raise SemanticError(f"metric {name!r}: {metric.type} metrics are not supported")
        self.seen[sig] = cte
        return cte

    def _spine(self, grain: str) -> str:
        sig = ("spine", grain)
        if sig in self.seen:
            return self.seen[sig].name
        spines = [
            s for s in self.manifest.time_spines if GRAIN_RANK[s.granularity] <= GRAIN_RANK[grain]
        ]
        if not spines:
            raise SemanticError(
                f"cumulative and offset metrics need a time spine at {grain} or finer "
                "(add one to the dbt project)"
            )
        spine = max(spines, key=lambda s: GRAIN_RANK[s.granularity])
        fake = SemanticModel(spine.relation.alias, spine.relation, (), (), ())
        select = exp.Select(
            expressions=[_alias(trunc(_col(spine.column, "s"), grain), "period")],
            distinct=exp.Distinct(),
        )
        select.set(_FROM, exp.From(this=_table(fake, "s")))
        name = self.add_cte(f"spine_{grain}", select)
        self.seen[sig] = Cte(name, "period")
        return name

    def _other_keys(self, table: str) -> list[exp.Expression]:
        return [_col(k.name, table) for k in self.keys if k is not self.time_key]

    def cumulative(self, metric: Metric, filters: tuple[str, ...]) -> Cte:
        m = metric.measure
        assert m is not None, metric.name
        _, measure = self.manifest.measure(m.name)
        additive = measure.agg in ADDITIVE
        leaf = self.leaf(
            metric,
            m.name,
            (*filters, *m.filters),
            push_time=False,
            aggregate=additive,
            need_time=True,
        )
        assert self.time_key is not None
        grain = self.key_grain(self.time_key)
        tk = self.time_key.name
        window, to_date = metric.window, metric.grain_to_date
        coarse = window.granularity if window else to_date
        if coarse and GRAIN_RANK[coarse] < GRAIN_RANK[grain]:
            raise SemanticError(
                f"cumulative metric {metric.name!r} runs over {coarse}s; query it at {coarse} "
                f"or finer, not {grain}"
            )
        spine = self._spine(grain)
        period, leaf_t = _col("period", "sp"), _col(tk, "l")
        on = [exp.LTE(this=leaf_t, expression=period)]
        if window:
            lower = shift(period.copy(), window.count, window.granularity, grain)
            on.append(exp.GT(this=leaf_t.copy(), expression=lower))
        elif to_date:
            on.append(exp.GTE(this=leaf_t.copy(), expression=trunc(period.copy(), to_date)))
        # from the first data on; up to the range's end, or, without one, as long as the
        # window / grain-to-date period still holds data (all-time: up to the last data)
        last = _scalar(exp.Max, tk, leaf.name)
        if self.query.end is not None:
            upper = exp.LTE(
                this=period.copy(),
                expression=_date_literal(truncate(_as_time(self.query.end), grain)),
            )
        elif window:
            upper = exp.LT(
                this=period.copy(), expression=_add(last, window.count, window.granularity)
            )
        elif to_date:
            upper = exp.LT(this=period.copy(), expression=_add(trunc(last, to_date), 1, to_date))
        else:
            upper = exp.LTE(this=period.copy(), expression=last)
        bounds = [
            exp.GTE(this=period.copy(), expression=_scalar(exp.Min, tk, leaf.name)),
            upper,
        ]
        value = _col(metric.name, "l")
        agg = _measure_agg(ADDITIVE[measure.agg] if additive else measure.agg, value, measure)
        others = self._other_keys("l")
        select = exp.Select(expressions=[_alias(period, tk), *others, _alias(agg, metric.name)])
        select.set(_FROM, exp.From(this=exp.alias_(exp.to_table(spine), "sp", table=True)))
        select.set(
            "joins",
            [exp.Join(this=exp.alias_(exp.to_table(leaf.name), "l", table=True), on=_and(on))],
        )
        select.set("where", exp.Where(this=_and(bounds)))
        select.set("group", exp.Group(expressions=[period.copy(), *(o.copy() for o in others)]))
        return Cte(
            self.add_cte(f"cumulative_{metric.name}", select), metric.name, m.fill_nulls_with
        )

    def offset(self, source: Cte, metric_name: str, window, to_grain: str | None) -> Cte:
        if self.time_key is None:
            raise SemanticError(
                f"metric {metric_name!r} has an offset input and needs {METRIC_TIME} in group_by"
            )
        grain = self.key_grain(self.time_key)
        tk = self.time_key.name
        spine = self._spine(grain)
        period = _col("period", "sp")
        if window is not None:
            looked_up = shift(period.copy(), window.count, window.granularity, grain)
        else:
            if GRAIN_RANK[to_grain] < GRAIN_RANK[grain]:
                raise SemanticError(f"offset_to_grain {to_grain} is finer than the query's {grain}")
            looked_up = trunc(period.copy(), to_grain)
        on = exp.EQ(this=_col(tk, "s"), expression=looked_up)
        select = exp.Select(
            expressions=[_alias(period, tk), *self._other_keys("s"), _col(source.column, "s")]
        )
        select.set(_FROM, exp.From(this=exp.alias_(exp.to_table(spine), "sp", table=True)))
        select.set(
            "joins", [exp.Join(this=exp.alias_(exp.to_table(source.name), "s", table=True), on=on)]
        )
        return Cte(self.add_cte(f"offset_{metric_name}", select), source.column, source.fill)

    def combine(self, metric, inputs, expr, filters, push_time) -> Cte:
        ctes: dict[str, Cte] = {}
        for column, inp in inputs.items():
            has_offset = inp.offset_window is not None or inp.offset_to_grain is not None
            cte = self.metric(
                inp.name, (*filters, *inp.filters), push_time=push_time and not has_offset
            )
            if has_offset:
                cte = self.offset(cte, inp.name, inp.offset_window, inp.offset_to_grain)
            ctes[column] = cte
        aliases = {column: f"i{n}" for n, column in enumerate(ctes)}

        def swap(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table:
                if n.name not in ctes:
                    raise SemanticError(
                        f"metric {metric.name!r}: expr refers to {n.name!r}; its inputs are "
                        f"{', '.join(c for c in ctes if not c.startswith('__'))}"
                    )
                return _value(ctes[n.name], aliases[n.name])
            return n

        value = expr.copy().transform(swap, copy=False)
        select = self.joined(list(ctes.values()), list(aliases.values()), [(value, metric.name)])
        return Cte(self.add_cte(f"metric_{metric.name}", select), metric.name)

    def joined(
        self,
        ctes: list[Cte],
        aliases: list[str],
        values: list[tuple[exp.Expression, str]],
    ) -> exp.Select:
        """``SELECT keys, values FROM`` the union of the CTEs' keys ``LEFT JOIN`` each CTE."""
        names = [k.name for k in self.keys]
        outs = [_alias(v, n) for v, n in values]
        unique = list(dict.fromkeys(c.name for c in ctes))
        if len(unique) == 1:  # one input: no key union needed
            select = exp.Select(expressions=[*(_col(n, aliases[0]) for n in names), *outs])
            select.set(
                _FROM, exp.From(this=exp.alias_(exp.to_table(ctes[0].name), aliases[0], table=True))
            )
            joins = [
                exp.Join(
                    this=exp.alias_(exp.to_table(c.name), a, table=True),
                    on=self._key_eq(aliases[0], a, names),
                )
                if names
                else exp.Join(this=exp.alias_(exp.to_table(c.name), a, table=True), kind="CROSS")
                for c, a in zip(ctes[1:], aliases[1:], strict=True)
            ]
            if joins:
                select.set("joins", joins)
            return select
        if not names:
            select = exp.Select(expressions=outs)
            select.set(
                _FROM, exp.From(this=exp.alias_(exp.to_table(ctes[0].name), aliases[0], table=True))
            )
            select.set(
                "joins",
                [
                    exp.Join(this=exp.alias_(exp.to_table(c.name), a, table=True), kind="CROSS")
                    for c, a in zip(ctes[1:], aliases[1:], strict=True)
                ],
            )
            return select
        parts = []
        for cte_name in unique:
            part = exp.Select(expressions=[_col(n) for n in names])
            part.set(_FROM, exp.From(this=exp.to_table(cte_name)))
            parts.append(part)
        union: exp.Expression = parts[0]
        for part in parts[1:]:
            union = exp.Union(this=union, expression=part, distinct=True)
        keys = self.add_cte("keys", union)
        select = exp.Select(expressions=[*(_col(n, "k") for n in names), *outs])
        select.set(_FROM, exp.From(this=exp.alias_(exp.to_table(keys), "k", table=True)))
        select.set(
            "joins",
            [
                exp.Join(
                    this=exp.alias_(exp.to_table(c.name), a, table=True),
                    side="LEFT",
                    on=self._key_eq("k", a, names),
                )
                for c, a in zip(ctes, aliases, strict=True)
            ],
        )
        return select

    @staticmethod
    def _key_eq(left: str, right: str, names: list[str]) -> exp.Expression:
        return _and([exp.NullSafeEQ(this=_col(n, left), expression=_col(n, right)) for n in names])


def _scalar(fn: type[exp.Func], column: str, table: str) -> exp.Subquery:
    inner = exp.Select(expressions=[fn(this=_col(column))])
    inner.set(_FROM, exp.From(this=exp.to_table(table)))
    return exp.Subquery(this=inner)


def _value(cte: Cte, alias: str) -> exp.Expression:
    col = _col(cte.column, alias)
    if cte.fill is not None:
        return exp.Coalesce(this=col, expressions=[exp.Literal.number(cte.fill)])
    return col


# -- entry point ---------------------------------------------------------------


def _plan(manifest: Manifest, query: MetricQuery) -> _Compiler:
    index = build_index(manifest)
    for name in query.metrics:
        manifest.metric(name)  # unknown names fail early, listing the valid ones
    keys = [parse_ref(g) for g in query.group_by]
    if len({k.name for k in keys}) != len(keys):
        raise SemanticError("group_by names must be unique")
    clash = {k.name for k in keys} & set(query.metrics)
    if clash:
        raise SemanticError(f"names used both as metric and group-by: {', '.join(sorted(clash))}")
    time_key = next((k for k in keys if k.is_metric_time), None)
    if time_key is None:
        time_dims = {d.name for m in manifest.semantic_models for d in m.dimensions if d.is_time}
        time_key = next((k for k in keys if k.element in time_dims), None)
    comp = _Compiler(index, query, keys, time_key, [], [])
    for f in query.where:
        ref = parse_ref(f.dimension)
        if (
            time_key is not None
            and (ref.path, ref.element) == (time_key.path, time_key.element)
            and (ref.grain or comp.key_grain(ref)) == comp.key_grain(time_key)
        ):
            comp.post_filters.append(f)
        else:
            comp.leaf_filters.append(f)
    return comp


def compile_expression(manifest: Manifest, query: MetricQuery) -> exp.Select:
    """The query as a sqlglot tree (dialect-neutral)."""
    comp = _plan(manifest, query)
    tops = [comp.metric(name) for name in query.metrics]
    aliases = [f"m{n}" for n in range(len(tops))]
    values = [(_value(c, a), name) for c, a, name in zip(tops, aliases, query.metrics, strict=True)]
    select = comp.joined(tops, aliases, values)
    if comp.time_key is not None:
        tk = comp.time_key
        key_table = select.args[_FROM].this.alias_or_name
        column = _col(tk.name, key_table)
        conds = comp.time_range(column, comp.key_grain(tk))
        conds += [comp.structured(f, column.copy(), time=True) for f in comp.post_filters]
        if conds:
            select.set("where", exp.Where(this=_and(conds)))
    outputs = [*(k.name for k in comp.keys), *query.metrics]
    if not query.order_by and comp.keys:  # a stable default: by the group-by columns
        select.set(
            "order",
            exp.Order(
                expressions=[
                    exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(comp.keys))
                ]
            ),
        )
    if query.order_by:
        order = []
        for raw in query.order_by:
            desc = raw.startswith("-")
            name = raw[1:] if desc else raw
            if name not in outputs:
                raise SemanticError(
                    f"cannot order by {name!r}; output columns: {', '.join(outputs)}"
                )
            position = exp.Literal.number(outputs.index(name) + 1)
            order.append(exp.Ordered(this=position, desc=desc))
        select.set("order", exp.Order(expressions=order))
    if query.limit is not None:
        select.set("limit", exp.Limit(expression=exp.Literal.number(query.limit)))
    if comp.ctes:
        select.set(
            _WITH,
            exp.With(
                expressions=[
                    exp.CTE(this=node, alias=exp.TableAlias(this=exp.to_identifier(name)))
                    for name, node in comp.ctes
                ]
            ),
        )
    return select


def compile_query(
    manifest: Manifest, query: MetricQuery, dialect: str = "duckdb", *, pretty: bool = False
) -> str:
    """Compile ``query`` to SQL for ``dialect`` (``duckdb``, ``trino`` or ``postgres``)."""
    if dialect not in DIALECTS:
        raise SemanticError(f"unsupported dialect {dialect!r}; valid: {', '.join(DIALECTS)}")
    return compile_expression(manifest, query).sql(dialect=dialect, pretty=pretty)
