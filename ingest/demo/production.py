"""The workshop: work orders for the self-made products (cleaning liquids on the filling
line L1, textiles on the sewing line L2), daily production reports (output, good, scrap →
yield) and their in-process (PQC) inspections. A line runs one work order at a time, so
work queues up when demand peaks."""

from __future__ import annotations

import math
import random

from . import calendar as cal
from .catalog import Product
from .writers.common import Manifest, write_csv

LINES = {
    "CLN": ("L1", "灌装线", 0.015),
    "BED": ("L2", "纺织线", 0.035),
    "PER": ("L2", "纺织线", 0.035),
}


class Workshop:
    def __init__(
        self,
        seed: int,
        products: list[Product],
        daily_units: list[float],
        operators: list[str],
        inspectors: list[str],
    ):
        self.rng = random.Random(f"{seed}:workshop")
        self.products = products
        self.operators = operators or ["操作工"]
        self.inspectors = inspectors or ["质检"]
        cap: dict[str, float] = {}
        for p in products:
            if p.sourcing == "make":
                line = LINES[p.category_code][0]
                cap[line] = cap.get(line, 0.0) + daily_units[p.idx]
        self.capacity = {line: max(20, round(c * 2.2)) for line, c in cap.items()}
        self.free_day = {line: 0 for line in self.capacity}
        self.orders: list[dict] = []
        self.reports: list[dict] = []
        self.inspections: list[dict] = []

    def place(self, day: int, p: int, qty: int) -> list[tuple]:
        """Plan a work order; returns its daily reports [(day, wo index, good, scrap)]."""
        rng = self.rng
        prod = self.products[p]
        line, _, scrap_rate = LINES[prod.category_code]
        cap = self.capacity[line]
        start = max(day + 1, self.free_day[line])
        planned_days = max(1, math.ceil(qty / cap))
        actual = start + (rng.randint(1, 2) if rng.random() < 0.3 else 0)
        wo = len(self.orders)
        wo_no = f"WO{cal.day_str(day).replace('-', '')}{wo + 1:05d}"
        out = []
        left = qty
        d = actual
        while left > 0:
            made = min(left, max(1, round(cap * rng.uniform(0.75, 1.05))))
            scrap = min(made, round(made * scrap_rate * rng.uniform(0.3, 2.2)))
            out.append((d, wo, made - scrap, scrap))
            left -= made
            d += 1
        self.free_day[line] = d
        self.orders.append(
            {
                "wo_no": wo_no,
                "sku": prod.sku,
                "line": line,
                "qty": qty,
                "planned_start": start,
                "planned_end": start + planned_days - 1,
                "actual_start": actual,
                "last_day": d - 1,
                "good": 0,
                "scrap": 0,
                "reported_days": 0,
                "days": len(out),
            }
        )
        return out

    def report(self, day: int, wo: int, good: int, scrap: int) -> None:
        rng = self.rng
        o = self.orders[wo]
        o["good"] += good
        o["scrap"] += scrap
        o["reported_days"] += 1
        rid = f"PR{len(self.reports) + 1:07d}"
        self.reports.append(
            {
                "report_id": rid,
                "wo_no": o["wo_no"],
                "day": day,
                "line": o["line"],
                "sku": o["sku"],
                "output": good + scrap,
                "good": good,
                "scrap": scrap,
                "operator": self.operators[len(self.reports) % len(self.operators)],
            }
        )
        output = good + scrap
        sample = min(output, 5 + output // 50)
        defects = min(sample, round(sample * scrap / output + rng.random() * 0.5)) if output else 0
        ts = cal.START_TS + day * 86400 + rng.randrange(14 * 3600, 17 * 3600)
        self.inspections.append(
            {
                "inspection_id": f"PQC{len(self.inspections) + 1:06d}",
                "type": "PQC",
                "ref_no": rid,
                "sku": o["sku"],
                "inspected_at": cal.fmt(ts),
                "lot_qty": output,
                "sample_size": sample,
                "defect_qty": defects,
                "result": "fail" if sample and defects / sample > 0.1 else "pass",
                "defect_type": rng.choice(("跑线", "漏液", "色差", "封口不良")) if defects else "",
                "inspector": self.inspectors[len(self.inspections) % len(self.inspectors)],
            }
        )

    def write(self, manifest: Manifest) -> dict:
        rows = []
        status_count: dict[str, int] = {}
        for o in self.orders:
            if o["reported_days"] == o["days"]:
                status = "completed"
            elif o["reported_days"]:
                status = "in_progress"
            else:
                status = "released"
            status_count[status] = status_count.get(status, 0) + 1
            done = status == "completed"
            rows.append(
                [
                    o["wo_no"],
                    o["sku"],
                    o["line"],
                    o["qty"],
                    o["good"],
                    o["scrap"],
                    cal.day_str(o["planned_start"]),
                    cal.day_str(o["planned_end"]),
                    cal.day_str(o["actual_start"]) if o["reported_days"] else "",
                    cal.day_str(o["last_day"]) if done else "",
                    status,
                    "WH01",
                ]
            )
        write_csv(
            manifest,
            "production/work_orders.csv",
            [
                "wo_no",
                "sku",
                "line",
                "planned_qty",
                "good_qty",
                "scrap_qty",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
                "status",
                "warehouse",
            ],
            rows,
        )
        write_csv(
            manifest,
            "production/production_reports.csv",
            [
                "report_id",
                "wo_no",
                "report_date",
                "line",
                "shift",
                "sku",
                "output_qty",
                "good_qty",
                "scrap_qty",
                "operator",
            ],
            [
                [
                    r["report_id"],
                    r["wo_no"],
                    cal.day_str(r["day"]),
                    r["line"],
                    "白班",
                    r["sku"],
                    r["output"],
                    r["good"],
                    r["scrap"],
                    r["operator"],
                ]
                for r in self.reports
            ],
        )
        good = sum(r["good"] for r in self.reports)
        output = sum(r["output"] for r in self.reports)
        by_line = {}
        for line in sorted(self.capacity):
            rs = [r for r in self.reports if r["line"] == line]
            out_l = sum(r["output"] for r in rs)
            by_line[line] = round(sum(r["good"] for r in rs) / out_l, 4) if out_l else None
        return {
            "work_orders": len(self.orders),
            "work_order_status": dict(sorted(status_count.items())),
            "production_reports": len(self.reports),
            "output_qty": output,
            "good_qty": good,
            "scrap_qty": output - good,
            "yield": round(good / output, 4) if output else None,
            "yield_by_line": by_line,
        }
