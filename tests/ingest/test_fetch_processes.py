# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Windows read by forked processes (``fetch_processes``) land exactly what threads land:
the same batches, ids, rows, quarantine and cursor; a token refused in a reader is renewed
once, by the run's own process, and the window read again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from ingest.demo.servers import APP_KEY, APP_SECRET, REFRESH, SESSION, DemoServer
from ingest.http import ApiClient
from ingest.sources.tmall import TmallTradesStream
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    Demo,
    api,
    cursor,
    demo,
    expected,
    order_counts,
    run_recording,
    server,
)
from warehouse.lake import Lake
from warehouse.settings import Settings


@dataclass
class PidTmall(TmallTradesStream):
    """Tmall that notes, in ``pids``, the process that read each window."""

    pids: Path | None = None

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        assert self.pids is not None
        with open(self.pids / f"{os.getpid()}-{start.timestamp():.0f}", "w"):
            pass
        return super().fetch(client, base, start, end)


def tmall(url: str, processes: int, pids: Path, refresh: str = "") -> PidTmall:
    s = PidTmall(
        api(url + "/tmall/router/rest"),
        APP_KEY,
        APP_SECRET,
        SESSION,
        refresh_token=refresh,
        pids=pids,
    )
    s.fetch_processes = processes
    s.rows_per_batch = 300  # several batches
    return s


def readers(pids: Path) -> set[int]:
    return {int(p.name.split("-")[0]) for p in pids.iterdir()}


def test_processes_land_the_same_batches_as_threads(
    tmp_path: Path, settings: Settings, server: DemoServer
) -> None:
    server.state.add_records(  # one trade to quarantine
        "tmall",
        datetime(2025, 3, 3, 10, 30, tzinfo=CST),
        [{"tid": 3200000000009999991, "tid_str": "3200000000009999991", "modified": "03/03/25"}],
    )
    landed = {}
    for processes in (0, 2):
        pids = tmp_path / f"pids-{processes}"
        pids.mkdir()
        home = tmp_path / f"lake-{processes}"
        lake = Lake(home / "catalog.sqlite", home / "data", settings.extension_dir)
        lake.init()
        result, batches = run_recording(lake, tmall(server.url, processes, pids))
        assert result.batches > 2 and result.rows_landed > 0 and result.rows_quarantined == 1
        landed[processes] = (
            [(b.batch_id, b.cursor, b.rows.num_rows, len(b.rejected)) for b in batches],
            pa.concat_tables([b.rows for b in batches]),
            [(r.location, r.reason) for b in batches for r in b.rejected],
            cursor(lake, "tmall_trades"),
        )
        who = readers(pids)
        if processes:  # read elsewhere, by more than one reader
            assert os.getpid() not in who and len(who) == processes
        else:
            assert who == {os.getpid()}
    assert landed[0][0] == landed[2][0]
    assert landed[0][1].equals(landed[2][1])
    assert landed[0][2:] == landed[2][2:]


def test_a_token_refused_in_a_reader_is_renewed_here_and_everything_lands(
    tmp_path: Path, lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.calls_per_token = 40
    pids = tmp_path / "pids"
    pids.mkdir()
    s = tmall(server.url, 2, pids, refresh=REFRESH)
    run_recording(lake, s)
    assert order_counts(lake, "tmall_trades") == expected(demo.truth, "tmall")
    assert os.getpid() not in readers(pids)
    calls = server.state.requests["tmall"]
    # one renewal per expiry, not one per reader that met it
    assert calls // 45 <= len(server.state.tokens) <= calls // 40 + 1, (
        calls,
        len(server.state.tokens),
    )
