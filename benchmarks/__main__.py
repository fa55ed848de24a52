"""`make bench`: run every benchmark (or --only NAME) and print one table of ratios."""

from __future__ import annotations

import argparse
import importlib
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.harness import Figure, record
from warehouse.extensions import ensure_extensions

# name -> module with run(scale, ext_dir) -> Figure | list[Figure]
BENCHMARKS = {
    "ingest_pos": "benchmarks.ingest_pos",
    "ingest_api": "benchmarks.ingest_api",
    "build": "benchmarks.build",
    "api_ops": "benchmarks.api_ops",
    "bi": "benchmarks.bi",
}
# BENCH_SCALE is a number of order lines; benchmarks of other things keep their own scale
SCALED_BY_ORDER_LINES = {"ingest_pos", "ingest_api", "build", "bi"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run one benchmark")
    parser.add_argument("--scale", type=int, help="data size (order lines)")
    args = parser.parse_args()
    ext = Path(tempfile.mkdtemp(prefix="bench-ext-"))
    ensure_extensions(ext)
    console = Console()
    table = Table(
        "figure", "subject (median)", "baseline (median)", "ratio (min–max)", "goal", "met?"
    )
    for name, module in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        console.print(f"[bold]{name}[/bold]…")
        scale = args.scale if name in SCALED_BY_ORDER_LINES else None
        result = importlib.import_module(module).run(scale, ext)
        for fig in result if isinstance(result, list) else [result]:
            _add(table, fig)
    console.print(table)


def _add(table: Table, fig: Figure) -> None:
    doc = record(fig)
    table.add_row(
        fig.name,
        f"{statistics.median(fig.subject):,.3f} {fig.unit}",
        f"{statistics.median(fig.baseline):,.3f} {fig.unit}",
        f"{doc['ratio_median']:.2f} ({doc['ratio_min']:.2f}–{doc['ratio_max']:.2f})",
        fig.goal,
        "yes" if fig.met else "NO",
    )


if __name__ == "__main__":
    main()
