"""Every compiled model transpiles from DuckDB to the Trino and Spark dialects (sqlglot,
unsupported constructs raise), so the project can move to a Trino/Spark lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from tests.models.dbt_helpers import dbt
from warehouse.lake import Lake


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory, extension_dir: Path) -> dict[str, str]:
    home = tmp_path_factory.mktemp("compile-home")
    lake = Lake(home / "catalog.sqlite", home / "data", extension_dir)
    lake.init()  # compile needs a lake to attach, not its tables
    target = home / "target"
    dbt(["compile", "--quiet"], lake.catalog_path, extension_dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    return {
        n["name"]: n["compiled_code"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n.get("compiled_code")
    }


def test_models_compiled(compiled: dict[str, str]) -> None:
    assert {"fct_orders", "fct_order_lines", "fct_inventory_daily"} <= set(compiled)


@pytest.mark.parametrize("dialect", ["trino", "spark"])
def test_every_model_transpiles(compiled: dict[str, str], dialect: str) -> None:
    failures = {}
    for name, sql in sorted(compiled.items()):
        try:
            out = sqlglot.transpile(
                sql,
                read="duckdb",
                write=dialect,
                unsupported_level=ErrorLevel.RAISE,
                error_level=ErrorLevel.RAISE,
            )
            assert out and out[0].strip()
        except Exception as exc:  # noqa: BLE001 - report every model, then fail once
            failures[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    assert not failures, f"models that do not transpile to {dialect}: {failures}"
