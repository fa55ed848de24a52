"""dbt build of the main marts vs the same marts as one DuckDB SQL script; incremental vs
full build; peak memory of the full build. Returns a list of three Figures.

Data: the demo generator at BENCH_SCALE order lines (≈ 2.4 lines per order), landed by the
real connectors (`opslake ingest`), prepared once and cached by benchmarks.datasets.
Main marts: the sales/OMS facts (fct_orders, fct_order_lines and their
staging/intermediate chain) and fct_inventory_daily.

Figures (ratio = subject / baseline, as the harness computes it):
- ``build_full``: subject = the one-script DuckDB run, baseline = `dbt run` of the main
  marts, so ratio = script_time / dbt_time — i.e. "baseline_time/subject_time" in the
  issue's words, where dbt is the subject; goal ≥ 0.6 (higher is better). The script is the
  compiled SQL of the same models executed as CREATE TABLE statements on one connection in
  dependency order (no dbt process, no adapter round trips): what a hand-written script of
  the same logic costs.
- ``build_incremental``: subject = `dbt run` of the incremental facts (order lines, stock
  movements) *and every model between them and raw* after +1% new orders, baseline =
  `--full-refresh` of the same models; goal ≤ 0.1. The path is incremental from staging
  up, so selecting the facts alone would not even see the new orders. Both runs pass
  ``incremental_lookback_hours: 0`` (the same vars, so dbt's partial parse stays valid):
  the lookback (default 1 h, models/macros/incremental.sql) redoes whatever arrived within
  the hour before the previous run, and here the whole history arrived minutes before the
  first round and the rounds come seconds apart, so with it the figure would measure the
  lookback (a full rebuild), not the incremental path; in service, with hourly runs, it
  adds about one run's changes to each run.
- ``build_peak_rss``: peak RSS of the dbt child process (getrusage RUSAGE_CHILDREN,
  measured in a fresh child per run), GiB; baseline 4 GiB; goal ratio < 1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.datasets import demo_lake, orders_for, working_copy
from benchmarks.harness import Figure, alternate
from warehouse.lake import Lake

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "models"
MAIN_MARTS = ["+fct_orders", "+fct_order_lines", "+fct_inventory_daily"]
# the incremental facts and every model between them and raw
INCREMENTAL_PATH = ["+fct_order_lines", "+fct_stock_movements"]
NO_LOOKBACK = ["--vars", "{incremental_lookback_hours: 0}"]


def _dbt(args: list[str], catalog: Path, ext_dir: Path, target: Path) -> float:
    env = os.environ | {
        "OPSLAKE_DBT_CATALOG": str(catalog),
        "OPSLAKE_DBT_EXTENSION_DIR": str(ext_dir),
        "DBT_PROFILES_DIR": str(MODELS),
    }
    start = time.perf_counter()
    proc = subprocess.run(
        [str(REPO / ".venv/bin/dbt"), *args, "--quiet", "--target-path", str(target)],
        cwd=MODELS,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-2000:])
    return time.perf_counter() - start


def _logged(name: str, fn: Callable[[], float | None]) -> Callable[[], float]:
    """``fn`` timed, each measure printed as it comes (a long run shows its progress)."""

    def run() -> float:
        start = time.perf_counter()
        value = fn()
        value = time.perf_counter() - start if value is None else value
        print(f"[build] {name}: {value:.2f}", file=sys.stderr, flush=True)
        return value

    return run


def _peak_rss_gib(args: list[str], catalog: Path, ext_dir: Path, target: Path) -> float:
    """Run dbt in a fresh Python child that reports its own child's max RSS."""
    code = (
        "import resource,sys,subprocess;"
        "subprocess.run(sys.argv[1:],check=True,capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    env = os.environ | {
        "OPSLAKE_DBT_CATALOG": str(catalog),
        "OPSLAKE_DBT_EXTENSION_DIR": str(ext_dir),
        "DBT_PROFILES_DIR": str(MODELS),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(REPO / ".venv/bin/dbt"),
            *args,
            "--quiet",
            "--target-path",
            str(target),
        ],
        cwd=MODELS,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024 / 1024  # KiB → GiB


def _script(target: Path) -> list[tuple[str, str]]:
    """(relation, compiled SQL) of the main marts' models in dependency order."""
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    wanted = set()
    stack = [k for k, v in nodes.items() if v["name"] in {m.lstrip("+") for m in MAIN_MARTS}]
    while stack:
        k = stack.pop()
        if k in wanted or k not in nodes:
            continue
        wanted.add(k)
        stack += nodes[k]["depends_on"]["nodes"]
    order: list[str] = []

    def visit(k: str) -> None:
        if k in order or k not in wanted:
            return
        for d in nodes[k]["depends_on"]["nodes"]:
            visit(d)
        order.append(k)

    for k in sorted(wanted):
        visit(k)
    names = [nodes[k]["name"] for k in order]
    out = []
    for k in order:
        sql = nodes[k]["compiled_code"]
        for name in names:  # read the script's own tables, not dbt's relations
            sql = re.sub(rf'"lake"\."[a-z_]+"\."{name}"', f"bench.{name}", sql)
        out.append((f"bench.{nodes[k]['name']}", sql))
    return out


def run(scale: int | None, ext_dir: Path) -> list[Figure]:
    lines = scale or 200_000
    orders = orders_for(lines)
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        home = working_copy(demo_lake(lines, 42, ext_dir), work / "home", ext_dir)
        lake = Lake(home / "lake" / "catalog.sqlite", home / "lake" / "data", ext_dir)
        cat, target = lake.catalog_path, work / "target"
        select = ["--select", *MAIN_MARTS]
        _dbt(["run", *select, "--full-refresh"], cat, ext_dir, target)  # builds + compiles
        script = _script(target)

        def baseline_script() -> None:
            with lake.writing() as con:
                con.execute("create schema if not exists bench")
                for rel, sql in script:
                    con.execute(f"create or replace table {rel} as {sql}")

        def dbt_full() -> float:
            return _dbt(["run", *select, "--full-refresh"], cat, ext_dir, target)

        script_s, dbt_s = alternate(
            _logged("script", lambda: (baseline_script(), None)[1]), _logged("dbt full", dbt_full)
        )
        figures = [
            Figure(
                "build_full",
                "s",
                script_s,
                dbt_s,
                ">= 0.6",
                {"order_lines": lines},
                higher_is_better=True,
            ),
        ]

        # incremental: +1% new orders (copies of recent ones under new ids) per round
        rounds = iter(range(1, 1000))

        def add_orders() -> None:
            n = next(rounds)
            with lake.writing() as con:
                for table in ("tmall_trades", "jd_orders", "douyin_orders", "shopify_orders"):
                    con.execute(f"""
                        insert into raw.{table}
                        select * replace ('{n}x' || order_id as order_id, now() as _received_at)
                        from raw.{table} using sample {max(1, orders // 400)} rows""")

        path = ["--select", *INCREMENTAL_PATH, *NO_LOOKBACK]

        def incremental() -> float:
            add_orders()
            return _dbt(["run", *path], cat, ext_dir, target)

        def full() -> float:
            return _dbt(["run", *path, "--full-refresh"], cat, ext_dir, target)

        inc_s, full_s = alternate(
            _logged("dbt incremental", incremental), _logged("dbt full (same models)", full)
        )
        figures.append(
            Figure(
                "build_incremental",
                "s",
                inc_s,
                full_s,
                "<= 0.1",
                {
                    "order_lines": lines,
                    "new_orders": "1%",
                    "models": " ".join(INCREMENTAL_PATH),
                    "lookback_hours": 0,
                },
            )
        )

        peaks = [
            _peak_rss_gib(["run", *select, "--full-refresh"], cat, ext_dir, target)
            for _ in range(3)
        ]
        figures.append(
            Figure(
                "build_peak_rss", "GiB", peaks, [4.0] * len(peaks), "< 1", {"order_lines": lines}
            )
        )
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
