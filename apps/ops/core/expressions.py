"""The safe expression language of forms, flows and rules (conditions and formulas).

Expressions are Python-like (``amount >= 5000 and category == "it"``) and evaluated by
`simpleeval` (MIT): no ``eval``, no attribute access to dunders, no imports, bounded powers
and string sizes. Names are the record's field values; the functions are listed in
:data:`FUNCTIONS`. See docs/decisions/0010-expression-language.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression


class ExpressionError(ValueError):
    """An expression that does not parse, or failed while being evaluated."""


def _column(rows: Iterable[Mapping[str, Any]] | None, name: str) -> list[Any]:
    return [row.get(name) for row in rows or [] if isinstance(row, Mapping)]


def _total(values: Iterable[Any] | None) -> Any:
    return sum((v for v in values or [] if v is not None), Decimal(0))


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


FUNCTIONS = {
    "len": len,
    "sum": _total,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "int": int,
    "str": str,
    "decimal": lambda v: Decimal(str(v)),
    "col": _column,  # col(items, "amount") -> the amounts of the line items
    "empty": lambda v: v is None or v == "" or v == [] or v == {},
}


def days_between(start: Any, end: Any) -> float:
    a, b = _as_datetime(start), _as_datetime(end)
    if a is None or b is None:
        raise ExpressionError("days_between needs two dates")
    return (b - a).total_seconds() / 86400


@lru_cache(maxsize=1024)
def parse(expression: str) -> ast.Expr:
    """Parse once (cached); raises :class:`ExpressionError` for a syntax error."""
    try:
        return EvalWithCompoundTypes().parse(expression)
    except (SyntaxError, InvalidExpression, ValueError) as exc:
        raise ExpressionError(f"cannot parse {expression!r}: {exc}") from None


def numeric(value: Any) -> Any:
    """Floats become Decimals so that money and numbers mix exactly."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [numeric(v) for v in value]
    if isinstance(value, dict):
        return {k: numeric(v) for k, v in value.items()}
    return value


def evaluate(expression: str, names: Mapping[str, Any], *, now: datetime | None = None) -> Any:
    parsed = parse(expression)
    functions = dict(FUNCTIONS)
    moment = now or datetime.now(UTC)
    functions["now"] = lambda: moment
    functions["days_since"] = lambda v: days_between(v, moment)
    functions["days_between"] = days_between
    evaluator = EvalWithCompoundTypes(names=dict(names), functions=functions)
    try:
        return evaluator.eval(expression, previously_parsed=parsed)
    except ExpressionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the user's expression
        raise ExpressionError(f"{expression!r} failed: {exc}") from None


def is_true(expression: str, names: Mapping[str, Any], *, now: datetime | None = None) -> bool:
    return bool(evaluate(expression, names, now=now))


def check_expression(expression: str) -> str:
    """Validator for definitions: the expression must parse."""
    parse(expression)
    return expression
