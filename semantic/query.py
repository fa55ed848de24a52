"""What a caller asks the semantic layer for: metrics, group-bys, structured filters.

A query is an immutable, hashable value (lists given to the constructor become tuples), so
compiled SQL can be cached by query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from semantic.errors import SemanticError

OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "in", "between"})
Scalar = str | int | float | bool | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Filter:
    """``dimension op value``; ``in`` takes ``values``, ``between`` takes two ``values``.

    Values are always rendered as SQL literals, never spliced into SQL text.
    """

    dimension: str
    op: str = "="
    value: Scalar = None
    values: tuple[Scalar, ...] = ()

    def __post_init__(self) -> None:
        op = self.op.lower().strip()
        if op == "<>":
            op = "!="
        if op not in OPS:
            raise SemanticError(
                f"unknown filter op {self.op!r}; valid ops: {', '.join(sorted(OPS))}"
            )
        object.__setattr__(self, "op", op)
        if not isinstance(self.values, tuple):
            object.__setattr__(self, "values", tuple(self.values))
        if op == "in" and not self.values:
            if isinstance(self.value, list | tuple | set | frozenset):
                object.__setattr__(self, "values", tuple(self.value))
                object.__setattr__(self, "value", None)
            else:
                raise SemanticError(f"filter on {self.dimension!r}: 'in' needs a list of values")
        if op == "between":
            vals = self.values or (
                tuple(self.value) if isinstance(self.value, list | tuple) else ()
            )
            if len(vals) != 2:
                raise SemanticError(f"filter on {self.dimension!r}: 'between' needs two values")
            object.__setattr__(self, "values", tuple(vals))
            object.__setattr__(self, "value", None)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Filter:
        values = raw.get("values")
        return cls(
            dimension=raw["dimension"],
            op=raw.get("op", "="),
            value=raw.get("value"),
            values=tuple(values) if values is not None else (),
        )


def _tuple(items: Iterable[Any] | str | None) -> tuple[Any, ...]:
    if items is None:
        return ()
    if isinstance(items, str):
        return (items,)
    return tuple(items)


@dataclass(frozen=True)
class MetricQuery:
    """Metrics by group-bys.

    ``group_by``: ``store_code``, ``pos_daily_sales__store_code``, ``metric_time__month``,
    ``sales_date__month``, multi-hop ``customer__region__country``.
    ``order_by``: output column names, ``-name`` for descending.
    ``start`` / ``end``: inclusive range on ``metric_time`` at the query's time grain, applied
    after cumulative and offset metrics are computed (they still see earlier history).
    """

    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    where: tuple[Filter, ...] = ()
    start: dt.date | dt.datetime | str | None = None
    end: dt.date | dt.datetime | str | None = None
    order_by: tuple[str, ...] = ()
    limit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", _tuple(self.metrics))
        object.__setattr__(self, "group_by", _tuple(self.group_by))
        object.__setattr__(self, "order_by", _tuple(self.order_by))
        where = tuple(
            f if isinstance(f, Filter) else Filter.from_dict(f) for f in _tuple(self.where)
        )
        object.__setattr__(self, "where", where)
        if not self.metrics:
            raise SemanticError("a metric query needs at least one metric")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 0):
            raise SemanticError(f"limit must be a non-negative integer, not {self.limit!r}")
