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
  up, so selecting the facts alone would not even see the new orders. Every dbt run of the
  benchmark passes ``incremental_lookback_hours: 0`` (the same vars everywhere, so dbt's
  partial parse stays valid from the first run to the last; the var changes nothing in a
  full build): the lookback (default 1 h, models/macros/incremental.sql) redoes whatever
  arrived within the hour before the previous run, and here the whole history arrived
  minutes before the first round and the rounds come seconds apart, so with it the figure
  would measure the lookback (a full rebuild), not the incremental path; in service, with
  hourly runs, it adds about one run's changes to each run.
- ``build_peak_rss``: the maximum resident set of each measured `dbt run` of the main
  marts in ``build_full`` (each a fresh process; ``os.wait4`` returns that child's own
  ru_maxrss), GiB; baseline 4 GiB; goal ratio < 1.

Order and repeats: ``build_incremental`` runs first, then ``build_full`` (a budgeted run
that has to stop keeps the figure issue #4 is about). In the incremental figure each pair
is the full build then the incremental run (the first full build also creates the
tables); in the full figure, the script then dbt. As every benchmark: one warm-up pair,
then 5 measured pairs, alternating. A full build of 6M order lines takes many minutes
here, so a run may be given a time budget, ``BENCH_BUILD_BUDGET_S`` (seconds for the whole
build benchmark, counted from its first measured run). With a budget there is no warm-up
pair, and a figure takes another pair only while that pair, estimated as long as its
longest pair so far, and one pair of each figure still to come (estimated the same way
until measured), fit before the budget ends. Every figure gets at least one pair, so a
run may overrun its budget. How many pairs a figure got is recorded in its ``scale``
(``pairs``, ``warmup``), and each figure's JSON is written as soon as it is complete.
Nothing is extrapolated.
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
from benchmarks.harness import Figure, record
from warehouse.lake import Lake

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "models"
MAIN_MARTS = ["+fct_orders", "+fct_order_lines", "+fct_inventory_daily"]
# the incremental facts and every model between them and raw
INCREMENTAL_PATH = ["+fct_order_lines", "+fct_stock_movements"]
NO_LOOKBACK = ["--vars", "{incremental_lookback_hours: 0}"]
REPEATS, WARMUP = 5, 1  # measured pairs and warm-up pairs per figure (BENCHMARKS.md)
BUDGET_ENV = "BENCH_BUILD_BUDGET_S"
GIB = 1024 * 1024  # ru_maxrss is in KiB on Linux


def _dbt(args: list[str], catalog: Path, ext_dir: Path, target: Path) -> tuple[float, float]:
    """Run dbt; (wall seconds, peak RSS of that dbt process in GiB)."""
    env = os.environ | {
        "OPSLAKE_DBT_CATALOG": str(catalog),
        "OPSLAKE_DBT_SPILL_DIR": str(catalog.parent / "spill"),  # as Lake.spill_path
        "OPSLAKE_DBT_EXTENSION_DIR": str(ext_dir),
        "DBT_PROFILES_DIR": str(MODELS),
    }
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(REPO / ".venv/bin/dbt"), *args, *NO_LOOKBACK, "--quiet"]
            + ["--target-path", str(target)],
            cwd=MODELS,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            out.seek(0)
            raise RuntimeError(out.read()[-5000:])
    return seconds, usage.ru_maxrss / GIB


def _logged(name: str, fn: Callable[[], float | None]) -> Callable[[], float]:
    """``fn`` timed, each measure printed as it comes (a long run shows its progress)."""

    def run() -> float:
        start = time.perf_counter()
        value = fn()
        value = time.perf_counter() - start if value is None else value
        print(f"[build] {name}: {value:.2f}", file=sys.stderr, flush=True)
        return value

    return run


class _Pairs:
    """Two measures alternately (A B A B …): the harness's warm-up + 5 pairs, or, under a
    time budget, as many pairs as fit (at least one; see the module docstring)."""

    def __init__(self, budget_s: float | None) -> None:
        self.deadline = None if budget_s is None else time.perf_counter() + budget_s
        self.longest: dict[str, float] = {}  # figure → its longest pair so far

    def run(
        self,
        figure: str,
        first: Callable[[], float],
        second: Callable[[], float],
        then: list[str],
    ) -> tuple[list[float], list[float], dict[str, int]]:
        """``then``: figures still to come after this one; each has one pair reserved, as
        long as its longest pair or, before its first, as this figure's longest pair."""
        warmup = WARMUP if self.deadline is None else 0
        for _ in range(warmup):
            first(), second()
        a: list[float] = []
        b: list[float] = []
        while len(a) < REPEATS:
            start = time.perf_counter()
            a.append(first())
            b.append(second())
            self.longest[figure] = max(self.longest.get(figure, 0), time.perf_counter() - start)
            if self.deadline is not None:
                reserve = sum(self.longest.get(f, self.longest[figure]) for f in then)
                if time.perf_counter() + self.longest[figure] + reserve > self.deadline:
                    break
        return a, b, {"pairs": len(a), "warmup": warmup}


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
    budget = os.environ.get(BUDGET_ENV)
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        home = working_copy(demo_lake(lines, 42, ext_dir), work / "home", ext_dir)
        lake = Lake(home / "lake" / "catalog.sqlite", home / "lake" / "data", ext_dir)
        cat, target = lake.catalog_path, work / "target"
        select = ["--select", *MAIN_MARTS]
        # compiles the full-build SQL (nothing is built yet) and saves the parse for the runs
        _dbt(["compile", *select, "--full-refresh"], cat, ext_dir, target)
        script = _script(target)
        pairs = _Pairs(float(budget) if budget else None)
        figures: list[Figure] = []

        # incremental first (the figure issue #4 is about; a budgeted run keeps it if it
        # must stop early): +1% new orders (copies of recent ones under new ids) per round.
        # Each pair's full build comes first: the first one also builds the tables.
        rounds = iter(range(1, 1000))

        def add_orders() -> None:
            n = next(rounds)
            with lake.writing() as con:
                for table in ("tmall_trades", "jd_orders", "douyin_orders", "shopify_orders"):
                    con.execute(f"""
                        insert into raw.{table}
                        select * replace ('{n}x' || order_id as order_id, now() as _received_at)
                        from raw.{table} using sample {max(1, orders // 400)} rows""")

        path = ["--select", *INCREMENTAL_PATH]

        def incremental() -> float:
            add_orders()
            return _dbt(["run", *path], cat, ext_dir, target)[0]

        def full() -> float:
            return _dbt(["run", *path, "--full-refresh"], cat, ext_dir, target)[0]

        full_s, inc_s, how = pairs.run(
            "build_incremental",
            _logged("dbt full (incremental path)", full),
            _logged("dbt incremental", incremental),
            then=["build_full"],
        )
        figures.append(
            _recorded(
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
                        **how,
                    },
                )
            )
        )

        def baseline_script() -> None:
            with lake.writing() as con:
                con.execute("create schema if not exists bench")
                for rel, sql in script:
                    con.execute(f"create or replace table {rel} as {sql}")

        peaks: list[float] = []

        def dbt_full() -> float:
            seconds, peak = _dbt(["run", *select, "--full-refresh"], cat, ext_dir, target)
            peaks.append(peak)
            print(f"[build] dbt full peak RSS: {peak:.2f} GiB", file=sys.stderr, flush=True)
            return seconds

        script_s, dbt_s, how = pairs.run(
            "build_full",
            _logged("script", lambda: (baseline_script(), None)[1]),
            _logged("dbt full", dbt_full),
            then=[],
        )
        figures.append(
            _recorded(
                Figure(
                    "build_full",
                    "s",
                    script_s,
                    dbt_s,
                    ">= 0.6",
                    {"order_lines": lines, **how},
                    higher_is_better=True,
                )
            )
        )
        measured = peaks[-len(dbt_s) :]  # the warm-up's run is not a measure
        figures.append(
            _recorded(
                Figure(
                    "build_peak_rss",
                    "GiB",
                    measured,
                    [4.0] * len(measured),
                    "< 1",
                    {"order_lines": lines, "runs": len(measured)},
                )
            )
        )
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _recorded(fig: Figure) -> Figure:
    """Write the figure's JSON now (the table is printed at the end of the run)."""
    doc = record(fig)
    print(
        f"[build] {fig.name}: ratio {doc['ratio_median']:.3f} "
        f"({doc['ratio_min']:.3f}–{doc['ratio_max']:.3f}), {fig.scale}",
        file=sys.stderr,
        flush=True,
    )
    return fig
