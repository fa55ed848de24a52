"""The API connectors' shared pieces without a server: windows, batches, prefetch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from ingest.sources.api import (
    CST,
    ApiConfig,
    WindowedStream,
    fixed,
    grid_windows,
    ordered,
    prefetched,
)

ORIGIN = datetime(2024, 11, 1, tzinfo=CST)
DAY = timedelta(days=1)


def test_windows_end_on_the_grid_whatever_the_start() -> None:
    got = list(
        grid_windows(
            ORIGIN + timedelta(hours=5), ORIGIN + 3 * DAY + timedelta(hours=2), DAY, ORIGIN
        )
    )
    assert got == [
        (ORIGIN + timedelta(hours=5), ORIGIN + DAY),
        (ORIGIN + DAY, ORIGIN + 2 * DAY),
        (ORIGIN + 2 * DAY, ORIGIN + 3 * DAY),
        (ORIGIN + 3 * DAY, ORIGIN + 3 * DAY + timedelta(hours=2)),
    ]


class Fake(WindowedStream):
    name, source = "fake_orders", "fake"
    window, span, rows_per_batch = 7 * DAY, 30 * DAY, 1000

    def __init__(self, until: datetime) -> None:
        self.api = ApiConfig(fixed("http://unused"), ORIGIN, until=lambda: until)

    def fetch(self, client, base, start, end) -> Iterator[list[dict]]:  # type: ignore[override]
        yield [{"t": start + timedelta(hours=1)}, {"t": end}]  # `end` belongs to the next window

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        t = rec["t"]
        return t, ("fake", str(t.timestamp()), t, None, "{}")


def test_batches_close_where_windows_cross_a_span_and_replays_rebuild_them() -> None:
    until = ORIGIN + 100 * DAY + timedelta(minutes=5)
    batches = list(Fake(until).read(None, set()))
    ends = [datetime.fromisoformat(b.cursor) for b in batches]
    assert ends == [ORIGIN + 35 * DAY, ORIGIN + 63 * DAY, ORIGIN + 91 * DAY, ORIGIN + 100 * DAY]
    assert sum(b.rows.num_rows for b in batches) == 15  # one row per window, boundary rows once
    resumed = list(Fake(until).read(batches[1].cursor, set()))
    assert [b.batch_id for b in resumed] == [b.batch_id for b in batches[2:]]


def test_prefetch_hands_over_items_then_the_workers_error() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("source broke")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="source broke"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_windows_read_at_once_come_back_in_order_then_the_first_error() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def read(n: int) -> int:
        with lock:
            started.append(n)
        time.sleep(0.02 * (5 - n % 5))  # later windows finish first
        if n == 6:
            raise RuntimeError("window 6 failed")
        return n * 10

    got: list[int] = []
    with pytest.raises(RuntimeError, match="window 6 failed"):
        for result in ordered(read, list(range(20)), workers=3):
            got.append(result)
    assert got == [0, 10, 20, 30, 40, 50]
    assert len(started) < 20  # never more than 2 x workers ahead: the rest was not read
    assert list(ordered(read, [1, 2, 3], workers=1)) == [10, 20, 30]
