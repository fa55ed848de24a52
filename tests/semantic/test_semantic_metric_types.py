"""One test per metric type: compile against the fixture manifest, run on the tiny lake, and
compare with numbers computed here in plain Python from the same rows."""

from __future__ import annotations

import datetime as dt
import math

from semantic_data import add_months, by_month, close, month, months, run

from semantic import MetricQuery, compile_query


def _query(manifest, con, **kw) -> list[dict]:
    return run(con, compile_query(manifest, MetricQuery(**kw)))


def _column(rows: list[dict], key: str, value: str) -> dict:
    return {r[key]: r[value] for r in rows}


def _assert_series(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected), sorted(set(actual) ^ set(expected))
    for k, v in expected.items():
        assert close(actual[k], v), (k, actual[k], v)


def _percentile_cont(values: list, p: float) -> float:
    s = sorted(float(v) for v in values)
    pos = p * (len(s) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _revenue_by_month(data) -> dict:
    return by_month(data.orders, "order_date", lambda rs: sum(r["amount"] for r in rs))


def test_simple_metrics_every_aggregation(manifest, con, data):
    rows = _query(
        manifest,
        con,
        metrics=[
            "revenue",
            "orders",
            "distinct_customers",
            "avg_order_amount",
            "min_order_amount",
            "max_order_amount",
            "online_orders",
            "p90_order_amount",
            "shipped_revenue",
        ],
        group_by=["metric_time__month"],
    )
    o = data.orders
    expected = {
        "revenue": _revenue_by_month(data),
        "orders": by_month(o, "order_date", len),
        "distinct_customers": by_month(
            o, "order_date", lambda rs: len({r["customer_id"] for r in rs} - {None})
        ),
        "avg_order_amount": by_month(
            o, "order_date", lambda rs: sum(r["amount"] for r in rs) / len(rs)
        ),
        "min_order_amount": by_month(o, "order_date", lambda rs: min(r["amount"] for r in rs)),
        "max_order_amount": by_month(o, "order_date", lambda rs: max(r["amount"] for r in rs)),
        "online_orders": by_month(o, "order_date", lambda rs: sum(r["is_online"] for r in rs)),
        "p90_order_amount": by_month(
            o, "order_date", lambda rs: _percentile_cont([r["amount"] for r in rs], 0.9)
        ),
        # measure-level agg_time_dimension: metric_time is the ship date for this one
        "shipped_revenue": by_month(o, "shipped_date", lambda rs: sum(r["amount"] for r in rs)),
    }
    all_months = set().union(*(set(v) for v in expected.values()))
    assert [r["metric_time__month"] for r in rows] == sorted(all_months)
    for metric, series in expected.items():
        got = {
            k: v for k, v in _column(rows, "metric_time__month", metric).items() if v is not None
        }
        _assert_series(got, series)


def test_simple_metric_by_categorical_and_coarse_grain(manifest, con, data):
    rows = _query(
        manifest, con, metrics=["revenue"], group_by=["order__status", "metric_time__year"]
    )
    expected: dict = {}
    for r in data.orders:
        key = (r["status"], dt.date(r["order_date"].year, 1, 1))
        expected[key] = expected.get(key, 0) + r["amount"]
    got = {(r["order__status"], r["metric_time__year"]): r["revenue"] for r in rows}
    _assert_series(got, expected)


def test_metrics_from_two_models_share_metric_time(manifest, con, data):
    rows = _query(
        manifest, con, metrics=["revenue", "pos_net_sales"], group_by=["metric_time__month"]
    )
    revenue = _revenue_by_month(data)
    pos = by_month(data.pos, "sales_date", lambda rs: sum(r["net_sales"] for r in rs))
    assert [r["metric_time__month"] for r in rows] == sorted(set(revenue) | set(pos))
    for r in rows:
        assert close(r["revenue"], revenue.get(r["metric_time__month"]))
        assert close(r["pos_net_sales"], pos.get(r["metric_time__month"]))


def test_ratio_metrics(manifest, con, data):
    rows = _query(
        manifest,
        con,
        metrics=["pos_average_order_value"],
        group_by=["metric_time__month", "store_code"],
    )
    expected: dict = {}
    for r in data.pos:
        key = (month(r["sales_date"]), r["store_code"])
        net, orders = expected.get(key, (0, 0))
        expected[key] = (net + r["net_sales"], orders + r["order_count"])
    got = {(r["metric_time__month"], r["store_code"]): r["pos_average_order_value"] for r in rows}
    _assert_series(got, {k: (n / o if o else None) for k, (n, o) in expected.items()})

    # numerator filtered through a join (customer segment), denominator unfiltered
    rows = _query(
        manifest, con, metrics=["enterprise_revenue_share"], group_by=["metric_time__month"]
    )
    segment = {c["customer_id"]: c["segment"] for c in data.customers}
    enterprise = by_month(
        data.orders,
        "order_date",
        lambda rs: sum(r["amount"] for r in rs),
        where=lambda r: segment.get(r["customer_id"]) == "enterprise",
    )
    total = _revenue_by_month(data)
    expected_share = {m: (enterprise[m] / t if m in enterprise else None) for m, t in total.items()}
    _assert_series(_column(rows, "metric_time__month", "enterprise_revenue_share"), expected_share)


def test_derived_metric(manifest, con, data):
    rows = _query(manifest, con, metrics=["revenue_per_order"], group_by=["metric_time__month"])
    revenue = _revenue_by_month(data)
    orders = by_month(data.orders, "order_date", len)
    _assert_series(
        _column(rows, "metric_time__month", "revenue_per_order"),
        {m: revenue[m] / orders[m] for m in revenue},
    )


def test_derived_with_input_filter(manifest, con, data):
    rows = _query(manifest, con, metrics=["completed_share"], group_by=["metric_time__month"])
    completed = by_month(
        data.orders,
        "order_date",
        lambda rs: sum(r["amount"] for r in rs),
        where=lambda r: r["status"] == "completed",
    )
    total = _revenue_by_month(data)
    _assert_series(
        _column(rows, "metric_time__month", "completed_share"),
        {m: (completed[m] / t if m in completed else None) for m, t in total.items()},
    )


def test_derived_offset_month_over_month_keeps_gap_month(manifest, con, data):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    rows = _query(
        manifest,
        con,
        metrics=["revenue", "revenue_prev_month", "revenue_mom_growth"],
        group_by=["metric_time__month"],
        start=start,
        end=end,
    )
    revenue = _revenue_by_month(data)
    assert dt.date(2024, 4, 1) not in revenue  # the fixture's gap month
    expected_keys = [m for m in months(start, end) if m in revenue or add_months(m, -1) in revenue]
    assert [r["metric_time__month"] for r in rows] == expected_keys
    for r in rows:
        m = r["metric_time__month"]
        cur, prev = revenue.get(m), revenue.get(add_months(m, -1))
        assert close(r["revenue"], cur), m
        assert close(r["revenue_prev_month"], prev), m
        growth = (cur - prev) / prev if cur is not None and prev else None
        assert close(r["revenue_mom_growth"], growth), m
    by_key = {r["metric_time__month"]: r for r in rows}
    # the month after the gap compares with the (empty) gap month, not with March
    assert by_key[dt.date(2024, 5, 1)]["revenue_prev_month"] is None
    # January looks back into the previous year, outside the requested range
    assert close(by_key[dt.date(2024, 1, 1)]["revenue_prev_month"], revenue[dt.date(2023, 12, 1)])


def test_derived_offset_year_over_year(manifest, con, data):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    rows = _query(
        manifest,
        con,
        metrics=["revenue_yoy_growth"],
        group_by=["metric_time__month"],
        start=start,
        end=end,
    )
    revenue = _revenue_by_month(data)
    expected = {}
    for m in months(start, end):
        cur, last = revenue.get(m), revenue.get(add_months(m, -12))
        if cur is None and last is None:
            continue
        expected[m] = (cur - last) / last if cur is not None and last else None
    assert expected[dt.date(2024, 6, 1)] is None  # June 2023 is a gap month
    assert expected[dt.date(2024, 4, 1)] is None  # April 2024 is a gap month
    _assert_series(_column(rows, "metric_time__month", "revenue_yoy_growth"), expected)


def test_cumulative_window_grain_to_date_and_all_time_at_range_edges(manifest, con, data):
    start, end = dt.date(2024, 2, 1), dt.date(2024, 6, 15)
    rows = _query(
        manifest,
        con,
        metrics=[
            "revenue_all_time",
            "revenue_trailing_3_months",
            "revenue_ytd",
            "customers_all_time",
        ],
        group_by=["metric_time__month"],
        start=start,
        end=end,
    )
    revenue = _revenue_by_month(data)
    expected_months = months(start, end)  # includes the April gap and June (end mid-month)
    assert [r["metric_time__month"] for r in rows] == expected_months
    for r in rows:
        p = r["metric_time__month"]
        all_time = sum(v for m, v in revenue.items() if m <= p)
        trailing = sum(v for m, v in revenue.items() if add_months(p, -3) < m <= p)
        ytd = sum(v for m, v in revenue.items() if m.year == p.year and m <= p)
        customers = {o["customer_id"] for o in data.orders if month(o["order_date"]) <= p} - {None}
        assert close(r["revenue_all_time"], all_time), p  # February includes all of 2023
        assert close(r["revenue_trailing_3_months"], trailing), p
        assert close(r["revenue_ytd"], ytd), p
        assert r["customers_all_time"] == len(customers), p

    # before the first data: no rows; the first data month starts the running total
    rows = _query(
        manifest,
        con,
        metrics=["revenue_all_time"],
        group_by=["metric_time__month"],
        start="2022-10-01",
        end="2023-02-28",
    )
    assert [r["metric_time__month"] for r in rows] == [dt.date(2023, 1, 1), dt.date(2023, 2, 1)]
    assert close(
        rows[1]["revenue_all_time"], revenue[dt.date(2023, 1, 1)] + revenue[dt.date(2023, 2, 1)]
    )


def test_cumulative_day_window_across_gap(manifest, con, data):
    start, end = dt.date(2024, 3, 28), dt.date(2024, 4, 10)
    rows = _query(
        manifest,
        con,
        metrics=["orders_trailing_7_days"],
        group_by=["metric_time__day"],
        start=start,
        end=end,
    )
    expected = {}
    day = start
    while day <= end:
        n = sum(1 for o in data.orders if day - dt.timedelta(days=7) < o["order_date"] <= day)
        if n:
            expected[day] = n
        day += dt.timedelta(days=1)
    assert _column(rows, "metric_time__day", "orders_trailing_7_days") == expected


def test_filtered_metrics(manifest, con, data):
    rows = _query(
        manifest,
        con,
        metrics=[
            "completed_revenue",
            "enterprise_revenue",
            "german_revenue",
            "online_revenue_since_2024",
        ],
        group_by=["metric_time__month"],
    )
    customer = {c["customer_id"]: c for c in data.customers}
    country = {r["region_code"]: r["country"] for r in data.regions}

    def amount(rs):
        return sum(r["amount"] for r in rs)

    expected = {
        "completed_revenue": lambda r: r["status"] == "completed",
        "enterprise_revenue": lambda r: (
            r["customer_id"] in customer and customer[r["customer_id"]]["segment"] == "enterprise"
        ),
        "german_revenue": lambda r: (
            r["customer_id"] in customer
            and country[customer[r["customer_id"]]["region_code"]] == "DE"
        ),
        "online_revenue_since_2024": lambda r: (
            r["is_online"] and r["order_date"] >= dt.date(2024, 1, 1)
        ),
    }
    for metric, keep in expected.items():
        want = by_month(data.orders, "order_date", amount, where=keep)
        got = {
            k: v for k, v in _column(rows, "metric_time__month", metric).items() if v is not None
        }
        _assert_series(got, want)


def test_multi_hop_dimension_join(manifest, con, data):
    customer = {c["customer_id"]: c for c in data.customers}
    region = {r["region_code"]: r for r in data.regions}

    def path(r, field):
        c = customer.get(r["customer_id"])
        return region[c["region_code"]][field] if c else None

    for group_by, field in [
        ("customer__region__country", "country"),  # orders -> customers -> regions
        ("country", "country"),  # the same, found through the entity graph
        ("region_name", "region_label"),  # a dimension with an expr (upper(region_label))
    ]:
        rows = _query(manifest, con, metrics=["revenue", "orders"], group_by=[group_by])
        expected: dict = {}
        for r in data.orders:
            key = path(r, field)
            key = key.upper() if key and field == "region_label" else key
            rev, n = expected.get(key, (0, 0))
            expected[key] = (rev + r["amount"], n + 1)
        got = {r[group_by]: (r["revenue"], r["orders"]) for r in rows}
        assert set(got) == set(expected)
        assert None in got  # the order without a customer is kept (LEFT JOIN)
        for k, (rev, n) in expected.items():
            assert close(got[k][0], rev) and got[k][1] == n, k

    # a filter on a two-hop dimension, grouped by a one-hop one
    rows = _query(
        manifest,
        con,
        metrics=["revenue"],
        group_by=["customer__segment"],
        where=[{"dimension": "customer__region__country", "op": "=", "value": "FR"}],
    )
    expected = {}
    for r in data.orders:
        if path(r, "country") == "FR":
            seg = customer[r["customer_id"]]["segment"]
            expected[seg] = expected.get(seg, 0) + r["amount"]
    _assert_series(_column(rows, "customer__segment", "revenue"), expected)

    rows = _query(manifest, con, metrics=["pos_net_sales"], group_by=["store__city"])
    city = {s["store_code"]: s["city"] for s in data.stores}
    expected = {}
    for r in data.pos:
        expected[city[r["store_code"]]] = expected.get(city[r["store_code"]], 0) + r["net_sales"]
    _assert_series(_column(rows, "store__city", "pos_net_sales"), expected)
