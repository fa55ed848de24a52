"""The dbt semantic manifest (``target/semantic_manifest.json``) as small typed dataclasses.

Only the parts the compiler uses are kept. Loading is pure: :func:`parse_manifest` takes the
decoded JSON; :func:`load_manifest` reads a file and caches by path and modification time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from semantic.errors import SemanticError

# granularities, finest first (dbt-semantic-interfaces TimeGranularity)
GRAINS: tuple[str, ...] = (
    "nanosecond",
    "microsecond",
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
)
GRAIN_RANK = {g: i for i, g in enumerate(GRAINS)}
PRIMARY_LIKE = frozenset({"primary", "unique", "natural"})


@dataclass(frozen=True)
class Relation:
    database: str | None
    schema: str
    alias: str

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.database, self.schema, self.alias) if p)


@dataclass(frozen=True)
class Entity:
    name: str
    type: str  # primary | unique | natural | foreign
    expr: str  # the SQL the entity is keyed on (its name when the manifest has no expr)


@dataclass(frozen=True)
class Dimension:
    name: str
    type: str  # categorical | time
    expr: str
    time_granularity: str | None = None

    @property
    def is_time(self) -> bool:
        return self.type == "time"


@dataclass(frozen=True)
class Measure:
    name: str
    agg: str
    expr: str
    agg_time_dimension: str | None = None
    percentile: float | None = None
    use_discrete_percentile: bool = False
    non_additive: bool = False


@dataclass(frozen=True)
class Rollup:
    """A pre-aggregated copy of a semantic model (``config.meta.opslake.rollups``).

    A table at ``dimensions`` grain holding, for every measure of the model, a column named
    after the measure with the measure summed over the group (so only additive measures roll
    up). Only the Superset export reads it; the compiler queries the model itself.
    """

    model: str  # the dbt model (table) name, in the semantic model's schema
    dimensions: tuple[str, ...]


@dataclass(frozen=True)
class SemanticModel:
    name: str
    relation: Relation
    entities: tuple[Entity, ...]
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    default_agg_time_dimension: str | None = None
    primary_entity: str | None = None
    description: str | None = None
    rollups: tuple[Rollup, ...] = ()

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    @property
    def own_entity(self) -> str | None:
        """The entity that names this model's own dimensions (``entity__dim``)."""
        if self.primary_entity:
            return self.primary_entity
        return next((e.name for e in self.entities if e.type in PRIMARY_LIKE), None)


@dataclass(frozen=True)
class Window:
    count: int
    granularity: str


@dataclass(frozen=True)
class MeasureInput:
    name: str
    filters: tuple[str, ...] = ()
    fill_nulls_with: int | None = None
    join_to_timespine: bool = False


@dataclass(frozen=True)
class MetricInput:
    name: str
    filters: tuple[str, ...] = ()
    alias: str | None = None
    offset_window: Window | None = None
    offset_to_grain: str | None = None

    @property
    def column(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class Metric:
    name: str
    type: str  # simple | ratio | derived | cumulative | conversion
    label: str | None = None
    description: str | None = None
    filters: tuple[str, ...] = ()  # MetricFlow Jinja where templates, ANDed
    measure: MeasureInput | None = None
    numerator: MetricInput | None = None
    denominator: MetricInput | None = None
    expr: str | None = None
    inputs: tuple[MetricInput, ...] = ()
    window: Window | None = None
    grain_to_date: str | None = None
    period_agg: str = "first"
    time_granularity: str | None = None


@dataclass(frozen=True)
class TimeSpine:
    relation: Relation
    column: str
    granularity: str = "day"


@dataclass(frozen=True)
class Manifest:
    semantic_models: tuple[SemanticModel, ...]
    metrics: tuple[Metric, ...]
    time_spines: tuple[TimeSpine, ...] = ()
    models_by_name: dict[str, SemanticModel] = field(default_factory=dict, compare=False)
    metrics_by_name: dict[str, Metric] = field(default_factory=dict, compare=False)
    measures_by_name: dict[str, tuple[SemanticModel, Measure]] = field(
        default_factory=dict, compare=False
    )

    def __post_init__(self) -> None:
        self.models_by_name.update({m.name: m for m in self.semantic_models})
        self.metrics_by_name.update({m.name: m for m in self.metrics})
        for model in self.semantic_models:
            for measure in model.measures:
                self.measures_by_name[measure.name] = (model, measure)

    def __hash__(self) -> int:  # identity: manifests are immutable and cached
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def metric(self, name: str) -> Metric:
        try:
            return self.metrics_by_name[name]
        except KeyError:
            raise SemanticError(
                f"unknown metric {name!r}; valid metrics: {', '.join(sorted(self.metrics_by_name))}"
            ) from None

    def measure(self, name: str) -> tuple[SemanticModel, Measure]:
        try:
            return self.measures_by_name[name]
        except KeyError:
            raise SemanticError(
                f"unknown measure {name!r}; valid measures: "
                f"{', '.join(sorted(self.measures_by_name))}"
            ) from None


# -- parsing -----------------------------------------------------------------


def _filters(raw: Any) -> tuple[str, ...]:
    if not raw:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, dict) and "where_filters" in raw:
        return tuple(f["where_sql_template"] for f in raw["where_filters"] or ())
    if isinstance(raw, list):
        return tuple(t for item in raw for t in _filters(item))
    if isinstance(raw, dict) and "where_sql_template" in raw:
        return (raw["where_sql_template"],)
    raise SemanticError(f"cannot read filter {raw!r}")


def _window(raw: Any) -> Window | None:
    if not raw:
        return None
    if isinstance(raw, str):  # "3 months"
        count, _, grain = raw.strip().partition(" ")
        return Window(int(count), _grain(grain))
    return Window(int(raw["count"]), _grain(raw["granularity"]))


def _grain(raw: str | None) -> str | None:
    if raw is None:
        return None
    g = raw.lower().strip()
    g = g[:-1] if g.endswith("s") and g[:-1] in GRAIN_RANK else g
    if g not in GRAIN_RANK:
        raise SemanticError(f"unknown time granularity {raw!r}; valid: {', '.join(GRAINS)}")
    return g


def _relation(raw: dict[str, Any]) -> Relation:
    return Relation(raw.get("database"), raw["schema_name"], raw["alias"])


def _model(raw: dict[str, Any]) -> SemanticModel:
    defaults = raw.get("defaults") or {}
    measures = []
    for m in raw.get("measures") or ():
        params = m.get("agg_params") or {}
        measures.append(
            Measure(
                name=m["name"],
                agg=m["agg"],
                expr=m.get("expr") or m["name"],
                agg_time_dimension=m.get("agg_time_dimension"),
                percentile=params.get("percentile"),
                use_discrete_percentile=bool(params.get("use_discrete_percentile")),
                non_additive=bool(m.get("non_additive_dimension")),
            )
        )
    dimensions = tuple(
        Dimension(
            name=d["name"],
            type=d["type"],
            expr=d.get("expr") or d["name"],
            time_granularity=_grain((d.get("type_params") or {}).get("time_granularity")),
        )
        for d in raw.get("dimensions") or ()
    )
    entities = tuple(
        Entity(name=e["name"], type=e["type"], expr=e.get("expr") or e["name"])
        for e in raw.get("entities") or ()
    )
    return SemanticModel(
        name=raw["name"],
        relation=_relation(raw["node_relation"]),
        entities=entities,
        dimensions=dimensions,
        measures=tuple(measures),
        default_agg_time_dimension=defaults.get("agg_time_dimension"),
        primary_entity=raw.get("primary_entity"),
        description=raw.get("description"),
        rollups=_rollups(raw),
    )


def _rollups(raw: dict[str, Any]) -> tuple[Rollup, ...]:
    meta = ((raw.get("config") or {}).get("meta") or {}).get("opslake") or {}
    return tuple(
        Rollup(model=r["model"], dimensions=tuple(r.get("dimensions") or ()))
        for r in meta.get("rollups") or ()
    )


def _metric_input(raw: dict[str, Any] | None) -> MetricInput | None:
    if not raw:
        return None
    return MetricInput(
        name=raw["name"],
        filters=_filters(raw.get("filter")),
        alias=raw.get("alias"),
        offset_window=_window(raw.get("offset_window")),
        offset_to_grain=_grain(raw.get("offset_to_grain")),
    )


def _metric(raw: dict[str, Any]) -> Metric:
    tp = raw.get("type_params") or {}
    measure = tp.get("measure")
    if isinstance(measure, str):
        measure = {"name": measure}
    cumulative = tp.get("cumulative_type_params") or {}
    return Metric(
        name=raw["name"],
        type=raw["type"].lower(),
        label=raw.get("label"),
        description=raw.get("description"),
        filters=_filters(raw.get("filter")),
        measure=MeasureInput(
            name=measure["name"],
            filters=_filters(measure.get("filter")),
            fill_nulls_with=measure.get("fill_nulls_with"),
            join_to_timespine=bool(measure.get("join_to_timespine")),
        )
        if measure
        else None,
        numerator=_metric_input(tp.get("numerator")),
        denominator=_metric_input(tp.get("denominator")),
        expr=tp.get("expr"),
        inputs=tuple(i for i in map(_metric_input, tp.get("metrics") or ()) if i),
        window=_window(cumulative.get("window") or tp.get("window")),
        grain_to_date=_grain(cumulative.get("grain_to_date") or tp.get("grain_to_date")),
        period_agg=(cumulative.get("period_agg") or "first").lower(),
        time_granularity=_grain(raw.get("time_granularity")),
    )


def _time_spines(raw: dict[str, Any]) -> tuple[TimeSpine, ...]:
    spines = [
        TimeSpine(
            _relation(s["node_relation"]),
            s["primary_column"]["name"],
            _grain(s["primary_column"].get("time_granularity") or "day") or "day",
        )
        for s in raw.get("time_spines") or ()
    ]
    for legacy in raw.get("time_spine_table_configurations") or ():  # "db.schema.table"
        parts = legacy["location"].split(".")
        spines.append(
            TimeSpine(
                Relation(parts[-3] if len(parts) > 2 else None, parts[-2], parts[-1]),
                legacy["column_name"],
                _grain(legacy.get("grain") or "day") or "day",
            )
        )
    return tuple(spines)


def parse_manifest(raw: dict[str, Any]) -> Manifest:
    """Build a :class:`Manifest` from the decoded ``semantic_manifest.json``."""
    try:
        return Manifest(
            semantic_models=tuple(_model(m) for m in raw.get("semantic_models") or ()),
            metrics=tuple(_metric(m) for m in raw.get("metrics") or ()),
            time_spines=_time_spines(raw.get("project_configuration") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SemanticError(f"malformed semantic manifest: {exc!r}") from exc


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Manifest:
    return parse_manifest(json.loads(Path(path).read_text(encoding="utf-8")))


def load_manifest(path: str | Path) -> Manifest:
    """Read and parse a manifest file; cached until the file changes."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError:
        raise SemanticError(
            f"no semantic manifest at {p} (run `dbt parse` in the models project)"
        ) from None
    return _load(str(p.resolve()), mtime)
