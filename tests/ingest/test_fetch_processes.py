# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Windows read by forked processes (``fetch_processes``) land exactly what threads land:
the same batches, ids, rows, quarantine and cursor; a token refused in a reader is renewed
once, by the run's own process, and the window read again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from ingest.demo.servers import APP_KEY, APP_SECRET, REFRESH, SESSION, DemoServer
from ingest.http import ApiClient
from ingest.sources.api import _handoff_root
from ingest.sources.jd import JdOrdersStream
from ingest.sources.tmall import TmallTradesStream
from ingest.tokens import TokenStore
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    REPO,
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
    left_before = handoff_folders()
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
    # the readers' Arrow files were mapped, then removed with their folder
    assert handoff_folders() == left_before


def handoff_folders() -> set[str]:
    root = Path(_handoff_root() or tempfile.gettempdir())
    return {p.name for p in root.glob("opslake-windows-*")}


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


def test_jd_shares_its_renewed_token_across_readers_too(
    tmp_path: Path, lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.calls_per_token = 40
    s = JdOrdersStream(
        api(server.url + "/jd/routerjson"),
        APP_KEY,
        APP_SECRET,
        SESSION,
        refresh_token=REFRESH,
        tokens=TokenStore.under(tmp_path, "jd_orders", REFRESH),
    )
    s.fetch_processes = 2
    run_recording(lake, s)
    assert order_counts(lake, "jd_orders") == expected(demo.truth, "jd")
    calls = server.state.requests["jd"]
    assert calls > 40  # the demo's orders need more than one token
    # one renewal per expiry, not one per reader that met it
    assert calls // 45 <= len(server.state.tokens) <= calls // 40 + 1, (
        calls,
        len(server.state.tokens),
    )
    # the run took back what its readers renewed, and the next run starts from it
    kept = s.tokens.load() if s.tokens else None
    assert kept is not None and kept.access == s.access_token and kept.access != SESSION


READERS_CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pathlib import Path
    from ingest.core import run_stream
    from ingest.sources.api import ApiConfig, CST, fixed
    from tests.ingest.test_fetch_processes import PidTmall
    from warehouse.lake import Lake
    from warehouse.settings import Settings

    api = ApiConfig(fixed(sys.argv[1]), datetime(2024, 11, 1, tzinfo=CST))
    stream = PidTmall(api, *sys.argv[2:5], pids=Path(sys.argv[5]))
    stream.fetch_processes = 2
    run_stream(Lake.from_settings(Settings()), stream)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_readers_of_a_killed_run_stop_reading(
    tmp_path: Path, lake: Lake, server: DemoServer
) -> None:
    server.state.delay["/tmall"] = 0.02  # a run long enough to be killed while it reads
    pids = tmp_path / "pids"
    pids.mkdir()
    run = subprocess.Popen(
        [sys.executable, "-c", READERS_CHILD, server.url + "/tmall/router/rest"]
        + [APP_KEY, APP_SECRET, SESSION, str(pids)],
        cwd=REPO,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 60
        while len(readers(pids) - {run.pid}) < 2:
            assert run.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
    forked = readers(pids) - {run.pid}
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in forked):
        assert time.monotonic() < deadline, "readers kept running after their run was killed"
        time.sleep(0.1)
    served = server.state.requests["tmall"]
    time.sleep(1)
    assert server.state.requests["tmall"] == served  # nobody reads for the dead run
    # the dead run's hand-off folder is swept by the next run that forks readers
    root = Path(_handoff_root() or tempfile.gettempdir())
    assert list(root.glob(f"opslake-windows-{run.pid}-*"))
    pids_next = tmp_path / "pids-next"
    pids_next.mkdir()
    server.state.delay.clear()
    run_recording(lake, tmall(server.url, 2, pids_next))
    assert not list(root.glob(f"opslake-windows-{run.pid}-*"))
