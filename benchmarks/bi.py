"""BI figures: cockpit chart queries through Superset, cockpit load in Chromium, metric compile.

* ``bi_chart_p95_vs_duckdb``: p95 of each cockpit chart's chart-data request (``force=true``,
  so Superset runs the query) against p95 of the same SQL (from ``result_type=query``) on a
  pooled DuckDB connection to the same lake. Informational ratio.
* ``bi_chart_p95_budget``: the same chart p95s against the 300 ms goal (ratio < 1 = met).
* ``bi_cockpit_load``: Chromium navigation → every cockpit chart drawn, against 3 s (absolute),
  warm: the browser has the static files and Superset's shared query cache has the results
  (what every user after the first one within the cache TTL gets).
* ``bi_cockpit_load_cold``: the same from a fresh browser profile (no cached JS) with Superset's
  query cache emptied first: the first user after a lake update.
* ``bi_metric_compile_vs_run``: compiling "revenue by month and channel" (uncached) against
  running the compiled SQL; ``bi_metric_compile_budget``: compile time against 2 ms.

``OPSLAKE_SUPERSET_*`` variables of the caller are passed to the benchmark's Superset (e.g.
``OPSLAKE_SUPERSET_EVENT_LOG=db`` to measure Superset's own event log).

The lake: ``OPSLAKE_BENCH_BI_HOME`` (a home with a built lake, copied, never written), or the
demo company at ``scale`` ORDER LINES (default 4,800 ≈ 2,000 orders) from
``benchmarks.datasets.demo_lake`` (ingested once, cached under var/bench) with the cockpit's
marts built on a working copy by ``dbt run``. Superset runs from .venv-superset on a free port
and is stopped afterwards.

    .venv/bin/python -m benchmarks.bi [--scale ORDER_LINES]   # = make bench BENCH=bi BENCH_SCALE=N
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Figure, record

REQUESTS = 12  # per chart and side
LOADS = 4


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


DEFAULT_LINES = 4800
# what the cockpit and the metric figure read, with everything upstream of them
COCKPIT_MARTS = [
    "+fct_orders",
    "+fct_order_lines",
    "+agg_orders_daily",
    "+agg_product_sales_daily",
    "+fct_inventory_daily",
    "+fct_purchase_orders",
]


def _lake_home(scale: int | None, ext_dir: Path, work: Path) -> Path:
    home = work / "home"
    source = os.environ.get("OPSLAKE_BENCH_BI_HOME")
    if source:
        shutil.copytree(source, home, ignore=shutil.ignore_patterns("superset", "run"))
        return home
    from benchmarks.build import _dbt
    from benchmarks.datasets import demo_lake, working_copy

    working_copy(demo_lake(scale or DEFAULT_LINES, 42, ext_dir), home, ext_dir)
    _dbt(
        ["run", "--select", *COCKPIT_MARTS],
        home / "lake" / "catalog.sqlite",
        ext_dir,
        work / "dbt-target",
    )
    _print_model_times(work / "dbt-target" / "run_results.json")
    return home


def _print_model_times(run_results: Path) -> None:
    """What the marts the cockpit reads cost to build (stderr; the rollups' price)."""
    import json
    import sys

    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    for r in results:
        name = r["unique_id"].rsplit(".", 1)[-1]
        if name.startswith(("fct_", "agg_")):
            print(f"[bi] dbt {name}: {r['execution_time']:.1f} s", file=sys.stderr, flush=True)


def _clear_query_cache(home: Path) -> None:
    """Empty Superset's shared query cache (the file cache of superset_config.py)."""
    cache = home / "superset" / "cache" / "opslake_data"
    if cache.exists():
        for entry in cache.iterdir():
            entry.unlink()


def _metric_figures() -> list[Figure]:
    from semantic import MetricQuery, compile_query, load_manifest
    from warehouse.lake import Lake

    manifest = load_manifest(
        Path(__file__).resolve().parents[1] / "models/target/semantic_manifest.json"
    )
    query = MetricQuery(metrics=["revenue"], group_by=["metric_time__month", "channel"])
    con = Lake.from_settings().reader()
    try:
        sql = compile_query(manifest, query)
        con.execute(sql).fetchall()  # warm-up
        compile_s, run_s = [], []
        for _ in range(20):
            t0 = time.perf_counter()
            sql = compile_query(manifest, query)
            compile_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            con.execute(sql).fetchall()
            run_s.append(time.perf_counter() - t0)
    finally:
        con.close()
    return [
        Figure(
            "bi_metric_compile_vs_run",
            "s",
            compile_s,
            run_s,
            "<= 1",
            {"query": "revenue by month, channel"},
        ),
        Figure(
            "bi_metric_compile_budget",
            "s",
            compile_s,
            [0.002] * len(compile_s),
            "< 1",
            {"goal_s": 0.002},
        ),
    ]


def run(scale: int | None, ext_dir: Path) -> list[Figure]:
    from tests.bi.conftest import ensure_semantic_manifest, running_superset
    from tests.browser.test_dashboards import CHROMIUM, launch, login, open_dashboard
    from warehouse.lake import Lake

    work = Path(tempfile.mkdtemp(prefix="bench-bi-"))
    saved_env = dict(os.environ)
    figures: list[Figure] = []
    try:
        home = _lake_home(scale, ext_dir, work)
        os.environ.update(OPSLAKE_HOME=str(home), OPSLAKE_EXTENSION_DIR=str(ext_dir))
        ensure_semantic_manifest()  # superset-metrics exports the rollups' metrics from it
        figures += _metric_figures()
        extra = {"OPSLAKE_EXTENSION_DIR": str(ext_dir)}
        # the caller's Superset switches reach the benchmark's Superset (A/B of a setting)
        extra |= {k: v for k, v in saved_env.items() if k.startswith("OPSLAKE_SUPERSET_")}
        with running_superset(home, extra) as server, server.client("admin", "admin") as http:
            dash = next(
                d
                for d in http.get("/api/v1/dashboard/?q=(page_size:100)").json()["result"]
                if d["slug"] == "cockpit"
            )
            charts = http.get(f"/api/v1/dashboard/{dash['id']}/charts").json()["result"]
            con = Lake.from_settings().reader()  # the pooled connection of the baseline
            subject, baseline = [], []
            try:
                for chart in charts:
                    url = f"/api/v1/chart/{chart['id']}/data/"
                    sqls = [
                        q["query"]
                        for q in http.get(url, params={"format": "json", "type": "query"}).json()[
                            "result"
                        ]
                    ]
                    http.get(url, params={"format": "json", "force": "true"})  # warm-up
                    for sql in sqls:
                        con.execute(sql).fetchall()
                    s_times, b_times = [], []
                    for _ in range(REQUESTS):  # A B A B ...
                        t0 = time.perf_counter()
                        resp = http.get(url, params={"format": "json", "force": "true"})
                        s_times.append(time.perf_counter() - t0)
                        assert resp.status_code == 200, resp.text[:300]
                        t0 = time.perf_counter()
                        for sql in sqls:
                            con.execute(sql).fetchall()
                        b_times.append(time.perf_counter() - t0)
                    subject.append(_p95(s_times))
                    baseline.append(_p95(b_times))
            finally:
                con.close()
            with Lake.from_settings().reading() as con:
                (lines,) = con.execute("SELECT count(*) FROM marts.fct_order_lines").fetchone()
            scale_info = {
                "charts": len(charts),
                "requests_per_chart": REQUESTS,
                "order_lines": lines,
            }
            figures.append(
                Figure("bi_chart_p95_vs_duckdb", "s", subject, baseline, "<= 5", scale_info)
            )
            figures.append(
                Figure(
                    "bi_chart_p95_budget",
                    "s",
                    subject,
                    [0.3] * len(subject),
                    "< 1",
                    scale_info | {"goal_s": 0.3},
                )
            )
            if CHROMIUM.exists():
                from playwright.sync_api import sync_playwright

                loads, cold = [], []
                viewport = {"width": 1600, "height": 3200}
                with sync_playwright() as pw:
                    browser = launch(pw)
                    try:
                        for _ in range(LOADS):  # cold: new profile, empty query cache
                            context = browser.new_context(viewport=viewport)
                            page = context.new_page()
                            login(page, server.base_url)
                            _clear_query_cache(home)
                            result = open_dashboard(page, server.base_url, "cockpit", len(charts))
                            cold.append(result["seconds"])
                            context.close()
                        page = browser.new_page(viewport=viewport)
                        login(page, server.base_url)
                        open_dashboard(page, server.base_url, "cockpit", len(charts))  # warm-up
                        for _ in range(LOADS):
                            loads.append(
                                open_dashboard(page, server.base_url, "cockpit", len(charts))[
                                    "seconds"
                                ]
                            )
                    finally:
                        browser.close()
                info = scale_info | {"goal_s": 3.0, "cores": os.cpu_count()}
                figures.append(
                    Figure("bi_cockpit_load", "s", loads, [3.0] * len(loads), "< 1", info)
                )
                figures.append(
                    Figure("bi_cockpit_load_cold", "s", cold, [3.0] * len(cold), "< 1", info)
                )
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        shutil.rmtree(work, ignore_errors=True)
    return figures


def main() -> None:
    import argparse

    from warehouse.extensions import ensure_extensions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int)
    args = parser.parse_args()
    ext = Path(tempfile.mkdtemp(prefix="bench-ext-"))
    ensure_extensions(ext)
    for fig in run(args.scale, ext):
        record(fig)  # benchmarks/results/<figure>.json
        print(
            f"{fig.name:28} subject {statistics.median(fig.subject) * 1000:8.1f} ms  "
            f"baseline {statistics.median(fig.baseline) * 1000:8.1f} ms  ratio {fig.ratio:6.2f}  "
            f"goal {fig.goal:6} {'met' if fig.met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
