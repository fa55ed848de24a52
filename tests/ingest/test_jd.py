# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""JD (JOS) against the fake server: official signature vector, truth, apiResult failures."""

from __future__ import annotations

from datetime import datetime

import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, SESSION, DemoServer
from ingest.sources.jd import JdOrdersStream
from ingest.sources.signing import jd_sign
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
    server,
)
from warehouse.lake import Lake


def stream(url: str, token: str = SESSION) -> JdOrdersStream:
    return JdOrdersStream(api(url + "/jd/routerjson"), APP_KEY, APP_SECRET, token)


def test_the_official_jd_signature_vector() -> None:
    params = {
        "360buy_param_json": '{"end_date":null,"optional_fields":null,'
        '"order_state":"WAIT_SELLER_STOCK_OUT","page":"1","page_size":"200",'
        '"start_date":null}',
        "access_token": "yourtoken",
        "app_key": "yourappkey",
        "method": "jingdong.pop.order.search",
        "timestamp": "2021-05-07 09:20:39.683+0800",
        "v": "2.0",
    }
    assert jd_sign(params, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_lands_the_truth_quarantines_bad_orders_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.add_records(
        "jd",
        datetime(2025, 8, 8, 8, tzinfo=CST),
        [
            {"orderState": "FINISHED_L", "modified": "2025-08-08 08:00:00"},
            {"orderId": "319999999999", "modified": "0001-01-01 00:00:00x"},
        ],
    )
    server.state.inject("busy", count=2, prefix="/jd")  # HTTP 200 apiResult failures
    s = stream(server.url)
    result = run_stream(lake, s)
    assert result.rows_quarantined == 2
    assert order_counts(lake, "jd_orders") == expected(demo.truth, "jd")
    assert_final_statuses_match_the_sample(lake, "jd_orders", demo.truth, "jd")
    with lake.reading() as con:
        reasons = sorted(r[0] for r in con.sql("SELECT reason FROM raw._quarantine").fetchall())
    assert reasons[0] == "missing orderId" and reasons[1].startswith("modified: ")
    replay_three_times(lake, s)
    assert order_counts(lake, "jd_orders") == expected(demo.truth, "jd")


def test_an_invalid_token_stops_the_run_with_jds_message(lake: Lake, server: DemoServer) -> None:
    with pytest.raises(SourceError, match="jd: error 19 token已过期"):
        run_stream(lake, stream(server.url, token="stale"))
    assert cursor(lake, "jd_orders") is None
