# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Marketplace tokens that expire mid-run: the connectors renew them and carry on.

The fake servers refuse a token after ``calls_per_token`` calls with each platform's own
answer (TOP error 27, JD error 19 "Invalid access_token", Douyin 30002); the connectors
trade their refresh token (TOP ``taobao.top.auth.token.refresh``, JD open-oauth
``/oauth2/refresh_token``, Douyin ``token.refresh``) and repeat the call.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, DOUYIN_SHOP_ID, REFRESH, SESSION, DemoServer
from ingest.sources.douyin import DouyinOrdersStream
from ingest.sources.jd import JdOrdersStream
from ingest.sources.tmall import TmallTradesStream
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    Demo,
    api,
    cursor,
    demo,
    expected,
    order_counts,
    server,
)
from warehouse.lake import Lake

STREAMS: dict[str, Callable[[str, str], object]] = {
    "tmall": lambda url, refresh: TmallTradesStream(
        api(url + "/tmall/router/rest"), APP_KEY, APP_SECRET, SESSION, refresh_token=refresh
    ),
    "jd": lambda url, refresh: JdOrdersStream(
        api(url + "/jd/routerjson"), APP_KEY, APP_SECRET, SESSION, refresh_token=refresh
    ),
    "douyin": lambda url, _: DouyinOrdersStream(
        api(url + "/douyin"), APP_KEY, APP_SECRET, DOUYIN_SHOP_ID
    ),
}
TABLES = {"tmall": "tmall_trades", "jd": "jd_orders", "douyin": "douyin_orders"}


@pytest.mark.parametrize("platform", sorted(STREAMS))
def test_tokens_expiring_every_few_calls_are_renewed_and_everything_lands(
    platform: str, lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.calls_per_token = 40
    stream = STREAMS[platform](server.url, REFRESH)
    run_stream(lake, stream)
    assert order_counts(lake, TABLES[platform]) == expected(demo.truth, platform)
    calls = server.state.requests[platform]
    # every 40 calls a new token: the run went through several expiries and renewals
    assert len(server.state.tokens) >= calls // 45 >= 3, (calls, len(server.state.tokens))


@pytest.mark.parametrize("platform", ["tmall", "jd"])
def test_without_a_refresh_token_an_expired_session_stops_the_run_clearly(
    platform: str, lake: Lake, server: DemoServer
) -> None:
    server.state.calls_per_token = 40
    with pytest.raises(SourceError, match=f"{platform}: access refused .*re-authorize"):
        run_stream(lake, STREAMS[platform](server.url, ""))
    assert not server.state.tokens  # nothing was renewed


def test_a_refused_refresh_token_says_so(lake: Lake, server: DemoServer) -> None:
    server.state.calls_per_token = 40
    with pytest.raises(SourceError, match="session could not be renewed .*re-authorize"):
        run_stream(lake, STREAMS["tmall"](server.url, "revoked-refresh-token"))
