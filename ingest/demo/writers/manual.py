"""Manual B2B / phone orders kept by the key-account team in one Excel workbook
(`manual/manual_orders.xlsx`, sheet 订单明细, one row per order line, header in row 1),
with a few bad rows typed by hand: a missing order number, a quantity in words, a date
that does not exist."""

from __future__ import annotations

import random
import re
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from .. import calendar as cal
from ..catalog import Product
from ..customers import People, format_phone
from ..orders import Order
from .common import Manifest

REL = "manual/manual_orders.xlsx"
SHEET = "订单明细"
HEADER = [
    "订单号",
    "下单日期",
    "客户编码",
    "客户名称",
    "联系人",
    "联系电话",
    "收货省份",
    "收货城市",
    "商品编码",
    "商品名称",
    "数量",
    "单价",
    "折扣额",
    "金额",
    "销售员",
    "付款方式",
    "备注",
]
MALFORMED_RATE = 0.02
FIXED_TIME = datetime(2026, 11, 1, 0, 0, 0)


class ManualWriter:
    def __init__(
        self,
        manifest: Manifest,
        seed: int,
        products: list[Product],
        people: People,
        sales_reps: list[str],
    ):
        self.manifest = manifest
        self.rng = random.Random(f"{seed}:manual-excel")
        self.products = products
        self.people = people
        self.reps = sales_reps or ["销售"]
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet(SHEET)
        self.ws.append(HEADER)
        self.row = 1
        self.valid_rows = 0
        self.orders: set[str] = set()
        self.revenue = Counter()
        self.malformed: list[dict] = []
        self.malformed_net = Counter()

    def add(self, o: Order) -> None:
        rng = self.rng
        acc = o.account
        assert acc is not None
        created = cal.day_date(cal.day_of(o.created))
        rep = self.reps[int(acc.code[1:]) % len(self.reps)]
        contact = self.people.name(acc.contact)
        phone = format_phone(self.people.phone(acc.contact), "manual")
        pay = "月结" if acc.terms_days else "款到发货"
        month = created.isoformat()[:7]
        for p, qty, price, d in o.lines:
            prod = self.products[p]
            amount = qty * price - d
            cells = [
                o.order_id,
                created,
                acc.code,
                acc.name,
                contact,
                phone,
                acc.province,
                acc.city,
                prod.sku,
                prod.name,
                qty,
                price / 100,
                d / 100,
                amount / 100,
                rep,
                pay,
                "",
            ]
            self.row += 1
            reason = None
            if rng.random() < MALFORMED_RATE:
                kind = rng.randrange(3)
                if kind == 0:
                    cells[0] = None
                    reason = "订单号 is empty"
                elif kind == 1:
                    words = {10: "十", 20: "二十", 30: "三十", 50: "五十", 100: "一百"}
                    cells[10] = words.get(qty, f"{qty}件")
                    reason = f"数量 '{cells[10]}' is not a number"
                else:
                    cells[1] = f"{created.year}-02-3{rng.randint(0, 1)}"
                    reason = f"下单日期 '{cells[1]}' is not a date"
            self.ws.append(cells)
            if reason:
                self.malformed.append(
                    {"file": REL, "sheet": SHEET, "row": self.row, "reason": reason}
                )
                self.malformed_net[month] += amount
            else:
                self.valid_rows += 1
                self.orders.add(o.order_id)
                self.revenue[month] += amount

    def close(self) -> dict:
        self.wb.properties.created = FIXED_TIME
        self.wb.properties.modified = FIXED_TIME
        self.wb.properties.creator = "OpsLake demo"
        path = self.manifest.path(REL)
        self.wb.save(path)
        _normalise_zip(path)
        rows = self.row - 1
        self.manifest.add(REL, "xlsx", "binary", rows, sheet=SHEET)
        return {
            "file": REL,
            "sheet": SHEET,
            "rows": rows,
            "valid_rows": self.valid_rows,
            "distinct_orders": len(self.orders),
            "malformed": self.malformed,
        }


def _normalise_zip(path: Path) -> None:
    """Rewrite the workbook with fixed entry timestamps so the bytes are reproducible."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2026-11-01T00:00:00Z\g<2>",
                    data,
                )
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
