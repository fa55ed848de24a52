"""Shared helpers of the API connector tests: the demo company (scale 2000, once per
session), a fake server on a free 127.0.0.1 port, replays and counts against the truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.core import Stream, StreamResult, run_stream
from ingest.demo import generate
from ingest.demo.servers import DemoServer
from ingest.http import RetryPolicy
from ingest.sources.api import CST, ApiConfig, fixed, utcnow
from warehouse.lake import Lake
from warehouse.loader import Batch, land

REPO = Path(__file__).resolve().parents[2]
START = datetime(2024, 11, 1, tzinfo=CST)
FAST = RetryPolicy(attempts=4, base=0.01, max_wait=0.05)


@dataclass
class Demo:
    dir: Path
    truth: dict


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("api-demo")
    return Demo(out, generate(out, scale=2000, seed=1))


@pytest.fixture
def server(demo: Demo) -> Iterator[DemoServer]:
    with DemoServer(demo.dir) as srv:
        yield srv


# "now" of every API test run: a run and its replay must not straddle a minute boundary
# (the last batch of a run ends at "now", see decision 0020), or the replay lands it again
NOW = utcnow()


def api(url: str, policy: RetryPolicy = FAST, timeout: float = 5.0, **kw: object) -> ApiConfig:
    kw.setdefault("until", lambda: NOW)
    return ApiConfig(endpoint=fixed(url), start=START, timeout=timeout, policy=policy, **kw)


@dataclass
class FromStart:
    """The stream with its cursor ignored (a full replay from the first window); keeps
    the batches it yields."""

    inner: Stream

    def __post_init__(self) -> None:
        self.batches: list[Batch] = []

    def __getattr__(self, item: str) -> object:
        return getattr(self.inner, item)

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        for batch in self.inner.read(None, landed_parts):
            self.batches.append(batch)
            yield batch


def replay_three_times(lake: Lake, stream: Stream, batches: list[Batch] | None = None) -> None:
    """Re-land every batch three times: nothing may land. Without ``batches`` the stream is
    first re-run from the start with the cursor reset (it must rebuild the same batch ids)
    and its batches are the ones re-landed."""
    if batches is None:
        rerun = FromStart(stream)
        again = run_stream(lake, rerun)  # type: ignore[arg-type]
        assert again.rows_landed == 0 and again.batches_skipped == again.batches > 0
        batches = rerun.batches
    for _ in range(3):
        with lake.writing() as con:
            assert all(land(con, b).skipped for b in batches)


def run_recording(lake: Lake, stream: Stream) -> tuple[StreamResult, list[Batch]]:
    """run_stream from the beginning, keeping the batches it landed (for replays)."""
    recording = FromStart(stream)
    return run_stream(lake, recording), recording.batches  # type: ignore[arg-type]


def versions_before(demo: Demo, rel: str, field: str, until: str) -> int:
    """Lines of a demo API file whose time field (GMT+8 text) is before ``until``."""
    with open(demo.dir / rel, encoding="utf-8") as f:
        return sum(1 for line in f if json.loads(line)[field] < until)


def order_counts(lake: Lake, table: str) -> dict[str, object]:
    with lake.reading() as con:
        rows, orders, versions = con.sql(
            f"SELECT count(*), count(DISTINCT order_id), count(DISTINCT (order_id, modified_at)) "
            f"FROM raw.{table}"
        ).fetchone()
        final = dict(
            con.sql(
                f"SELECT status, count(*) FROM (SELECT order_id, arg_max(status, modified_at) "
                f"AS status FROM raw.{table} GROUP BY order_id) GROUP BY status"
            ).fetchall()
        )
    return {"rows": rows, "orders": orders, "versions": versions, "final": final}


def expected(truth: dict, channel: str) -> dict[str, object]:
    t = truth["api_sources"][channel]
    return {
        "rows": t["records_written"],
        "orders": t["distinct_orders"],
        "versions": t["distinct_versions"],
        "final": t["final_status_counts"],
    }


def cursor(lake: Lake, stream: str) -> str | None:
    with lake.reading() as con:
        try:
            row = con.sql(f"SELECT cursor FROM raw._cursors WHERE stream = '{stream}'").fetchone()
        except duckdb.CatalogException:  # nothing landed yet
            return None
    return row[0] if row else None


def assert_final_statuses_match_the_sample(
    lake: Lake, table: str, truth: dict, channel: str
) -> None:
    """The latest version's status of every sampled order equals the generator's final one."""
    sample = truth["api_sources"][channel]["final_status_sample"]
    with lake.reading() as con:
        got = dict(
            con.sql(
                f"SELECT order_id, arg_max(status, modified_at) FROM raw.{table} GROUP BY order_id"
            ).fetchall()
        )
    assert {k: got.get(k) for k in sample} == sample
