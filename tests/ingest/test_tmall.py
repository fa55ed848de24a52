# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Tmall (TOP) against the fake server: truth, replays, quarantine, signatures."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, SESSION, DemoServer
from ingest.sources.signing import top_sign
from ingest.sources.tmall import TmallTradesStream
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    Demo,
    api,
    assert_final_statuses_match_the_sample,
    cursor,
    demo,
    expected,
    order_counts,
    replay_three_times,
    run_recording,
    server,
)
from warehouse.lake import Lake


def stream(url: str, secret: str = APP_SECRET, **kw: object) -> TmallTradesStream:
    return TmallTradesStream(api(url + "/tmall/router/rest", **kw), APP_KEY, secret, SESSION)


def test_top_md5_and_hmac_signatures_match_a_hand_computed_vector() -> None:
    params = {
        "method": "taobao.trades.sold.increment.get",
        "app_key": "k",
        "v": "2.0",
        "empty": "",
        "timestamp": "2026-01-02 03:04:05",
        "sign": "ignored",
    }
    concat = "app_keykmethodtaobao.trades.sold.increment.gettimestamp2026-01-02 03:04:05v2.0"
    assert top_sign(params, "s") == hashlib.md5(f"s{concat}s".encode()).hexdigest().upper()
    import hmac

    assert (
        top_sign(params, "s", "hmac") == hmac.new(b"s", concat.encode(), "md5").hexdigest().upper()
    )


def test_lands_every_version_of_the_truth_quarantines_bad_trades_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.add_records(
        "tmall",
        datetime(2025, 3, 3, 10, 30, tzinfo=CST),
        [
            {"status": "TRADE_FINISHED", "modified": "2025-03-03 10:30:00"},
            {"tid": 3200000000009999991, "tid_str": "3200000000009999991", "modified": "03/03/25"},
        ],
    )
    s = stream(server.url)
    result, batches = run_recording(lake, s)
    assert result.rows_quarantined == 2
    assert order_counts(lake, "tmall_trades") == expected(demo.truth, "tmall")
    assert_final_statuses_match_the_sample(lake, "tmall_trades", demo.truth, "tmall")
    assert server.state.requests["tmall"] >= 730  # one 1-day window per request at least
    with lake.reading() as con:
        reasons = sorted(r[0] for r in con.sql("SELECT reason FROM raw._quarantine").fetchall())
        tid, payload_tid = con.sql(
            "SELECT order_id, json_extract(payload, '$.tid')::VARCHAR FROM raw.tmall_trades "
            "WHERE length(order_id) > 16 LIMIT 1"
        ).fetchone()
    assert reasons[0] == "missing tid_str"
    assert reasons[1].startswith("modified: '03/03/25' is not")
    assert tid == payload_tid and int(tid) > 2**53  # exact, not a rounded float
    replay_three_times(lake, s, batches)  # the cursor-reset re-run is tested on JD and Douyin
    assert order_counts(lake, "tmall_trades") == expected(demo.truth, "tmall")


def test_a_wrong_secret_fails_clearly_and_lands_nothing(lake: Lake, server: DemoServer) -> None:
    with pytest.raises(SourceError, match="tmall: TOP error 25 Invalid signature"):
        run_stream(lake, stream(server.url, secret="wrong"))
    assert cursor(lake, "tmall_trades") is None
