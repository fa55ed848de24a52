"""A tiny lake for the semantic-layer tests, built from seeded Python rows, and helpers.

The tables live in an attached in-memory database named ``lake`` with schema ``marts``, so the
fixture manifest's relations (``"lake"."marts"."fct_orders"``) resolve as in production. Tests
compute their expected numbers from ``Dataset`` (plain Python), never from the compiler.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "semantic"
MANIFEST = FIXTURES / "manifest.json"

ORDER_GAP_MONTHS = {(2023, 6), (2024, 4)}  # no orders at all: MoM / YoY must not skip them


@dataclass
class Dataset:
    regions: list[dict]
    customers: list[dict]
    orders: list[dict]
    stores: list[dict]
    pos: list[dict]
    spine: list[dt.date]


def _days(start: dt.date, end: dt.date):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


def make_dataset() -> Dataset:
    rng = random.Random(20240501)
    regions = [
        {"region_code": "R1", "country": "DE", "region_label": "north"},
        {"region_code": "R2", "country": "FR", "region_label": "south"},
        {"region_code": "R3", "country": "DE", "region_label": "east"},
    ]
    customers = [
        {
            "customer_id": f"C{i:02d}",
            "region_code": regions[i % 3]["region_code"],
            "segment": "enterprise" if i % 4 == 0 else "smb",
            "signup_date": dt.date(2022, 1 + i % 12, 1 + i),
        }
        for i in range(1, 13)
    ]
    orders = []
    n = 0
    for day in _days(dt.date(2023, 1, 1), dt.date(2024, 12, 31)):
        if (day.year, day.month) in ORDER_GAP_MONTHS:
            continue
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            n += 1
            orders.append(
                {
                    "order_id": f"O{n:05d}",
                    # one order without a customer: joins must not drop it from unfiltered totals
                    "customer_id": None if n == 7 else rng.choice(customers)["customer_id"],
                    "store_code": rng.choice(("S1", "S2", None)),
                    "order_date": day,
                    "shipped_date": day + dt.timedelta(days=rng.randint(0, 6)),
                    "status": rng.choice(("completed", "completed", "cancelled", "returned")),
                    "is_online": rng.random() < 0.4,
                    "amount": Decimal(rng.randint(500, 50000)) / 100,
                }
            )
    stores = [
        {"store_code": "S1", "city": "Berlin"},
        {"store_code": "S2", "city": "Paris"},
        {"store_code": "S3", "city": "Berlin"},
    ]
    pos = []
    for day in _days(dt.date(2023, 11, 1), dt.date(2024, 3, 31)):
        for store in ("S1", "S2", "S3"):
            if store == "S3" and day.month == 2:
                continue
            pos.append(
                {
                    "pos_daily_sales_id": f"{day.isoformat()}-{store}",
                    "sales_date": day,
                    "store_code": store,
                    "channel": "pos",
                    "order_count": rng.randint(0, 40),
                    "net_sales": Decimal(rng.randint(-2000, 400000)) / 100,
                }
            )
    spine = list(_days(dt.date(2022, 1, 1), dt.date(2025, 12, 31)))
    return Dataset(regions, customers, orders, stores, pos, spine)


DDL = {
    "dim_regions": "region_code VARCHAR, country VARCHAR, region_label VARCHAR",
    "dim_customers": "customer_id VARCHAR, region_code VARCHAR, segment VARCHAR, signup_date DATE",
    "fct_orders": (
        "order_id VARCHAR, customer_id VARCHAR, store_code VARCHAR, order_date DATE, "
        "shipped_date DATE, status VARCHAR, is_online BOOLEAN, amount DECIMAL(18, 2)"
    ),
    "dim_stores": "store_code VARCHAR, city VARCHAR",
    "fct_pos_daily_sales": (
        "pos_daily_sales_id VARCHAR, sales_date DATE, store_code VARCHAR, channel VARCHAR, "
        "order_count INTEGER, net_sales DECIMAL(18, 2)"
    ),
    "metricflow_time_spine": "date_day DATE",
}


def load_dataset(con: duckdb.DuckDBPyConnection, data: Dataset) -> None:
    con.execute("ATTACH ':memory:' AS lake")
    con.execute("CREATE SCHEMA lake.marts")
    rows = {
        "dim_regions": data.regions,
        "dim_customers": data.customers,
        "fct_orders": data.orders,
        "dim_stores": data.stores,
        "fct_pos_daily_sales": data.pos,
        "metricflow_time_spine": [{"date_day": d} for d in data.spine],
    }
    for table, columns in DDL.items():
        con.execute(f"CREATE TABLE lake.marts.{table} ({columns})")
        names = re.findall(r"(?:^|, )([a-z_]+) ", columns)
        batch = pa.Table.from_pylist([{n: r[n] for n in names} for r in rows[table]])  # noqa: F841
        con.execute(f"INSERT INTO lake.marts.{table} SELECT * FROM batch")


def month(d: dt.date) -> dt.date:
    return d.replace(day=1)


def run(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cur = con.cursor()
    try:
        rel = cur.execute(sql)
        cols = [c[0] for c in rel.description]
        return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]
    finally:
        cur.close()


def by_month(rows: list[dict], date_key: str, value, *, where=lambda r: True) -> dict:
    """Group ``rows`` by the month of ``date_key``; ``value(list_of_rows)`` per month."""
    groups: dict[dt.date, list[dict]] = {}
    for r in rows:
        if where(r):
            groups.setdefault(month(r[date_key]), []).append(r)
    return {m: value(rs) for m, rs in sorted(groups.items())}


def add_months(d: dt.date, n: int) -> dt.date:
    total = d.year * 12 + d.month - 1 + n
    return dt.date(total // 12, total % 12 + 1, 1)


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, m = [], month(start)
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out


def close(a, b, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= rel * max(1.0, abs(float(a)), abs(float(b)))
