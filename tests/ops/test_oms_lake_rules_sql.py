"""Every shipped lake-condition rule runs on a lake built by the real pipeline (the demo
company through Dagster), and every placeholder its actions use is a column it returns —
so a rule cannot point at a mart or a column that does not exist (low_stock_alert once read
marts.fct_stock_levels)."""

from __future__ import annotations

import string

import pytest

from apps.ops.core.config import BUILTIN_RULES_DIR
from apps.ops.rules.loader import read_rules

LAKE_RULES = {n: r for n, r in read_rules(BUILTIN_RULES_DIR).items() if r.trigger.event == "lake"}


def _placeholders(value: object) -> set[str]:
    """Every ``{name}`` in the strings of an action (nested dicts and lists included)."""
    if isinstance(value, str):
        return {f for _, f, _, _ in string.Formatter().parse(value) if f}
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value))
    return set()


def test_the_shipped_rules_include_lake_conditions() -> None:
    assert {"safety_stock_replenish", "low_stock_alert", "slow_moving_stock_notice"} <= set(
        LAKE_RULES
    )


@pytest.mark.parametrize("name", sorted(LAKE_RULES))
def test_lake_rule_sql_runs_on_the_demo_lake(name: str, demo_lake) -> None:
    rule = LAKE_RULES[name]
    con = demo_lake.lake.reader()
    try:
        cursor = con.execute(rule.trigger.sql)
        columns = {d[0] for d in cursor.description}
        cursor.fetchmany(5)
    finally:
        con.close()
    assert rule.trigger.key in columns, f"{name}: key {rule.trigger.key!r} not in {columns}"
    used = set().union(*(_placeholders(a.model_dump(mode="json")) for a in rule.actions))
    assert used <= columns, f"{name}: actions use {used - columns}, the SQL returns {columns}"
