"""The marts on a small demo company landed by the real connectors (`opslake ingest`):
all dbt tests pass, dedup and late updates match the generator's truth, order revenue ties
to GL revenue, and an incremental build equals a full refresh."""

from __future__ import annotations

import subprocess
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


def test_incremental_equals_full_refresh(built: Built) -> None:
    """A later batch of raw versions (new orders, a late status update, a repeated delivery
    and a late *older* version) built incrementally gives what a full refresh gives."""
    with built.lake.writing() as con:
        cols = "channel, order_id, modified_at, status, payload, _batch_id, _source, _received_at"
        # a late status update: the latest version of 20 shipped/paid trades becomes closed
        con.execute(f"""
            insert into raw.tmall_trades ({cols})
            select channel, order_id, modified_at + interval 3 day, 'TRADE_CLOSED',
                   replace(payload, '"status":"' || status || '"', '"status":"TRADE_CLOSED"'),
                   'test-late', _source, now()
            from (select *, row_number() over (partition by order_id order by modified_at desc) rn
                  from raw.tmall_trades) where rn = 1 and status <> 'TRADE_CLOSED'
            order by order_id limit 20""")
        # a repeated delivery of existing versions, and a late older version
        con.execute(f"""
            insert into raw.jd_orders ({cols})
            select channel, order_id, modified_at, status, payload, 'test-dup', _source, now()
            from raw.jd_orders order by order_id limit 30""")
        con.execute(f"""
            insert into raw.douyin_orders ({cols})
            select channel, order_id, modified_at - interval 30 day, '1', payload,
                   'test-old', _source, now()
            from raw.douyin_orders order by order_id limit 10""")
        # ~1% new orders
        con.execute(f"""
            insert into raw.shopify_orders ({cols})
            select channel, '9' || order_id, modified_at, status, payload,
                   'test-new', _source, now()
            from raw.shopify_orders order by order_id limit 20""")
    built.dbt(["run", "--select", "fct_order_lines", "--quiet"])
    incremental = built.rows("select * from marts.fct_order_lines order by order_line_id")
    built.dbt(["run", "--select", "fct_order_lines", "--full-refresh", "--quiet"])
    full = built.rows("select * from marts.fct_order_lines order by order_line_id")
    assert len(incremental) == len(full)
    assert incremental == full
    closed = built.rows(
        "select count(distinct order_id) from marts.fct_order_lines "
        "where channel = 'tmall' and order_status = 'returned'"
    )
    assert closed[0][0] >= 20
