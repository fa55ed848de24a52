"""`make bench`: run every benchmark (or --only NAME) and print one table of ratios."""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import ingest_pos
from benchmarks.harness import record
from warehouse.extensions import ensure_extensions

BENCHMARKS = {"ingest_pos": ingest_pos.run}


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run one benchmark")
    parser.add_argument("--scale", type=int, help="data size (order lines)")
    args = parser.parse_args()
    ext = Path(tempfile.mkdtemp(prefix="bench-ext-"))
    ensure_extensions(ext)
    table = Table(
        "figure", "subject (median)", "baseline (median)", "ratio (min–max)", "goal", "met?"
    )
    for name, bench in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        fig = bench(args.scale, ext)
        doc = record(fig)
        table.add_row(
            fig.name,
            f"{statistics.median(fig.subject):,.2f} {fig.unit}",
            f"{statistics.median(fig.baseline):,.2f} {fig.unit}",
            f"{doc['ratio_median']:.2f} ({doc['ratio_min']:.2f}–{doc['ratio_max']:.2f})",
            fig.goal,
            "yes" if fig.met else "NO",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
