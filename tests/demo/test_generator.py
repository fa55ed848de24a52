"""The demo company generator: deterministic, every file parses, and the truth it reports
matches what is really in the files (counted here independently)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ingest.demo import generate

SCALE = 2000
CST = timezone(timedelta(hours=8))
EXPECTED_FILES = [
    "catalog/products.csv",
    "catalog/channel_sku_map.csv",
    "marketplaces/tmall/trades.jsonl",
    "marketplaces/jd/orders.jsonl",
    "marketplaces/douyin/orders.jsonl",
    "shopify/orders.jsonl",
    "manual/manual_orders.xlsx",
    "inventory/warehouses.csv",
    "inventory/stock_movements.csv",
    "inventory/stock_snapshots.csv",
    "inventory/safety_stock.csv",
    "procurement/suppliers.csv",
    "procurement/purchase_orders.csv",
    "procurement/purchase_order_lines.csv",
    "procurement/receipts.csv",
    "crm/customers.csv",
    "crm/leads.csv",
    "crm/opportunities.csv",
    "hr/departments.json",
    "hr/users.json",
    "hr/attendance.jsonl",
    "hr/payroll.csv",
    "finance/accounts.csv",
    "finance/gl_vouchers.csv",
    "finance/ar_invoices.csv",
    "finance/ap_invoices.csv",
    "production/work_orders.csv",
    "production/production_reports.csv",
    "quality/inspections.csv",
    "projects/projects.csv",
    "projects/tasks.csv",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo") / "company"
    calls: list[tuple[str, int, int]] = []
    truth = generate(out, scale=SCALE, seed=42, progress=lambda s, d, t: calls.append((s, d, t)))
    assert calls and {"orders", "finance"} <= {c[0] for c in calls}
    return out, truth


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _jsonl(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _fen(s: str) -> int:
    return round(float(re.sub(r"[¥￥,]", "", s)) * 100)


# ----------------------------------------------------------------------- basics


def test_truth_json_is_the_returned_truth(demo):
    out, truth = demo
    assert json.loads((out / "truth.json").read_text(encoding="utf-8")) == truth
    assert sum(truth["orders"]["created_by_channel"].values()) == SCALE


def test_same_seed_same_bytes_other_seed_other_bytes(demo, tmp_path):
    out, _ = demo
    again = generate(tmp_path / "again", scale=SCALE, seed=42)
    first, second = _hashes(out), _hashes(tmp_path / "again")
    assert first == second
    assert again["orders"] == demo[1]["orders"]
    generate(tmp_path / "other", scale=SCALE, seed=7)
    other = _hashes(tmp_path / "other")
    for rel in (
        "marketplaces/tmall/trades.jsonl",
        "shopify/orders.jsonl",
        "manual/manual_orders.xlsx",
        "finance/gl_vouchers.csv",
    ):
        assert other[rel] != first[rel], rel


def test_rerun_replaces_owned_content_and_keeps_foreign(tmp_path):
    out = tmp_path / "c"
    generate(out, scale=150, seed=1)
    (out / "notes.txt").write_text("mine")
    (out / "pos" / "stale.csv").write_text("old")
    generate(out, scale=150, seed=1)
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "pos" / "stale.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".c.")]


@pytest.mark.parametrize("scale", [0, 99, 10_000_001, 2.5, True, "1000"])
def test_bad_scale_raises(tmp_path, scale):
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path / "x", scale=scale)
    assert not (tmp_path / "x").exists()


# -------------------------------------------------------------- files and counts


def _records(path: Path, meta: dict) -> int:
    fmt, enc = meta["format"], meta["encoding"]
    if fmt == "jsonl":
        lines = _jsonl(path)
        for line in lines:
            json.loads(line)
        return len(lines)
    if fmt == "json":
        obj = json.loads(path.read_text(encoding="utf-8"))
        for key in meta["list"].split("."):
            obj = obj[key]
        return len(obj)
    if fmt == "xlsx":
        ws = load_workbook(path, read_only=True)[meta["sheet"]]
        return sum(1 for _ in ws.iter_rows(values_only=True)) - 1
    text = path.read_bytes().decode(enc)
    rows = list(csv.reader(io.StringIO(text)))
    if "store" in meta:  # POS: skip a preamble and a Summary row
        start = next(i for i, r in enumerate(rows) if "Transaction ID" in r)
        rows = rows[start:]
        if rows[-1][0] in ("Summary", "合计"):
            rows = rows[:-1]
    width = len(rows[0])
    assert all(len(r) == width for r in rows), path
    return len(rows) - 1


def test_every_file_exists_parses_and_has_its_record_count(demo):
    out, truth = demo
    files = truth["files"]
    for rel in EXPECTED_FILES:
        assert rel in files, rel
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {"truth.json", ".opslake-demo"}
    for rel, meta in files.items():
        assert _records(out / rel, meta) == meta["records"], rel
    stores = {p.name for p in (out / "pos").iterdir()}
    assert 4 <= len(stores) <= 6


def test_pos_gbk_files_are_gbk_not_utf8(demo):
    out, truth = demo
    encodings = {code: s["encoding"] for code, s in truth["pos"]["stores"].items()}
    assert {"gbk", "utf-8"} <= set(encodings.values())
    for code, enc in encodings.items():
        for path in (out / "pos" / code).glob("*.csv"):
            data = path.read_bytes()
            data.decode(enc)
            if enc == "gbk":
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")


def test_schema_drift_column_only_from_its_date(demo):
    out, truth = demo
    drift = truth["pos"]["schema_drift"]
    since = date.fromisoformat(drift["from_date"])
    seen = Counter()
    for path in (out / "pos").rglob("*.csv"):
        enc = truth["files"][str(path.relative_to(out))]["encoding"]
        header = next(
            r
            for r in csv.reader(io.StringIO(path.read_bytes().decode(enc)))
            if "Transaction ID" in r
        )
        has = drift["column"] in header
        assert has == (date.fromisoformat(path.stem) >= since), path
        seen[has] += 1
    assert seen[True] == drift["files_with_column"] > 0
    assert seen[False] == drift["files_without_column"] > 0


def _pos_row_valid(row: dict) -> bool:
    try:
        date.fromisoformat(row["Date"])
        int(row["Qty"])
    except ValueError:
        return False
    return bool(row["Transaction ID"])


def test_pos_valid_rows_net_sales_and_malformed_locations(demo):
    out, truth = demo
    valid = Counter()
    net = Counter()
    txns = defaultdict(set)
    bad = set()
    revenue = Counter()
    for path in sorted((out / "pos").rglob("*.csv")):
        rel = str(path.relative_to(out))
        lines = path.read_bytes().decode(truth["files"][rel]["encoding"]).splitlines()
        start = next(i for i, line in enumerate(lines) if "Transaction ID" in line)
        header = next(csv.reader([lines[start]]))
        for i in range(start + 1, len(lines)):
            cells = next(csv.reader([lines[i]]))
            if cells[0] in ("Summary", "合计"):
                continue
            row = dict(zip(header, cells, strict=True))
            if not _pos_row_valid(row):
                bad.add((rel, i + 1))
                continue
            store = row["Store"]
            valid[store] += 1
            net[store] += _fen(row["Net Sales"])
            if row["Event Type"] == "Payment":
                txns[store].add(row["Transaction ID"])
                revenue[row["Date"][:7]] += _fen(row["Net Sales"])
    assert bad == {(m["file"], m["line"]) for m in truth["pos"]["malformed"]}
    assert len(bad) == truth["malformed_rows"]["pos"] > 0
    for code, st in truth["pos"]["stores"].items():
        assert valid[code] == st["valid_rows"], code
        assert net[code] == round(st["net_sales"] * 100), code
        assert len(txns[code]) == st["distinct_transactions"], code
    expected = truth["orders"]["revenue_by_month_channel"]["pos"]
    assert {m: v / 100 for m, v in revenue.items() if v} == pytest.approx(expected)
    assert (
        sum(len(t) for t in txns.values()) == truth["orders"]["distinct_orders_by_channel"]["pos"]
    )


def test_manual_excel_valid_and_malformed_rows(demo):
    out, truth = demo
    ws = load_workbook(out / "manual/manual_orders.xlsx", read_only=True)["订单明细"]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "订单号"
    bad, orders, revenue = set(), set(), Counter()
    for n, cells in enumerate(rows[1:], start=2):
        r = dict(zip(header, cells, strict=True))
        if (
            not r["订单号"]
            or not isinstance(r["数量"], int)
            or not isinstance(r["下单日期"], datetime)
        ):
            bad.add(n)
            continue
        orders.add(r["订单号"])
        revenue[r["下单日期"].strftime("%Y-%m")] += round(r["金额"] * 100)
    assert bad == {m["row"] for m in truth["manual"]["malformed"]}
    assert len(orders) == truth["orders"]["distinct_orders_by_channel"]["manual"]
    expected = truth["orders"]["revenue_by_month_channel"]["manual"]
    assert {m: v / 100 for m, v in revenue.items() if v} == pytest.approx(expected)


# ------------------------------------------------------------- API order sources

API = {
    # channel: (file, id, status, paid?, created month, revenue in fen of one version)
    "tmall": (
        "marketplaces/tmall/trades.jsonl",
        lambda r: r["tid_str"],
        lambda r: r["status"],
        lambda r: "pay_time" in r,
        lambda r: r["created"][:7],
        lambda r: _fen(r["payment"]) - _fen(r["post_fee"]),
    ),
    "jd": (
        "marketplaces/jd/orders.jsonl",
        lambda r: r["orderId"],
        lambda r: r["orderState"],
        lambda r: not r["paymentConfirmTime"].startswith(("0001", "1970")),
        lambda r: r["orderStartTime"][:7],
        lambda r: _fen(r["orderSellerPrice"]),
    ),
    "douyin": (
        "marketplaces/douyin/orders.jsonl",
        lambda r: r["order_id"],
        lambda r: str(r["order_status"]),
        lambda r: r["pay_time"] > 0,
        lambda r: datetime.fromtimestamp(r["create_time"], CST).strftime("%Y-%m"),
        lambda r: r["pay_amount"] - r["post_amount"],
    ),
    "shopify": (
        "shopify/orders.jsonl",
        lambda r: str(r["id"]),
        lambda r: f"{r['financial_status']}/{r['fulfillment_status'] or 'unfulfilled'}",
        lambda r: r["financial_status"] in ("paid", "refunded"),
        lambda r: r["created_at"][:7],
        lambda r: _fen(r["subtotal_price"]),
    ),
}


@pytest.mark.parametrize("channel", list(API))
def test_api_versions_duplicates_final_status_and_revenue(demo, channel):
    out, truth = demo
    rel, oid, status, paid, month, revenue = API[channel]
    t = truth["api_sources"][channel]
    lines = _jsonl(out / rel)
    assert len(lines) == t["records_written"]
    dups = sum(1 for a, b in zip(lines, lines[1:], strict=False) if a == b)
    assert dups == t["duplicate_deliveries"] == len(lines) - len(set(lines)) > 0
    assert dups == truth["duplicates"][channel]
    last: dict[str, dict] = {}
    versions = Counter()
    paid_version: dict[str, dict] = {}
    for line in dict.fromkeys(lines):
        r = json.loads(line)
        last[oid(r)] = r
        versions[oid(r)] += 1
        if paid(r):
            paid_version.setdefault(oid(r), r)
    assert (
        len(last) == t["distinct_orders"] == truth["orders"]["distinct_orders_by_channel"][channel]
    )
    assert sum(1 for n in versions.values() if n > 1) == t["orders_with_updates"] > 0
    assert Counter(status(r) for r in last.values()) == Counter(t["final_status_counts"])
    for order_id, st in t["final_status_sample"].items():
        assert status(last[order_id]) == st
    by_month = Counter()
    for r in paid_version.values():
        by_month[month(r)] += revenue(r)
    expected = truth["orders"]["revenue_by_month_channel"][channel]
    assert {m: v / 100 for m, v in by_month.items() if v} == pytest.approx(expected)


def test_api_lines_come_in_modified_order(demo):
    out, _ = demo
    stamps = [json.loads(line)["modified"] for line in _jsonl(out / API["tmall"][0])]
    assert stamps == sorted(stamps)
    stamps = [json.loads(line)["update_time"] for line in _jsonl(out / API["douyin"][0])]
    assert stamps == sorted(stamps)


# ------------------------------------------------------------------------ realism


def test_seasonality_november_beats_february(demo):
    out, truth = demo
    by_month = Counter()
    for per_month in truth["orders"]["orders_by_month_channel"].values():
        for m, n in per_month.items():
            by_month[m[5:]] += n
    assert by_month["11"] > 1.5 * by_month["02"]
    created = Counter(
        json.loads(line)["created"][:10] for line in dict.fromkeys(_jsonl(out / API["tmall"][0]))
    )
    assert created["2025-11-11"] > 3 * created["2025-11-25"]


def test_pareto_product_mix(demo):
    out, truth = demo
    rev = truth["orders"]["revenue_by_sku"]
    values = sorted(rev.values(), reverse=True)
    assert 150 <= len(values) <= 200
    share = sum(values[: len(values) // 5]) / sum(values)
    assert 0.65 <= share <= 0.9
    # and independently from the Tmall lines, through the channel SKU map
    with open(out / "catalog/channel_sku_map.csv", encoding="utf-8") as f:
        to_master = {
            r["channel_sku_code"]: r["master_sku"]
            for r in csv.DictReader(f)
            if r["channel"] == "tmall"
        }
    tm = Counter()
    for line in dict.fromkeys(_jsonl(out / API["tmall"][0])):
        r = json.loads(line)
        if r["status"] == "WAIT_SELLER_SEND_GOODS":
            for o in r["orders"]["order"]:
                tm[to_master[o["outer_sku_id"]]] += _fen(o["payment"])
    v = sorted(tm.values(), reverse=True)
    assert 0.6 <= sum(v[:40]) / sum(v) <= 0.95


def _digits(phone: str) -> str:
    d = re.sub(r"\D", "", phone)
    return d[-11:]


def test_same_people_on_several_channels_with_other_phone_formats(demo):
    out, truth = demo
    tm = {json.loads(x)["receiver_mobile"] for x in _jsonl(out / API["tmall"][0])}
    jd = {json.loads(x)["consigneeInfo"]["mobile"] for x in _jsonl(out / API["jd"][0])}
    common = {_digits(p) for p in tm} & {_digits(p) for p in jd}
    assert common
    assert not tm & jd  # the raw strings differ
    assert truth["customers"]["persons_on_several_channels"] > 0


def test_books_balance_and_sales_tie_to_orders(demo):
    out, truth = demo
    with open(out / "finance/gl_vouchers.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    balance = Counter()
    revenue = Counter()
    for r in rows:
        key = (r["会计期间"], r["凭证号"])
        dr = _fen(r["借方金额"] or "0")
        cr = _fen(r["贷方金额"] or "0")
        balance[key] += dr - cr
        if r["摘要"].endswith("销售收入") and r["科目代码"] == "1122":
            revenue[(r["客户"], r["日期"][:7])] += dr
    assert all(v == 0 for v in balance.values())
    assert len(balance) == truth["finance"]["vouchers"]
    names = {
        "tmall": "天猫旗舰店",
        "jd": "京东自营旗舰店",
        "douyin": "抖音小店",
        "shopify": "官网商城",
        "pos": "线下门店",
        "manual": "大客户(B2B)",
    }
    for ch, months in truth["finance"]["revenue_tie"].items():
        for m, tie in months.items():
            assert revenue[(names[ch], m)] == round(tie["gl_gross"] * 100)
            assert tie["difference"] == pytest.approx(tie["malformed"], abs=0.005)
            if ch not in ("pos", "manual"):
                assert tie["difference"] == 0


def test_stockouts_happen_and_stock_never_goes_negative(demo):
    out, truth = demo
    inv = truth["inventory"]
    assert inv["stockout_events"] > 0 and inv["skus_with_stockouts"] > 0
    with open(out / "inventory/stock_snapshots.csv", encoding="utf-8") as f:
        assert all(int(r["on_hand_qty"]) >= 0 for r in csv.DictReader(f))
    with open(out / "inventory/stock_movements.csv", encoding="utf-8") as f:
        kinds = Counter(r["movement_type"] for r in csv.DictReader(f))
    assert set(kinds) == {"receipt", "sale", "transfer", "adjustment", "return"}


def test_late_payers_and_supplier_reliability(demo):
    _, truth = demo
    assert truth["finance"]["ar_status"].get("paid_late", 0) > 0
    sup = truth["procurement"]["suppliers"]
    assert len({s["configured_on_time_rate"] for s in sup.values()}) > 3
