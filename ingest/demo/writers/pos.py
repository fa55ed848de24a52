"""Daily POS exports per store: `pos/<store>/<YYYY-MM-DD>.csv`, one row per line item
(Square "Item Details"-like columns), with the pitfalls of real exports at known rates:
GBK or UTF-8 by store, a preamble and a trailing summary row in some files, "¥"/"￥" and
thousands separators in money in some files, refunds as negative rows (Event Type Refund,
on the day of the refund, with the sale's Transaction ID), malformed rows, and one column
(`Member Level`) added from SCHEMA_DRIFT_DATE on. A store writes no file on a day
without rows (closed, or nothing sold)."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from datetime import date

from .. import calendar as cal
from .. import catalog
from ..catalog import Product
from ..customers import People, format_phone
from ..orders import Order
from .common import Manifest, to_yuan

HEADER = [
    "Date",
    "Time",
    "Store",
    "Terminal",
    "Transaction ID",
    "SKU",
    "Item",
    "Qty",
    "Price",
    "Gross Sales",
    "Discounts",
    "Net Sales",
    "Event Type",
    "Payment Method",
    "Customer Phone",
]
DRIFT_COLUMN = "Member Level"
SCHEMA_DRIFT_DATE = date(2026, 3, 16)
DRIFT_DAY = (SCHEMA_DRIFT_DATE - cal.START).days
MALFORMED_RATE = 0.004  # of payment rows
PAYMENTS = ["微信支付"] * 9 + ["支付宝"] * 7 + ["银联卡"] * 3 + ["现金"] * 2
LEVELS = ["普通会员"] * 6 + ["银卡会员"] * 2 + ["金卡会员", "钻石会员"]


def _money(fen: int, symbol: str, thousands: bool) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    whole = f"{fen // 100:,}" if thousands else str(fen // 100)
    return f"{sign}{symbol}{whole}.{fen % 100:02d}"


class PosWriter:
    def __init__(self, manifest: Manifest, seed: int, products: list[Product], people: People):
        self.manifest = manifest
        self.rng = random.Random(f"{seed}:pos-export")
        self.products = products
        self.people = people
        self.today: dict[str, list[tuple]] = defaultdict(list)
        self.pending_refunds: dict[int, list[tuple]] = defaultdict(list)
        self.stores = {s.code: s for s in catalog.STORES}
        self.stats = {
            s.code: {
                "name": s.name,
                "encoding": s.encoding,
                "files": 0,
                "rows": 0,
                "valid_rows": 0,
                "valid_payment_rows": 0,
                "valid_refund_rows": 0,
                "malformed_rows": 0,
                "net_sales": 0,
                "files_with_preamble_and_summary": [],
                "files_with_currency_symbol": 0,
                "files_with_thousands_separator": 0,
            }
            for s in catalog.STORES
        }
        self.transactions: dict[str, set[str]] = {s.code: set() for s in catalog.STORES}
        self.revenue = Counter()  # month -> valid payment net (fen)
        self.refunds = Counter()  # month -> valid refund net (fen, positive)
        self.malformed: list[dict] = []
        self.malformed_net = Counter()  # month -> true net of malformed payment rows
        self.drift_files = [0, 0]  # files without / with the drift column

    def add(self, o: Order) -> None:
        terminal = f"{o.store}-T{o.no % self.stores[o.store].terminals + 1}"
        method = PAYMENTS[o.no * 7 % len(PAYMENTS)]
        phone = format_phone(self.people.phone(o.person), "pos") if o.person is not None else ""
        level = LEVELS[o.person % len(LEVELS)] if o.person is not None else ""
        base = (terminal, o.order_id, method, phone, level)
        for p, qty, price, d in o.lines:
            self.today[o.store].append((o.created, "Payment", base, p, qty, price, d))
        if o.refunded is not None and o.refunded <= cal.END_TS:
            day = cal.day_of(o.refunded)
            for p, qty, price, d in o.lines:
                self.pending_refunds[day].append(
                    (o.store, (o.refunded, "Refund", base, p, -qty, price, -d))
                )

    def end_day(self, day: int) -> None:
        rows_by_store = self.today
        for store, row in self.pending_refunds.pop(day, []):
            rows_by_store[store].append(row)
        for store in sorted(rows_by_store):
            rows = rows_by_store[store]
            if rows:
                rows.sort(key=lambda r: (r[0], r[2][1], r[1]))
                self._write(self.stores[store], day, rows)
        self.today = defaultdict(list)

    def _write(self, store: catalog.Store, day: int, rows: list[tuple]) -> None:
        rng = self.rng
        st = self.stats[store.code]
        ds = cal.day_str(day)
        rel = f"pos/{store.code}/{ds}.csv"
        preamble = rng.random() < store.preamble_rate
        symbol = ""
        if rng.random() < store.currency_symbol_rate:
            symbol = "￥" if store.encoding == "gbk" else "¥"
        thousands = rng.random() < store.thousands_rate
        drift = day >= DRIFT_DAY
        header = HEADER + [DRIFT_COLUMN] if drift else HEADER
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        line_no = 0
        if preamble:
            for cells in (
                ["门店名称", store.name],
                ["门店编号", store.code],
                ["统计区间", f"{ds} 00:00:00 ~ {ds} 23:59:59"],
                ["导出时间", f"{cal.day_str(day + 1)} 00:{5 + day % 50:02d}:13"],
            ):
                w.writerow(cells)
                line_no += 1
        w.writerow(header)
        line_no += 1
        month = ds[:7]
        tot_qty = tot_gross = tot_disc = 0
        for ts, event, (terminal, txn, method, phone, level), p, qty, price, d in rows:
            prod: Product = self.products[p]
            gross = qty * price
            net = gross - d
            cells = [
                ds,
                cal.hms(ts),
                store.code,
                terminal,
                txn,
                prod.barcode,
                prod.name,
                str(qty),
                _money(price, symbol, thousands),
                _money(gross, symbol, thousands),
                _money(-d, symbol, thousands),
                _money(net, symbol, thousands),
                event,
                method,
                phone,
            ]
            if drift:
                cells.append(level)
            tot_qty += qty
            tot_gross += gross
            tot_disc += d
            reason = None
            if event == "Payment" and rng.random() < MALFORMED_RATE:
                kind = rng.randrange(3)
                if kind == 0:
                    bad = rng.choice(("一", "1件", "两个", "x2"))
                    cells[7] = bad
                    reason = f"Qty '{bad}' is not a number"
                elif kind == 1:
                    cells[4] = ""
                    reason = "Transaction ID is empty"
                else:
                    bad = f"{ds[:8]}{rng.randint(32, 39)}"
                    cells[0] = bad
                    reason = f"Date '{bad}' is not a date"
            w.writerow(cells)
            line_no += 1
            st["rows"] += 1
            if reason:
                st["malformed_rows"] += 1
                self.malformed.append({"file": rel, "line": line_no, "reason": reason})
                self.malformed_net[month] += net
                continue
            st["valid_rows"] += 1
            st["net_sales"] += net
            if event == "Payment":
                st["valid_payment_rows"] += 1
                self.transactions[store.code].add(txn)
                self.revenue[month] += net
            else:
                st["valid_refund_rows"] += 1
                self.refunds[month] -= net
        if preamble:
            summary = "合计" if store.encoding == "gbk" else "Summary"
            cells = [
                summary,
                "",
                "",
                "",
                "",
                "",
                "",
                str(tot_qty),
                "",
                _money(tot_gross, symbol, thousands),
                _money(-tot_disc, symbol, thousands),
                _money(tot_gross - tot_disc, symbol, thousands),
                "",
                "",
                "",
            ]
            if drift:
                cells.append("")
            w.writerow(cells)
            st["files_with_preamble_and_summary"].append(rel)
        with open(self.manifest.path(rel), "wb") as f:
            f.write(buf.getvalue().encode(store.encoding))
        st["files"] += 1
        st["files_with_currency_symbol"] += bool(symbol)
        st["files_with_thousands_separator"] += thousands
        self.drift_files[drift] += 1
        self.manifest.add(rel, "csv", store.encoding, len(rows), store=store.code)

    def close(self) -> dict:
        stores = {}
        for code, st in self.stats.items():
            st = dict(st)
            st["net_sales"] = to_yuan(st["net_sales"])
            st["distinct_transactions"] = len(self.transactions[code])
            stores[code] = st
        return {
            "stores": stores,
            "schema_drift": {
                "column": DRIFT_COLUMN,
                "from_date": SCHEMA_DRIFT_DATE.isoformat(),
                "files_without_column": self.drift_files[0],
                "files_with_column": self.drift_files[1],
            },
            "malformed": self.malformed,
            "distinct_transactions": sum(len(t) for t in self.transactions.values()),
        }
