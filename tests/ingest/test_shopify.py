# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Shopify orders against the fake server: Link paging, status=any, 429, auth, quarantine."""

from __future__ import annotations

from datetime import datetime

import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import SESSION, DemoServer
from ingest.sources.shopify import ShopifyOrdersStream
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


def stream(url: str, token: str = SESSION, **kw: object) -> ShopifyOrdersStream:
    return ShopifyOrdersStream(api(url + "/shopify/admin/api/2024-10", **kw), token, limit=50)


def test_lands_every_version_through_link_pages_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    s = stream(server.url)
    server.state.inject("429", count=2, prefix="/shopify", seconds=0.05)
    result = run_stream(lake, s)
    assert result.rows_quarantined == 0
    assert order_counts(lake, "shopify_orders") == expected(demo.truth, "shopify")
    assert_final_statuses_match_the_sample(lake, "shopify_orders", demo.truth, "shopify")
    replay_three_times(lake, s)
    assert order_counts(lake, "shopify_orders") == expected(demo.truth, "shopify")


def test_link_pages_are_followed_verbatim(lake: Lake, server: DemoServer) -> None:
    s = ShopifyOrdersStream(
        api(server.url + "/shopify/admin/api/2024-10"), SESSION, limit=2, window=s_window()
    )
    batches = list(s.read(None, set()))
    assert sum(b.rows.num_rows for b in batches) > 0
    # a 2-order limit over 30-day windows needs far more requests than windows
    assert server.state.requests["shopify"] > 2 * 26


def s_window():
    from datetime import timedelta

    return timedelta(days=30)


def test_malformed_orders_go_to_quarantine(lake: Lake, demo: Demo, server: DemoServer) -> None:
    at = datetime(2025, 5, 5, 12, tzinfo=CST)
    server.state.add_records(
        "shopify",
        at,
        [
            {"name": "#9999", "updated_at": "2025-05-05T12:00:00+08:00"},
            {"id": 5600000009999, "updated_at": "yesterday"},
        ],
    )
    result = run_stream(lake, stream(server.url))
    assert result.rows_quarantined == 2
    assert order_counts(lake, "shopify_orders") == expected(demo.truth, "shopify")
    with lake.reading() as con:
        reasons = sorted(r[0] for r in con.sql("SELECT reason FROM raw._quarantine").fetchall())
    assert reasons == ["missing id", "updated_at 'yesterday' is not an ISO 8601 time"]


def test_a_refused_token_fails_at_once_naming_the_cause(lake: Lake, server: DemoServer) -> None:
    with pytest.raises(SourceError, match=r"shopify: access refused \(HTTP 401\)"):
        run_stream(lake, stream(server.url, token="wrong"))
    assert server.state.requests["shopify"] == 1  # not retried
    assert cursor(lake, "shopify_orders") is None
