"""Stock across the four warehouses, simulated day by day from what the orders ship.

- Online orders ship from the warehouse of the buyer's region, stores draw on their
  regional warehouse, B2B ships from the central warehouse WH01.
- Sales are posted once a day per SKU × warehouse (`sale`, negative) at 22:00, returns
  likewise (`return`); unmet demand is a stockout (recorded in the truth; the order still
  exists, nothing ships from stock for it).
- Planners reorder from a 14-day moving average, so the shopping festivals outrun them and
  SKUs run out: buy-SKUs through purchase orders to WH01, make-SKUs through work orders;
  regional warehouses are topped up from WH01 by `transfer` on Mondays and Thursdays
  (two days in transit); month-end cycle counts post small `adjustment`s.
- `stock_snapshots.csv` holds the end-of-day on-hand of every SKU × warehouse, daily.
"""

from __future__ import annotations

import math
import random
from collections import Counter

from . import calendar as cal
from . import catalog
from .catalog import Product
from .procurement import Purchasing
from .production import Workshop
from .writers.common import CsvOut, Manifest, write_csv

ALPHA = 1 / 14
SNAPSHOT = "daily"


def _warehouse_shares() -> list[float]:
    ch = catalog.CHANNELS
    online = sum(c.share for k, c in ch.items() if k not in ("pos", "manual"))
    shares = [0.0] * len(catalog.WAREHOUSES)
    total = sum(p.weight for p in catalog.PROVINCES)
    for p in catalog.PROVINCES:
        shares[catalog.WAREHOUSE_INDEX[p.warehouse]] += online * p.weight / total
    st = sum(s.weight for s in catalog.STORES)
    for s in catalog.STORES:
        shares[catalog.WAREHOUSE_INDEX[s.warehouse]] += ch["pos"].share * s.weight / st
    shares[0] += ch["manual"].share
    return shares


class StockNetwork:
    def __init__(
        self,
        manifest: Manifest,
        seed: int,
        products: list[Product],
        daily_units: list[float],
        purchasing: Purchasing,
        workshop: Workshop,
    ):
        self.rng = random.Random(f"{seed}:stock")
        self.products = products
        self.P = P = len(products)
        self.W = W = len(catalog.WAREHOUSES)
        self.purchasing = purchasing
        self.workshop = workshop
        self.exp = daily_units
        # standard cost without VAT (fen): what the books carry stock at
        self.unit_cost = [round(p.cost / 1.13) for p in products]
        self.shares = _warehouse_shares()
        self.ema = [[0.0] * P for _ in range(W)]
        self.on_hand = [[0] * P for _ in range(W)]
        self.safety = [[0] * P for _ in range(W)]
        self.transit = [[0] * P for _ in range(W)]
        self.pipeline = [0] * P
        self.events: dict[int, list[tuple]] = {}
        for w in range(W):
            for p in range(P):
                rate = daily_units[p] * self.shares[w]
                self.safety[w][p] = math.ceil(rate * 4) if rate > 0.02 else 0
                if products[p].launch_day == 0:
                    self.ema[w][p] = rate
                    self.on_hand[w][p] = round(rate * (20 if w == 0 else 10)) + self.safety[w][p]
        self.moves = CsvOut(
            manifest,
            "inventory/stock_movements.csv",
            ["movement_id", "moved_at", "warehouse", "sku", "movement_type", "qty", "reference"],
        )
        self.snap_path = manifest.path("inventory/stock_snapshots.csv")
        self.snap = open(self.snap_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.snap.write("snapshot_date,warehouse,sku,on_hand_qty\n")
        self.snap_rows = 0
        self.manifest = manifest
        self.move_no = 0
        self.stockouts = Counter()  # month -> events
        self.stockout_units = Counter()
        self.stockout_skus: Counter = Counter()
        self.stockout_peak_events = 0
        self.cogs = Counter()  # month -> cost of units shipped (fen)
        self.return_cost = Counter()
        self.sold_units = 0

    # ------------------------------------------------------------------ moves
    def _move(self, ts: int, w: int, p: int, kind: str, qty: int, ref: str) -> None:
        self.move_no += 1
        self.moves.row(
            [
                f"MV{self.move_no:09d}",
                cal.fmt(ts),
                catalog.WAREHOUSES[w].code,
                self.products[p].sku,
                kind,
                qty,
                ref,
            ]
        )

    def _schedule(self, day: int, ev: tuple) -> None:
        self.events.setdefault(day, []).append(ev)

    # ------------------------------------------------------------------- day
    def step(self, day: int, demand: dict[int, int], returns: dict[int, int]) -> None:
        """Run one day. ``demand`` and ``returns`` are keyed ``warehouse * P + product``."""
        P, W = self.P, self.W
        on_hand = self.on_hand
        day0 = cal.START_TS + day * 86400
        ds = cal.day_str(day)
        month = ds[:7]
        d = cal.day_date(day)
        # 1. deliveries, production output and transfers arriving today
        for ev in sorted(self.events.pop(day, []), key=lambda e: (e[0], e[1])):
            kind = ev[0]
            if kind == "po":
                _, po_no, line_no, p, qty = ev
                accepted = self.purchasing.receive(day, po_no, line_no, p, qty)
                self.pipeline[p] -= qty
                on_hand[0][p] += accepted
                if accepted:
                    self._move(day0 + 15 * 3600, 0, p, "receipt", accepted, po_no)
            elif kind == "wo":
                _, wo, p, good, scrap = ev
                self.workshop.report(day, wo, good, scrap)
                self.pipeline[p] -= good + scrap
                on_hand[0][p] += good
                if good:
                    self._move(
                        day0 + 18 * 3600, 0, p, "receipt", good, self.workshop.orders[wo]["wo_no"]
                    )
            else:  # transfer in
                _, ref, w, p, qty = ev
                self.transit[w][p] -= qty
                on_hand[w][p] += qty
                self._move(day0 + 14 * 3600, w, p, "transfer", qty, ref)
        # 2. returns and sales (daily posting)
        for key in sorted(returns):
            w, p = divmod(key, P)
            qty = returns[key]
            on_hand[w][p] += qty
            self.return_cost[month] += qty * self.unit_cost[p]
            self._move(day0 + 22 * 3600, w, p, "return", qty, f"RMA-{ds}")
        peak = (d.month == 11 and d.day <= 20) or (d.month == 6 and d.day <= 25)
        for key in sorted(demand):
            w, p = divmod(key, P)
            want = demand[key]
            ship = min(want, on_hand[w][p])
            if want > ship:
                self.stockouts[month] += 1
                self.stockout_units[month] += want - ship
                self.stockout_skus[self.products[p].sku] += 1
                self.stockout_peak_events += peak
            if ship:
                on_hand[w][p] -= ship
                self.sold_units += ship
                self.cogs[month] += ship * self.unit_cost[p]
                self._move(day0 + 22 * 3600, w, p, "sale", -ship, f"SALES-{ds}")
        # 3. the planners' view of demand
        for w in range(W):
            ema = self.ema[w]
            for p in range(P):
                ema[p] += ALPHA * (demand.get(w * P + p, 0) - ema[p])
        for p, prod in enumerate(self.products):
            if prod.launch_day == day and day:
                for w in range(W):  # launch forecast
                    self.ema[w][p] = self.exp[p] * self.shares[w]
        # 4. transfers out of the central warehouse
        if d.weekday() in (0, 3):
            self._transfers(day, day0)
        # 5. reordering for the network
        self._reorder(day, d)
        # 6. month-end cycle count
        if cal.day_date(day + 1).day == 1:
            self._cycle_count(day, day0)
        # 7. snapshot
        rows = []
        for w in range(W):
            wcode = catalog.WAREHOUSES[w].code
            for p in range(P):
                rows.append(f"{ds},{wcode},{self.products[p].sku},{on_hand[w][p]}\n")
        self.snap.write("".join(rows))
        self.snap_rows += len(rows)

    def _transfers(self, day: int, day0: int) -> None:
        P = self.P
        central = self.on_hand[0]
        for w in range(1, self.W):
            ref = f"TR{cal.day_str(day).replace('-', '')}{catalog.WAREHOUSES[w].code}"
            for p in range(P):
                target = self.ema[w][p] * 10 + self.safety[w][p]
                need = math.ceil(target - self.on_hand[w][p] - self.transit[w][p])
                if need < 1:
                    continue
                qty = min(need, central[p] - self.safety[0][p] // 2)
                if qty < 1:
                    continue
                central[p] -= qty
                self.transit[w][p] += qty
                self._move(day0 + 9 * 3600, 0, p, "transfer", -qty, ref)
                self._schedule(day + 2, ("tr", ref, w, p, qty))

    def _reorder(self, day: int, d) -> None:
        promo = (d.month == 10 and d.day >= 5) or (d.month == 5 and d.day >= 20)
        buys: list[tuple[int, int]] = []
        for p, prod in enumerate(self.products):
            if day < prod.launch_day or day > prod.end_day - 20:
                continue
            rate = sum(self.ema[w][p] for w in range(self.W))
            if rate <= 0:
                continue
            if promo:
                rate *= 1.6  # the planners' festival build-up (less than the real peak)
            lead = (
                6 if prod.sourcing == "make" else self.purchasing.suppliers[prod.supplier].lead_days
            )
            position = (
                sum(self.on_hand[w][p] + self.transit[w][p] for w in range(self.W))
                + self.pipeline[p]
            )
            rop = rate * (lead + 7) + sum(self.safety[w][p] for w in range(self.W))
            if position >= rop:
                continue
            qty = max(10, math.ceil(rate * 30 / 10) * 10)
            self.pipeline[p] += qty
            if prod.sourcing == "make":
                for ev_day, wo, good, scrap in self.workshop.place(day, p, qty):
                    self._schedule(ev_day, ("wo", wo, p, good, scrap))
            else:
                buys.append((p, qty))
        if buys:
            for arrival, po_no, line_no, p, qty in self.purchasing.place(day, buys):
                self._schedule(arrival, ("po", po_no, line_no, p, qty))

    def _cycle_count(self, day: int, day0: int) -> None:
        rng = self.rng
        for w in range(self.W):
            for p in range(self.P):
                if self.on_hand[w][p] > 0 and rng.random() < 0.03:
                    adj = max(-self.on_hand[w][p], rng.choice((-3, -2, -1, -1, 1, 2)))
                    self.on_hand[w][p] += adj
                    self._move(
                        day0 + 20 * 3600,
                        w,
                        p,
                        "adjustment",
                        adj,
                        f"CC{cal.day_str(day)[:7].replace('-', '')}",
                    )

    # ----------------------------------------------------------------- files
    def close(self, manifest: Manifest) -> dict:
        self.moves.close()
        self.snap.close()
        manifest.add(
            "inventory/stock_snapshots.csv", "csv", "utf-8", self.snap_rows, frequency=SNAPSHOT
        )
        write_csv(
            manifest,
            "inventory/warehouses.csv",
            ["warehouse", "name", "province", "city", "kind"],
            [[w.code, w.name, w.province, w.city, w.kind] for w in catalog.WAREHOUSES],
        )
        rows = []
        for w in range(self.W):
            for p in range(self.P):
                rows.append([catalog.WAREHOUSES[w].code, self.products[p].sku, self.safety[w][p]])
        write_csv(manifest, "inventory/safety_stock.csv", ["warehouse", "sku", "safety_qty"], rows)
        top = sorted(self.stockout_skus.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        total = sum(self.stockouts.values())
        return {
            "snapshot_frequency": SNAPSHOT,
            "movements": self.moves.rows,
            "snapshots": self.snap_rows,
            "stockout_events": total,
            "stockout_events_by_month": dict(sorted(self.stockouts.items())),
            "stockout_units_by_month": dict(sorted(self.stockout_units.items())),
            "stockout_events_in_festival_windows": self.stockout_peak_events,
            "skus_with_stockouts": len(self.stockout_skus),
            "top_stockout_skus": dict(top),
            "units_shipped_from_stock": self.sold_units,
        }
