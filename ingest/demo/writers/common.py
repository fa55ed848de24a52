"""Small shared pieces of the writers: money formatting, a manifest of written files,
CSV files that count their rows, and the modified-time-ordered JSONL of API versions."""

from __future__ import annotations

import csv
import heapq
import json
from pathlib import Path

from .. import calendar as cal
from ..orders import Order


def yuan(fen: int) -> str:
    """Fen as a decimal string with two places: 12990 -> '129.90', -5 -> '-0.05'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def to_yuan(fen: int) -> float:
    return round(fen / 100, 2)


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Manifest:
    """Every file written: path relative to the output folder -> format, encoding, records."""

    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, dict] = {}

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add(self, rel: str, fmt: str, encoding: str, records: int, **extra) -> None:
        self.files[rel] = {"format": fmt, "encoding": encoding, "records": records, **extra}


class CsvOut:
    """A CSV file with a header; counts the data rows it writes."""

    def __init__(self, manifest: Manifest, rel: str, header: list[str], encoding: str = "utf-8"):
        self.manifest = manifest
        self.rel = rel
        self.encoding = encoding
        self.f = open(manifest.path(rel), "w", encoding=encoding, newline="")  # noqa: SIM115
        self.w = csv.writer(self.f, lineterminator="\n")
        self.w.writerow(header)
        self.rows = 0

    def row(self, values) -> None:
        self.w.writerow(values)
        self.rows += 1

    def close(self) -> None:
        self.f.close()
        self.manifest.add(self.rel, "csv", self.encoding, self.rows)


def write_csv(manifest: Manifest, rel: str, header: list[str], rows, encoding: str = "utf-8"):
    out = CsvOut(manifest, rel, header, encoding)
    for r in rows:
        out.row(r)
    out.close()
    return out.rows


def phases(o: Order) -> list[tuple[int, str]]:
    """The versions of an order an API would return over time, cut at the window's end:
    (modified time, phase) with phase in unpaid, closed, paid, shipped, finished, refunded."""
    if o.closed is not None:
        out = [(o.created, "unpaid"), (o.closed, "closed")]
    else:
        assert o.paid is not None
        out = [(o.paid, "paid")]
        if o.shipped is not None:
            out.append((o.shipped, "shipped"))
        if o.refunded is not None:
            out.append((o.refunded, "refunded"))
        elif o.finished is not None:
            out.append((o.finished, "finished"))
    return [v for v in out if v[0] <= cal.END_TS]


class VersionsJsonl:
    """One JSON object per line, each a version of an order at its modified time. Lines come
    out in modified-time order (ties in creation order): versions wait in a heap until the
    day they belong to is flushed, so the file streams without holding the history."""

    def __init__(self, manifest: Manifest, rel: str):
        self.manifest = manifest
        self.rel = rel
        self.f = open(manifest.path(rel), "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.heap: list[tuple[int, int, str]] = []
        self.seq = 0
        self.lines = 0

    def push(self, ts: int, line: str, copies: int = 1) -> None:
        for _ in range(copies):
            self.seq += 1
            heapq.heappush(self.heap, (ts, self.seq, line))

    def flush_before(self, ts: int) -> None:
        heap = self.heap
        out = []
        while heap and heap[0][0] < ts:
            out.append(heapq.heappop(heap)[2])
        if out:
            self.f.write("\n".join(out) + "\n")
            self.lines += len(out)

    def close(self) -> None:
        self.flush_before(cal.END_TS + 1)
        self.f.close()
        self.manifest.add(self.rel, "jsonl", "utf-8", self.lines)
