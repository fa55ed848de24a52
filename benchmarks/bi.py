"""BI figures: cockpit chart queries through Superset, cockpit load in Chromium, metric compile.

* ``bi_chart_p95_vs_duckdb``: p95 of each cockpit chart's chart-data request (``force=true``,
  so Superset runs the query) against p95 of the same SQL (from ``result_type=query``) on a
  pooled DuckDB connection to the same lake. Informational ratio.
* ``bi_chart_p95_budget``: the same chart p95s against the 300 ms goal (ratio < 1 = met).
* ``bi_cockpit_load``: Chromium navigation → every cockpit chart drawn, against 3 s (absolute).
* ``bi_metric_compile_vs_run``: compiling "revenue by month and channel" (uncached) against
  running the compiled SQL; ``bi_metric_compile_budget``: compile time against 2 ms.

The lake: ``OPSLAKE_BENCH_BI_HOME`` (a home with a built lake, copied, never written), or a
demo company built through the real pipeline at ``scale`` (default 2000 orders; adds the build
time). Superset runs from .venv-superset on a free port and is stopped afterwards.

    .venv/bin/python -m benchmarks.bi [--scale N]
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


def _lake_home(scale: int | None, ext_dir: Path, work: Path) -> Path:
    home = work / "home"
    source = os.environ.get("OPSLAKE_BENCH_BI_HOME")
    if source:
        shutil.copytree(source, home, ignore=shutil.ignore_patterns("superset", "run"))
        return home
    from rich.console import Console

    from apps.ops.core.db import migrate
    from ingest.demo import generate
    from orchestration.run import run_job
    from warehouse.settings import Settings

    os.environ.update(
        OPSLAKE_HOME=str(home),
        OPSLAKE_EXTENSION_DIR=str(ext_dir),
        DAGSTER_HOME=str(home / "dagster"),
    )
    settings = Settings()
    generate(settings.demo_dir, scale=scale or 2000, seed=11)
    migrate(settings.app_db)
    if not run_job("build_all", Console(stderr=True)):
        raise RuntimeError("the demo pipeline failed")
    return home


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
    from tests.bi.conftest import running_superset
    from tests.browser.test_dashboards import CHROMIUM, launch, login, open_dashboard
    from warehouse.lake import Lake

    work = Path(tempfile.mkdtemp(prefix="bench-bi-"))
    saved_env = dict(os.environ)
    figures: list[Figure] = []
    try:
        home = _lake_home(scale, ext_dir, work)
        os.environ.update(OPSLAKE_HOME=str(home), OPSLAKE_EXTENSION_DIR=str(ext_dir))
        figures += _metric_figures()
        extra = {"OPSLAKE_EXTENSION_DIR": str(ext_dir)}
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
            scale_info = {"charts": len(charts), "requests_per_chart": REQUESTS}
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

                loads = []
                with sync_playwright() as pw:
                    browser = launch(pw)
                    try:
                        page = browser.new_page(viewport={"width": 1600, "height": 3200})
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
                figures.append(
                    Figure(
                        "bi_cockpit_load",
                        "s",
                        loads,
                        [3.0] * len(loads),
                        "< 1",
                        {"charts": len(charts), "goal_s": 3.0, "cores": os.cpu_count()},
                    )
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
