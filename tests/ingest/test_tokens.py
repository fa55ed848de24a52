# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""Marketplace tokens that expire mid-run: the connectors renew them and carry on.

The fake servers refuse a token after ``calls_per_token`` calls with each platform's own
answer (TOP error 27, JD error 19 "Invalid access_token", Douyin 30002); the connectors
trade their refresh token (TOP ``taobao.top.auth.token.refresh``, JD open-oauth
``/oauth2/refresh_token``, Douyin ``token.refresh``) and repeat the call.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, DOUYIN_SHOP_ID, REFRESH, SESSION, DemoServer
from ingest.sources.douyin import DouyinOrdersStream
from ingest.sources.jd import JdOrdersStream
from ingest.sources.tmall import TmallTradesStream
from ingest.tokens import Tokens, TokenStore
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
from warehouse.settings import Settings

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


@pytest.mark.parametrize("platform", ["tmall", "jd"])
def test_a_renewed_token_is_kept_0600_and_the_next_run_starts_from_it(
    platform: str, tmp_path: Path, lake: Lake, settings: Settings, server: DemoServer
) -> None:
    store = TokenStore.under(tmp_path / "state", TABLES[platform], REFRESH)
    server.state.calls_per_token = 40
    first = STREAMS[platform](server.url, REFRESH)
    first.tokens = store  # type: ignore[attr-defined]
    run_stream(lake, first)
    saved = store.load()
    assert saved is not None and saved.access in server.state.tokens
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    # the next run (into another lake, so it reads everything again): no expiry now, and
    # every call is counted against the token it carries
    server.state.calls_per_token = 10**9
    server.state.token_calls.clear()
    renewals = len(server.state.tokens)
    home = tmp_path / "other"
    other = Lake(home / "catalog.sqlite", home / "data", settings.extension_dir)
    other.init()
    second = STREAMS[platform](server.url, REFRESH)
    second.tokens = store  # type: ignore[attr-defined]
    run_stream(other, second)
    assert server.state.token_calls[saved.access] > 0
    assert server.state.token_calls[SESSION] == 0  # not the configured, stale session
    assert len(server.state.tokens) == renewals  # and no renewal was needed


def test_kept_tokens_of_another_authorization_are_ignored(tmp_path: Path) -> None:
    TokenStore.under(tmp_path, "tmall_trades", "old-refresh").save(Tokens("a1", "r1"))
    assert TokenStore.under(tmp_path, "tmall_trades", "old-refresh").load() == Tokens("a1", "r1")
    assert TokenStore.under(tmp_path, "tmall_trades", "new-refresh").load() is None
