# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Douyin against the fake server: signed calls, token create/refresh, pages from 0."""

from __future__ import annotations

from datetime import datetime

from ingest.core import run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, DOUYIN_SHOP_ID, DemoServer
from ingest.sources.douyin import DouyinOrdersStream
from ingest.sources.signing import douyin_param_json, douyin_sign
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    Demo,
    api,
    assert_final_statuses_match_the_sample,
    demo,
    expected,
    order_counts,
    replay_three_times,
    server,
)
from warehouse.lake import Lake


def test_douyin_signature_is_md5_of_the_documented_string() -> None:
    import hashlib

    pj = douyin_param_json({"size": 10, "page": 0, "b": {"z": 1, "a": "中"}})
    assert pj == '{"b":{"a":"中","z":1},"page":0,"size":10}'
    text = f"sKEYapp_keyKEYmethodorder.searchListparam_json{pj}timestamp1700000000v2sKEY"
    text = text.replace("sKEYapp", "Sapp").replace("v2sKEY", "v2S")
    assert (
        douyin_sign("KEY", "order.searchList", pj, "1700000000", "S")
        == hashlib.md5(text.encode()).hexdigest()
    )


def test_lands_the_truth_refreshes_an_expired_token_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.add_records(
        "douyin",
        datetime(2025, 9, 9, 9, tzinfo=CST),
        [{"order_status": 5, "update_time": 1757379600}, {"order_id": "69299", "update_time": "x"}],
    )
    server.state.inject("token_expired", count=2, prefix="/douyin/order")
    s = DouyinOrdersStream(api(server.url + "/douyin"), APP_KEY, APP_SECRET, DOUYIN_SHOP_ID)
    result = run_stream(lake, s)
    assert result.rows_quarantined == 2
    assert order_counts(lake, "douyin_orders") == expected(demo.truth, "douyin")
    assert_final_statuses_match_the_sample(lake, "douyin_orders", demo.truth, "douyin")
    with lake.reading() as con:
        reasons = sorted(r[0] for r in con.sql("SELECT reason FROM raw._quarantine").fetchall())
        fen = con.sql(
            "SELECT json_extract(payload, '$.order_amount')::BIGINT FROM raw.douyin_orders LIMIT 1"
        ).fetchone()[0]
    assert reasons == ["missing order_id", "update_time 'x' is not a Unix time in seconds"]
    assert isinstance(fen, int)  # integer fen, as the API sent it
    assert not server.state.faults  # both expiries were met with a refresh
    replay_three_times(lake, s)
    assert order_counts(lake, "douyin_orders") == expected(demo.truth, "douyin")
