"""Every metric of the real dbt project compiles (and runs, when the lake has the marts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from semantic import MetricQuery, compile_query, load_manifest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "models"
REAL_MANIFEST = PROJECT / "target" / "semantic_manifest.json"


@pytest.fixture(scope="module")
def real_manifest():
    if not REAL_MANIFEST.exists():
        dbt = Path(sys.executable).parent / "dbt"
        env = os.environ | {"DBT_PROFILES_DIR": str(PROJECT)}
        try:
            done = subprocess.run(
                [str(dbt), "parse"],
                cwd=PROJECT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"dbt parse could not run: {exc}")
        if done.returncode != 0 or not REAL_MANIFEST.exists():
            print(done.stdout[-2000:], done.stderr[-2000:])
            pytest.skip(f"dbt parse failed (exit {done.returncode}); see output above")
    return load_manifest(REAL_MANIFEST)


def _queries(manifest):
    for metric in manifest.metrics:
        yield MetricQuery(metrics=[metric.name])
        yield MetricQuery(metrics=[metric.name], group_by=["metric_time__month"])
        yield MetricQuery(metrics=[metric.name], group_by=["metric_time__day"], start="2024-01-01")
    for model in manifest.semantic_models:
        names = [
            m.name
            for m in manifest.metrics
            if m.measure and manifest.measure(m.measure.name)[0] is model
        ]
        for dim in model.dimensions:
            if names and not dim.is_time:
                yield MetricQuery(metrics=names, group_by=[dim.name, "metric_time__week"])


def test_every_real_metric_compiles(real_manifest):
    assert real_manifest.metrics, "the dbt project defines no metrics"
    for query in _queries(real_manifest):
        for dialect in ("duckdb", "trino", "postgres"):
            assert compile_query(real_manifest, query, dialect=dialect)


def test_every_real_metric_runs_on_the_lake(real_manifest, demo_lake):
    con = demo_lake.lake.reader()
    try:
        present = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'lake' "
                "AND table_schema = 'marts'"
            ).fetchall()
        }
        needed = {m.relation.alias for m in real_manifest.semantic_models}
        assert needed <= present, f"marts missing after the demo build: {needed - present}"
        for query in _queries(real_manifest):
            con.execute(compile_query(real_manifest, query)).fetchall()
    finally:
        con.close()
