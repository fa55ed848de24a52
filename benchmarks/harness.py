"""The benchmark harness: subject and baseline alternate, A B A B …, in the same run.

Every figure is the median of the pair-by-pair ratios subject/baseline (this machine is
noisy, so an absolute time means little), printed next to both medians with the
min and max ratio, and written to ``benchmarks/results/<figure>.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    name: str
    unit: str  # what subject/baseline measure, e.g. "s" or "rows/s"
    subject: list[float]
    baseline: list[float]
    goal: str  # e.g. ">= 0.5" on the ratio
    scale: dict[str, object] = field(default_factory=dict)
    higher_is_better: bool = False
    # what else a run measured (e.g. CPU a row of each process), for reading the figure
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def ratios(self) -> list[float]:
        return [s / b for s, b in zip(self.subject, self.baseline, strict=True) if b]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def met(self) -> bool:
        op, value = self.goal.split()
        return {
            ">=": self.ratio >= float(value),
            "<=": self.ratio <= float(value),
            "<": self.ratio < float(value),
            ">": self.ratio > float(value),
        }[op]


def alternate(
    subject: Callable[[], float | None],
    baseline: Callable[[], float | None],
    repeats: int = 5,
    warmup: int = 1,
) -> tuple[list[float], list[float]]:
    """Run subject and baseline alternately; each returns its measure or None for its time."""

    def measure(fn: Callable[[], float | None]) -> float:
        start = time.perf_counter()
        value = fn()
        return value if value is not None else time.perf_counter() - start

    for _ in range(warmup):
        measure(subject)
        measure(baseline)
    subj: list[float] = []
    base: list[float] = []
    for _ in range(repeats):
        subj.append(measure(subject))
        base.append(measure(baseline))
    return subj, base


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("duckdb", "dbt-core", "dagster", "apache-superset"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not in this venv"
    return out


def record(fig: Figure) -> dict[str, object]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = asdict(fig) | {
        "subject_median": statistics.median(fig.subject),
        "baseline_median": statistics.median(fig.baseline),
        "ratio_median": fig.ratio,
        "ratio_min": min(fig.ratios),
        "ratio_max": max(fig.ratios),
        "met": fig.met,
        "cores": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
        "versions": versions(),
    }
    (RESULTS / f"{fig.name}.json").write_text(json.dumps(doc, indent=2))
    return doc
