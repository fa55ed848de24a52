"""Page-numbered marketplace APIs: an order modified while its window is paged hides no other.

TOP, JD and Douyin sort a window by modified time, newest first. When the newest order is
modified again between two page requests it leaves the window, and every older order moves
up one place; paging forward from page 1 misses the one that slides onto the page already
read. The connectors page from the last page back (decision 0021).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ingest.core import run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, DOUYIN_SHOP_ID, SESSION, DemoServer
from ingest.sources.douyin import DouyinOrdersStream
from ingest.sources.jd import JdOrdersStream
from ingest.sources.tmall import TmallTradesStream
from tests.ingest.apikit import CST, api
from warehouse.lake import Lake

DAY = datetime(2024, 11, 2, tzinfo=CST)
UNTIL = datetime(2024, 11, 3, 0, 10, tzinfo=CST)
LATER = datetime(2024, 11, 5, 9, tzinfo=CST)  # the new modified time, past this run
N = 250  # three pages of 100


def _cst(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _trade(i: int, t: datetime) -> dict:
    tid = 4_100_000_000_000_000_000 + i
    return {"tid": tid, "tid_str": str(tid), "modified": _cst(t)}


# platform -> (demo file, record i at time t, re-stamped record, stream for a server URL)
PLATFORMS: dict[str, tuple[str, Callable, Callable, Callable]] = {
    "tmall": (
        "marketplaces/tmall/trades.jsonl",
        _trade,
        lambda rec: rec | {"status": "TRADE_CLOSED", "modified": _cst(LATER)},
        lambda url: TmallTradesStream(
            api(url + "/tmall/router/rest", until=lambda: UNTIL), APP_KEY, APP_SECRET, SESSION
        ),
    ),
    "jd": (
        "marketplaces/jd/orders.jsonl",
        lambda i, t: {
            "orderId": str(3_000_000 + i),
            "orderState": "FINISHED_L",
            "modified": _cst(t),
        },
        lambda rec: rec | {"orderState": "TRADE_CANCELED", "modified": _cst(LATER)},
        lambda url: JdOrdersStream(
            api(url + "/jd/routerjson", until=lambda: UNTIL), APP_KEY, APP_SECRET, SESSION
        ),
    ),
    "douyin": (
        "marketplaces/douyin/orders.jsonl",
        lambda i, t: {
            "order_id": str(6_900_000 + i),
            "order_status": 3,
            "update_time": int(t.timestamp()),
        },
        lambda rec: rec | {"order_status": 4, "update_time": int(LATER.timestamp())},
        lambda url: DouyinOrdersStream(
            api(url + "/douyin", until=lambda: UNTIL), APP_KEY, APP_SECRET, DOUYIN_SHOP_ID
        ),
    ),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_an_order_modified_while_its_window_is_paged_hides_no_other(
    platform: str, lake: Lake, tmp_path: Path
) -> None:
    rel, record, restamp, make_stream = PLATFORMS[platform]
    records = [record(i, DAY + timedelta(minutes=3 * i + 1)) for i in range(N)]
    path = tmp_path / "demo" / rel
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    newest = restamp(records[-1])
    with DemoServer(tmp_path / "demo") as srv:
        pages: list[str] = []

        def modify_the_newest_after_the_first_page(request_path: str) -> None:
            if "token" in request_path:
                return
            pages.append(request_path)
            if len(pages) == 3:  # a probe, one page read, then the shop changes an order
                srv.state.move(platform, N - 1, LATER.timestamp(), orjson.dumps(newest))

        srv.state.hooks.append(modify_the_newest_after_the_first_page)
        run_stream(lake, make_stream(srv.url))
    assert len(pages) > 3
    table = make_stream("http://unused").name
    with lake.reading() as con:
        counts = dict(con.sql(f"SELECT order_id, count(*) FROM raw.{table} GROUP BY 1").fetchall())
    ids = [str(r.get("tid_str") or r.get("orderId") or r.get("order_id")) for r in records]
    missed = set(ids[:-1]) - set(counts)
    assert not missed, f"{platform}: orders never landed: {sorted(missed)}"
    assert set(counts.values()) == {1}  # an order read twice (moved up a page) lands once
