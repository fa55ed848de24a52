"""Purchasing: purchase orders to suppliers who differ in lead time, on-time reliability,
reject rate at incoming inspection and price variance against the list (standard) cost;
deliveries (some split), goods receipts and the IQC inspection of each receipt.
Suppliers stop around the Spring Festival, so deliveries due then slip to after it."""

from __future__ import annotations

import random
from collections import Counter

from . import calendar as cal
from .catalog import SUPPLIERS, Product, Supplier
from .writers.common import Manifest, to_yuan, write_csv, yuan

VAT = 0.13


class Purchasing:
    def __init__(
        self, seed: int, products: list[Product], buyers: list[str], inspectors: list[str]
    ):
        self.rng = random.Random(f"{seed}:purchasing")
        self.products = products
        self.suppliers = {s.code: s for s in SUPPLIERS}
        self.buyers = buyers or ["采购"]
        self.inspectors = inspectors or ["质检"]
        self.pos: list[dict] = []
        self.lines: list[dict] = []
        self.receipts: list[dict] = []
        self.inspections: list[dict] = []
        self.received_qty: Counter = Counter()  # (po_no, line_no) -> received

    def _arrival(self, s: Supplier, day: int) -> tuple[int, int]:
        rng = self.rng
        expected = day + s.lead_days
        if rng.random() < s.on_time_rate:
            actual = expected - rng.randrange(0, 3)
        else:
            actual = expected + rng.randint(*s.late_days)
        d = cal.day_date(min(actual, cal.DAYS + 100))
        sf = cal.SPRING_FESTIVAL.get(d.year)
        if sf is not None and -7 <= (d - sf).days <= 10:
            actual += 10 - (d - sf).days + rng.randrange(0, 6)  # factory closed for the festival
        return expected, max(day + 1, actual)

    def place(self, day: int, items: list[tuple[int, int]]) -> list[tuple]:
        """Order ``items`` [(product, qty)] on ``day``; returns the deliveries
        [(arrival day, po_no, line_no, product, qty)]."""
        rng = self.rng
        by_supplier: dict[str, list[tuple[int, int]]] = {}
        for p, qty in items:
            by_supplier.setdefault(self.products[p].supplier, []).append((p, qty))
        out = []
        for code in sorted(by_supplier):
            s = self.suppliers[code]
            po_no = f"PO{cal.day_str(day).replace('-', '')}{len(self.pos) + 1:05d}"
            expected, arrival = self._arrival(s, day)
            total = 0
            for line_no, (p, qty) in enumerate(by_supplier[code], start=1):
                prod = self.products[p]
                list_price = round(prod.cost / (1 + VAT))
                price = round(list_price * (1 + s.price_bias + rng.gauss(0, 0.02)))
                total += price * qty
                self.lines.append(
                    {
                        "po_no": po_no,
                        "line_no": line_no,
                        "sku": prod.sku,
                        "product_name": prod.name,
                        "qty": qty,
                        "unit_price": price,
                        "list_price": list_price,
                        "supplier": code,
                    }
                )
                if qty >= 20 and rng.random() < 0.12:  # split delivery
                    first = int(qty * rng.uniform(0.6, 0.9))
                    out.append((arrival, po_no, line_no, p, first))
                    out.append((arrival + rng.randint(3, 10), po_no, line_no, p, qty - first))
                else:
                    out.append((arrival, po_no, line_no, p, qty))
            self.pos.append(
                {
                    "po_no": po_no,
                    "supplier": code,
                    "order_day": day,
                    "expected_day": expected,
                    "total": total,
                    "buyer": self.buyers[len(self.pos) % len(self.buyers)],
                }
            )
        return out

    def receive(self, day: int, po_no: str, line_no: int, p: int, qty: int) -> int:
        """Book a delivery; returns the accepted quantity."""
        rng = self.rng
        s = self.suppliers[self.products[p].supplier]
        rejected = 0
        if rng.random() >= 0.6:
            rejected = min(qty, round(qty * s.reject_rate * rng.uniform(0.5, 4.0)))
        ts = cal.START_TS + day * 86400 + rng.randrange(9 * 3600, 17 * 3600)
        rno = f"GR{cal.day_str(day).replace('-', '')}{len(self.receipts) + 1:05d}"
        ino = f"IQC{len(self.inspections) + 1:06d}"
        sample = min(qty, 8 + qty // 25)
        defects = 0 if not rejected else max(1, min(sample, round(sample * rejected / qty)))
        self.inspections.append(
            {
                "inspection_id": ino,
                "type": "IQC",
                "ref_no": rno,
                "sku": self.products[p].sku,
                "inspected_at": cal.fmt(ts + 1800),
                "lot_qty": qty,
                "sample_size": sample,
                "defect_qty": defects,
                "result": "fail" if rejected > qty * 0.03 else "pass",
                "defect_type": rng.choice(("外观划伤", "尺寸偏差", "包装破损", "功能不良"))
                if defects
                else "",
                "inspector": self.inspectors[len(self.inspections) % len(self.inspectors)],
            }
        )
        self.receipts.append(
            {
                "receipt_no": rno,
                "po_no": po_no,
                "line_no": line_no,
                "sku": self.products[p].sku,
                "received_at": cal.fmt(ts),
                "warehouse": "WH01",
                "qty_received": qty,
                "qty_accepted": qty - rejected,
                "qty_rejected": rejected,
                "inspection_id": ino,
                "day": day,
                "supplier": s.code,
            }
        )
        self.received_qty[(po_no, line_no)] += qty
        return qty - rejected

    def write(self, manifest: Manifest) -> dict:
        write_csv(
            manifest,
            "procurement/suppliers.csv",
            [
                "supplier_code",
                "name",
                "province",
                "city",
                "categories",
                "lead_time_days",
                "payment_terms_days",
                "contact",
                "phone",
            ],
            [
                [
                    s.code,
                    s.name,
                    s.province,
                    s.city,
                    "|".join(s.categories),
                    s.lead_days,
                    s.terms_days,
                    s.contact,
                    s.phone,
                ]
                for s in SUPPLIERS
            ],
        )
        ordered = Counter()
        for ln in self.lines:
            ordered[ln["po_no"]] += ln["qty"]
        got = Counter()
        for (po, _), q in self.received_qty.items():
            got[po] += q
        rows = []
        for po in self.pos:
            status = (
                "closed"
                if got[po["po_no"]] >= ordered[po["po_no"]]
                else "partially_received"
                if got[po["po_no"]]
                else "open"
            )
            rows.append(
                [
                    po["po_no"],
                    po["supplier"],
                    cal.day_str(po["order_day"]),
                    cal.day_str(po["expected_day"]),
                    "WH01",
                    status,
                    po["buyer"],
                    "CNY",
                    yuan(po["total"]),
                ]
            )
        write_csv(
            manifest,
            "procurement/purchase_orders.csv",
            [
                "po_no",
                "supplier_code",
                "order_date",
                "expected_date",
                "warehouse",
                "status",
                "buyer",
                "currency",
                "total_amount",
            ],
            rows,
        )
        write_csv(
            manifest,
            "procurement/purchase_order_lines.csv",
            [
                "po_no",
                "line_no",
                "sku",
                "product_name",
                "qty",
                "unit_price",
                "list_price",
                "amount",
            ],
            [
                [
                    ln["po_no"],
                    ln["line_no"],
                    ln["sku"],
                    ln["product_name"],
                    ln["qty"],
                    yuan(ln["unit_price"]),
                    yuan(ln["list_price"]),
                    yuan(ln["unit_price"] * ln["qty"]),
                ]
                for ln in self.lines
            ],
        )
        write_csv(
            manifest,
            "procurement/receipts.csv",
            [
                "receipt_no",
                "po_no",
                "line_no",
                "sku",
                "received_at",
                "warehouse",
                "qty_received",
                "qty_accepted",
                "qty_rejected",
                "inspection_id",
            ],
            [
                [
                    r["receipt_no"],
                    r["po_no"],
                    r["line_no"],
                    r["sku"],
                    r["received_at"],
                    r["warehouse"],
                    r["qty_received"],
                    r["qty_accepted"],
                    r["qty_rejected"],
                    r["inspection_id"],
                ]
                for r in self.receipts
            ],
        )
        # how each supplier really did (on time = first delivery on or before expected)
        first: dict[str, int] = {}
        for r in self.receipts:
            first.setdefault(r["po_no"], r["day"])
        per = {}
        for s in SUPPLIERS:
            pos = [po for po in self.pos if po["supplier"] == s.code and po["po_no"] in first]
            on_time = sum(1 for po in pos if first[po["po_no"]] <= po["expected_day"])
            rec = [r for r in self.receipts if r["supplier"] == s.code]
            qty = sum(r["qty_received"] for r in rec)
            lines = [ln for ln in self.lines if ln["supplier"] == s.code]
            list_amt = sum(ln["list_price"] * ln["qty"] for ln in lines)
            per[s.code] = {
                "configured_on_time_rate": s.on_time_rate,
                "configured_reject_rate": s.reject_rate,
                "configured_price_bias": s.price_bias,
                "purchase_orders": sum(1 for po in self.pos if po["supplier"] == s.code),
                "delivered_orders": len(pos),
                "on_time_orders": on_time,
                "qty_received": qty,
                "qty_rejected": sum(r["qty_rejected"] for r in rec),
                "price_variance_vs_list": round(
                    sum(ln["unit_price"] * ln["qty"] for ln in lines) / list_amt - 1, 4
                )
                if list_amt
                else 0.0,
            }
        return {
            "purchase_orders": len(self.pos),
            "purchase_order_lines": len(self.lines),
            "receipts": len(self.receipts),
            "ordered_amount_excl_vat": to_yuan(sum(po["total"] for po in self.pos)),
            "suppliers": per,
        }
