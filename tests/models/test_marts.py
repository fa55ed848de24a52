"""The marts on a small demo company landed by the real connectors (`opslake ingest`):
all dbt tests pass, dedup and late updates match the generator's truth, order revenue ties
to GL revenue, and an incremental build equals a full refresh."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.models.dbt_helpers import dbt
from warehouse.lake import Lake
from warehouse.settings import Settings

NEEDED_RAW = {
    "tmall_trades",
    "jd_orders",
    "douyin_orders",
    "shopify_orders",
    "pos_sales_lines",
    "manual_orders",
    "catalog_channel_sku_map",
    "finance_gl_vouchers",
    "inventory_stock_snapshots",
}
STATUS_COLUMN = {
    "tmall": "native_status",
    "jd": "native_status",
    "douyin": "native_status",
    "shopify": "native_status",
}


class Built:
    def __init__(self, settings: Settings, truth: dict[str, Any], ext: Path) -> None:
        self.settings, self.truth, self.ext = settings, truth, ext
        self.lake = Lake.from_settings(settings)

    def dbt(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return dbt(
            args, self.lake.catalog_path, self.ext, self.settings.home / "dbt-target", check=check
        )

    def rows(self, sql: str) -> list[tuple]:
        with self.lake.reading() as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, extension_dir: Path, demo_lake) -> Built:
    """A private copy of the session's demo lake (built by Dagster through every connector),
    so this module may add raw versions without touching what other tests read."""
    from warehouse.backup import backup, restore

    home = tmp_path_factory.mktemp("marts-home")
    copy = backup(demo_lake.lake, tmp_path_factory.mktemp("marts-backup") / "lake")
    settings = Settings(home=home, extension_dir=extension_dir)
    restore(Lake.from_settings(settings), copy)
    b = Built(settings, demo_lake.truth, extension_dir)
    tables = {
        r[0]
        for r in b.rows(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        )
    }
    assert tables >= NEEDED_RAW, f"raw tables missing after the demo build: {NEEDED_RAW - tables}"
    return b


def test_distinct_orders_per_channel_equal_truth(built: Built) -> None:
    got = dict(built.rows("select channel, count(*) from marts.fct_orders group by 1"))
    want = built.truth["orders"]["distinct_orders_by_channel"]
    assert got == want


def test_final_status_of_updated_orders_equals_truth(built: Built) -> None:
    for channel, facts in built.truth["api_sources"].items():
        sample = facts["final_status_sample"]
        got = dict(
            built.rows(
                f"select order_id, native_status from marts.fct_orders where channel = '{channel}'"
            )
        )
        wrong = {k: (v, got.get(k)) for k, v in sample.items() if got.get(k) != v}
        assert not wrong, (
            f"{channel}: {len(wrong)} sampled orders differ, e.g. {list(wrong.items())[:3]}"
        )


def test_revenue_by_channel_equals_truth(built: Built) -> None:
    got = {
        c: float(v)
        for c, v in built.rows(
            "select channel, sum(revenue_amount) from marts.fct_orders group by 1"
        )
    }
    for channel, want in built.truth["orders"]["revenue_by_channel"].items():
        assert got[channel] == pytest.approx(want, abs=0.01), channel


def test_order_revenue_ties_to_gl_within_tolerance(built: Built) -> None:
    bad = built.rows("select * from marts.fct_revenue_reconciliation where not is_within_tolerance")
    assert not bad
    worst = built.rows(
        "select max(abs(unexplained_difference)) from marts.fct_revenue_reconciliation"
    )
    assert float(worst[0][0]) <= 1.0


# every model on the incremental path from raw to the order and stock facts
INCREMENTAL_PATH = (
    "staging.stg_tmall__trades",
    "staging.stg_tmall__trade_lines",
    "staging.stg_jd__orders",
    "staging.stg_jd__order_lines",
    "staging.stg_douyin__orders",
    "staging.stg_douyin__order_lines",
    "staging.stg_shopify__orders",
    "staging.stg_shopify__order_lines",
    "staging.stg_pos__sales_lines",
    "staging.stg_inventory__stock_movements",
    "intermediate.int_orders",
    "intermediate.int_order_lines",
    "marts.fct_order_lines",
    "marts.fct_stock_movements",
    "marts.fct_orders",
    "marts.agg_product_sales_daily",
)
BUILD = [
    "run",
    "--select",
    "+fct_orders",
    "+agg_product_sales_daily",
    "+fct_stock_movements",
    "--quiet",
]
API_COLS = "channel, order_id, modified_at, status, payload, _batch_id, _source, _received_at"
RAW_WITH_RECEIPTS = (
    "tmall_trades",
    "jd_orders",
    "douyin_orders",
    "shopify_orders",
    "pos_sales_lines",
    "manual_orders",
    "inventory_stock_movements",
)


def _increment_1(con, at: str) -> None:
    """Status updates, repeated deliveries, late older versions, new orders, re-sent and
    new POS lines, re-imported and new manual lines, re-sent and new stock movements."""
    # paid → shipped: a later version of 20 trades
    con.execute(f"""
        insert into raw.tmall_trades ({API_COLS})
        select channel, order_id, modified_at + interval 1 day, 'WAIT_BUYER_CONFIRM_GOODS',
               replace(payload, '"status":"' || status || '"',
                       '"status":"WAIT_BUYER_CONFIRM_GOODS"'),
               'test-1', _source, {at}
        from (select *, row_number() over (partition by order_id order by modified_at desc) rn
              from raw.tmall_trades) where rn = 1 and status <> 'TRADE_CLOSED'
        order by order_id limit 20""")
    con.execute(f"""
        insert into raw.jd_orders ({API_COLS})
        select channel, order_id, modified_at, status, payload, 'test-1', _source, {at}
        from raw.jd_orders order by order_id limit 30""")
    con.execute(f"""
        insert into raw.douyin_orders ({API_COLS})
        select channel, order_id, modified_at - interval 30 day, '1', payload,
               'test-1', _source, {at}
        from raw.douyin_orders order by order_id limit 10""")
    con.execute(f"""
        insert into raw.shopify_orders ({API_COLS})
        select channel, '9' || order_id, modified_at, status, payload, 'test-1', _source, {at}
        from raw.shopify_orders order by order_id limit 20""")
    some_pos = "select distinct transaction_id from raw.pos_sales_lines order by 1 limit 10"
    con.execute(f"""
        insert into raw.pos_sales_lines
        select * replace ('resent.csv' as source_file, 'test-1' as _batch_id, {at} as _received_at)
        from raw.pos_sales_lines where transaction_id in ({some_pos})""")
    con.execute(f"""
        insert into raw.pos_sales_lines
        select * replace ('N' || transaction_id as transaction_id, 'test-1' as _batch_id,
                          {at} as _received_at)
        from raw.pos_sales_lines where transaction_id in ({some_pos})""")
    some_manual = "select distinct order_no from raw.manual_orders order by 1 limit 3"
    con.execute(f"""
        insert into raw.manual_orders
        select * replace ('test-1' as _batch_id, {at} as _received_at)
        from raw.manual_orders where order_no in ({some_manual})""")
    con.execute(f"""
        insert into raw.manual_orders
        select * replace ('N' || order_no as order_no, 'test-1' as _batch_id,
                          {at} as _received_at)
        from raw.manual_orders where order_no in ({some_manual})""")
    con.execute(f"""
        insert into raw.inventory_stock_movements
        select * replace ('test-1' as _batch_id, {at} as _received_at)
        from raw.inventory_stock_movements order by movement_id limit 20""")
    con.execute(f"""
        insert into raw.inventory_stock_movements
        select * replace ('N' || movement_id as movement_id, 'test-1' as _batch_id,
                          {at} as _received_at)
        from raw.inventory_stock_movements order by movement_id limit 20""")


def _increment_2(con, at: str) -> None:
    """The shipped trades come back returned; new JD orders; a late older version of the
    new Shopify orders."""
    con.execute(f"""
        insert into raw.tmall_trades ({API_COLS})
        select channel, order_id, modified_at + interval 2 day, 'TRADE_CLOSED',
               replace(payload, '"status":"' || status || '"', '"status":"TRADE_CLOSED"'),
               'test-2', _source, {at}
        from raw.tmall_trades where _batch_id = 'test-1'""")
    con.execute(f"""
        insert into raw.jd_orders ({API_COLS})
        select channel, '9' || order_id, modified_at, status, payload, 'test-2', _source, {at}
        from raw.jd_orders where _batch_id <> 'test-1' order by order_id limit 20""")
    con.execute(f"""
        insert into raw.shopify_orders ({API_COLS})
        select channel, order_id, modified_at - interval 1 day, status, payload,
               'test-2', _source, {at}
        from raw.shopify_orders where _batch_id = 'test-1'""")


def _increment_3(con, at: str) -> None:
    """A batch committed after increment 2 but stamped before it (inside the lookback)."""
    con.execute(f"""
        insert into raw.douyin_orders ({API_COLS})
        select channel, order_id, modified_at + interval 1 day, '3', payload,
               'test-3', _source, {at}
        from (select *, row_number() over (partition by order_id order by modified_at desc) rn
              from raw.douyin_orders) where rn = 1 and _batch_id <> 'test-1'
        order by order_id desc limit 10""")
    con.execute(f"""
        insert into raw.pos_sales_lines
        select * replace ('M' || transaction_id as transaction_id, 'test-3' as _batch_id,
                          {at} as _received_at)
        from raw.pos_sales_lines
        where transaction_id in (
            select distinct transaction_id from raw.pos_sales_lines
            where event_type = 'Payment' order by 1 desc limit 5)
            and event_type = 'Payment'""")


def test_incremental_equals_full_refresh(built: Built) -> None:
    """Raw versions landing in three later batches (late status updates paid → shipped →
    returned, repeated deliveries, late *older* versions, new orders, re-sent files, and a
    batch committed out of stamp order) built incrementally after each batch give, model by
    model along the whole path from raw to the facts, what a full refresh gives.

    The demo history arrived minutes before, so the batches are stamped a day apart after
    it, and the first two runs use no lookback: each run then rebuilds only the keys its
    batch touched. The third batch is stamped 30 minutes before the second and is found by
    the default lookback (1 hour)."""
    built.dbt(BUILD)  # the demo lake as built by Dagster: every cursor at the history's end
    with built.lake.reading() as con:
        last = max(
            con.execute(f"select max(_received_at) from raw.{t}").fetchone()[0]
            for t in RAW_WITH_RECEIPTS
        )
    no_lookback = ["--vars", "{incremental_lookback_hours: 0}"]
    for increment, at, extra in (
        (_increment_1, last + timedelta(days=1), no_lookback),
        (_increment_2, last + timedelta(days=2), no_lookback),
        (_increment_3, last + timedelta(days=2, minutes=-30), []),
    ):
        with built.lake.writing() as con:
            increment(con, f"timestamptz '{at.isoformat()}'")
        built.dbt([*BUILD, *extra])
    incremental = {m: built.rows(f"select * from {m} order by all") for m in INCREMENTAL_PATH}
    built.dbt([*BUILD, "--full-refresh"])
    for model in INCREMENTAL_PATH:
        full = built.rows(f"select * from {model} order by all")
        assert len(incremental[model]) == len(full), model
        assert incremental[model] == full, model
    returned = built.rows(
        "select count(distinct order_id) from marts.fct_order_lines "
        "where channel = 'tmall' and order_status = 'returned' and order_id in "
        "(select order_id from raw.tmall_trades where _batch_id = 'test-2')"
    )
    assert returned[0][0] == 20
    late = built.rows(
        "select count(*) from marts.fct_orders where channel = 'douyin' and native_status = '3' "
        "and order_id in (select order_id from raw.douyin_orders where _batch_id = 'test-3')"
    )
    assert late[0][0] == 10
    new = built.rows(
        "select count(*) from marts.fct_orders where channel = 'pos' and order_id like 'M%'"
    )
    assert new[0][0] == 5
