# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""The shared HTTP layer under faults: 500s, timeouts, 429s and TOP bans are retried;
spent retries fail clearly and leave the cursor where it was; a SIGKILL mid-stream loses
and doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import datetime

import httpx
import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, SESSION, DemoServer
from ingest.http import ApiClient, RetryPolicy, redact
from ingest.sources.tmall import TmallTradesStream
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    REPO,
    Demo,
    api,
    cursor,
    demo,
    expected,
    order_counts,
    server,
    versions_before,
)
from warehouse.lake import Lake
from warehouse.settings import Settings


def tmall(url: str, **kw: object) -> TmallTradesStream:
    return TmallTradesStream(api(url + "/tmall/router/rest", **kw), APP_KEY, APP_SECRET, SESSION)


def test_500s_timeouts_429s_and_top_bans_are_retried_then_everything_lands(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    waits: list[float] = []
    s = tmall(server.url, timeout=0.3)
    s.make_client = lambda: ApiClient(  # type: ignore[method-assign]
        "tmall", timeout=0.3, policy=RetryPolicy(attempts=8, base=0.01), sleep=waits.append
    )
    s.fetch_processes = 0  # threads: the waits are recorded in this process, not a reader's
    state = server.state
    state.inject("500", count=2, prefix="/tmall")
    state.inject("timeout", count=2, prefix="/tmall", seconds=0.6)
    state.inject("429", count=1, prefix="/tmall", seconds=1.5)
    state.inject("ban", count=1, prefix="/tmall", seconds=2)
    s.api = replace(s.api, until=lambda: datetime(2025, 2, 1, tzinfo=CST))  # 92 windows
    run_stream(lake, s)
    rel = "marketplaces/tmall/trades.jsonl"
    wanted = versions_before(demo, rel, "modified", "2025-01-31 23:55:00")
    assert order_counts(lake, "tmall_trades")["rows"] == wanted > 0
    assert not state.faults  # every fault was played
    assert 1.5 in waits and 2.0 in waits  # Retry-After and "ban will last 2 seconds" honoured


def test_spent_retries_fail_naming_source_url_and_error_and_keep_the_cursor(
    lake: Lake, server: DemoServer
) -> None:
    until = datetime(2025, 6, 1, tzinfo=CST)
    run_stream(lake, tmall(server.url, until=lambda: until))
    before = cursor(lake, "tmall_trades")
    assert before == "2025-05-31T15:55:00+00:00"  # 5 minutes of settle before "now"
    server.state.inject("500", count=10_000, prefix="/tmall")
    with pytest.raises(SourceError) as failure:
        run_stream(lake, tmall(server.url))
    message = str(failure.value)
    assert message.startswith(f"tmall: POST {server.url}/tmall/router/rest failed after 4 attempts")
    assert message.endswith("last error: HTTP 500")
    assert cursor(lake, "tmall_trades") == before


def test_connection_refused_is_retried_then_reported() -> None:
    with (
        socket_free_port() as port,
        ApiClient("demo", timeout=0.2, policy=RetryPolicy(attempts=2, base=0.01)) as client,
        pytest.raises(SourceError, match=r"demo: GET .*token=\*\*\*.*ConnectError"),
    ):
        client.send(lambda: {"method": "GET", "url": f"http://127.0.0.1:{port}/x?token=abc"})


def test_redact_hides_tokens_and_signatures() -> None:
    url = redact(httpx.URL("http://h/p?access_token=abc&page=2&sign=ff"))
    assert "abc" not in url and "ff" not in url and "page=2" in url


class socket_free_port:
    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass


CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta
    from ingest.core import run_stream
    from ingest.sources.api import ApiConfig, CST, fixed
    from ingest.sources.tmall import TmallTradesStream
    from warehouse.lake import Lake
    from warehouse.settings import Settings

    api = ApiConfig(fixed(sys.argv[1]), datetime(2024, 11, 1, tzinfo=CST))
    stream = TmallTradesStream(api, *sys.argv[2:5])
    stream.span = timedelta(days=30)
    run_stream(Lake.from_settings(Settings()), stream)
    """
)


def test_sigkill_mid_stream_then_the_next_run_loses_and_doubles_nothing(
    lake: Lake, settings: Settings, demo: Demo, server: DemoServer
) -> None:
    # ~7 s for the whole history with 4 windows in flight: time to see a batch land and kill
    server.state.delay["/tmall"] = 0.02
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            server.url + "/tmall/router/rest",
            APP_KEY,
            APP_SECRET,
            SESSION,
        ],
        cwd=REPO,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 60
        while cursor(lake, "tmall_trades") is None or server.state.requests["tmall"] < 200:
            assert child.poll() is None, "the ingest process ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    landed_before = order_counts(lake, "tmall_trades")["rows"]
    assert 0 < landed_before < demo.truth["api_sources"]["tmall"]["records_written"]
    server.state.delay.clear()
    run_stream(lake, tmall(server.url))  # resumes from the landed cursor
    assert order_counts(lake, "tmall_trades") == expected(demo.truth, "tmall")
