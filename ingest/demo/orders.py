"""Orders of every channel: how many per day, what is in the basket, and what happens to
each order afterwards (paid, shipped, finished, refunded, or closed unpaid).

An order is channel-neutral here; the writers turn it into each source's native payload.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass

from . import calendar as cal
from . import catalog
from .catalog import CHANNELS, Product, ProductPicker
from .customers import Account, People

MIN_SCALE = 100
MAX_SCALE = 10_000_000


@dataclass(slots=True)
class Order:
    channel: str
    no: int  # 1-based sequence within the channel, in creation order
    order_id: str
    created: int  # local seconds
    paid: int | None
    shipped: int | None
    finished: int | None
    refunded: int | None  # full refund (return or cancellation after payment)
    closed: int | None  # closed without payment
    person: int | None
    province: int
    city: str
    lines: list[list[int]]  # [product idx, qty, unit price fen, line discount fen]
    post_fee: int
    warehouse: str
    store: str | None = None
    account: Account | None = None

    @property
    def goods(self) -> int:
        return sum(q * p for _, q, p, _ in self.lines)

    @property
    def discount(self) -> int:
        return sum(d for *_, d in self.lines)

    @property
    def net(self) -> int:
        """What the goods sold for after discounts, shipping excluded (the revenue)."""
        return sum(q * p - d for _, q, p, d in self.lines)


def allocate(scale: int) -> dict[str, list[int]]:
    """Orders per channel per day: exactly ``scale`` orders in all, shares per channel
    (largest remainder), days weighted by the channel's seasonality."""
    shares = {c: ch.share * scale for c, ch in CHANNELS.items()}
    per_channel = _largest_remainder(shares, scale)
    out: dict[str, list[int]] = {}
    for code, n in per_channel.items():
        weights = [cal.day_weight(i, code) for i in range(cal.DAYS)]
        if code == "pos":
            # only days with an open store sell
            weights = [
                w * sum(s.weight for s in catalog.STORES if s.opened <= i)
                for i, w in enumerate(weights)
            ]
        total = sum(weights)
        # systematic rounding of the cumulative expectation: exact total, and days keep
        # their proportions even when a day expects less than one order
        days = []
        cum = 0.0
        prev = 0
        for w in weights:
            cum += n * w / total
            now = int(cum + 0.5)
            days.append(now - prev)
            prev = now
        days[-1] += n - prev
        out[code] = days
    return out


def _largest_remainder(raw: dict, total: int) -> dict:
    base = {k: int(v) for k, v in raw.items()}
    left = total - sum(base.values())
    order = sorted(raw, key=lambda k: (-(raw[k] - base[k]), str(k)))
    for k in order[:left]:
        base[k] += 1
    return base


def _hour_table(name: str) -> list[float]:
    return cal.cumulative(
        {
            "online": cal.HOURS_ONLINE,
            "festival": cal.HOURS_FESTIVAL,
            "pos": cal.HOURS_POS,
            "b2b": cal.HOURS_B2B,
        }[name]
    )


class OrderFactory:
    """Makes the orders of one channel, day by day, deterministically for a seed."""

    def __init__(
        self,
        channel: str,
        seed: int,
        products: list[Product],
        picker: ProductPicker,
        people: People,
        accounts: list[Account],
    ):
        self.ch = CHANNELS[channel]
        self.code = channel
        self.rng = random.Random(f"{seed}:orders:{channel}")
        self.products = products
        self.picker = picker
        self.people = people
        self.accounts = accounts
        self.no = 0
        self.hours = _hour_table(self.ch.hours)
        self.festival_hours = _hour_table("festival")
        self.line_id = 0
        self.prices = [
            max(90, int(p.price * self.ch.price / 100 + 0.5) * 100 - 10) for p in products
        ]
        self._pos_seq: dict[tuple[str, int], int] = {}
        self._acc_cum: list[float] = []

    # ------------------------------------------------------------------ helpers
    def _time(self, day: int) -> int:
        rng = self.rng
        table = self.hours
        if self.ch.hours == "online" and cal.is_festival_peak(day):
            table = self.festival_hours
        hour = bisect_right(table, rng.random() * table[-1])
        return cal.START_TS + day * 86400 + hour * 3600 + rng.randrange(3600)

    def _n_lines(self) -> int:
        p = 1.0 - 1.0 / self.ch.basket
        n = 1
        cap = 30 if self.code == "manual" else 12
        while n < cap and self.rng.random() < p:
            n += 1
        return n

    def _qty(self) -> int:
        r = self.rng.random()
        if self.code == "manual":
            return self.rng.choice(catalog.B2B_QTY)
        if r < 0.80:
            return 1
        if r < 0.95:
            return 2
        return self.rng.randint(3, 5)

    def _discount_depth(self, day: int) -> float:
        d = cal.day_date(day)
        extra = 0.0
        if d.month == 11 and d.day <= 12 or d.month == 10 and d.day >= 20:
            extra = 0.10
        elif d.month == 6 and d.day <= 18:
            extra = 0.08
        elif d.month == 12 and d.day == 12:
            extra = 0.06
        if self.code in ("pos", "manual"):
            extra *= 0.2
        return self.ch.discount + extra

    def _lines(self, day: int) -> list[list[int]]:
        rng = self.rng
        month = cal.day_str(day)[:7]
        narrow = self.code == "douyin"
        n = self._n_lines()
        chosen: list[int] = []
        for _ in range(n * 3):
            p = self.picker.pick(rng, month, narrow)
            if p not in chosen:
                chosen.append(p)
                if len(chosen) == n:
                    break
        depth = self._discount_depth(day)
        lines = []
        for p in chosen:
            qty = self._qty()
            price = self.prices[p]
            if rng.random() < 0.3:
                disc = 0
            else:
                share = min(0.5, depth * rng.uniform(0.3, 1.7))
                disc = int(price * qty * share / 100) * 100  # whole yuan
            lines.append([p, qty, price, disc])
        return lines

    # -------------------------------------------------------------------- order
    def make(self, day: int) -> Order:
        rng = self.rng
        self.no += 1
        no = self.no
        code = self.code
        created = self._time(day)
        lines = self._lines(day)
        store = None
        account = None
        person: int | None
        if code == "pos":
            store = self._store(day)
            person = self.people.pick_local(rng, store.province) if rng.random() < 0.38 else None
            prov = catalog.PROVINCE_INDEX[store.province]
            city = store.city
            warehouse = store.warehouse
        elif code == "manual":
            account = self._account(day)
            person = account.contact
            prov = catalog.PROVINCE_INDEX[account.province]
            city = account.city
            warehouse = "WH01"
        else:
            person = self.people.pick(rng, code)
            prov = self.people.province[person]
            city = self.people.city_of(person)
            warehouse = catalog.PROVINCES[prov].warehouse
        net = sum(q * p - d for _, q, p, d in lines)
        post_fee = 0
        if code in ("tmall", "jd", "douyin") and net < 4900:
            post_fee = 600
        elif code == "shopify" and net < 9900:
            post_fee = 1000

        paid = shipped = finished = refunded = closed = None
        if rng.random() < self.ch.unpaid_rate:
            closed = created + rng.randrange(1800, 72 * 3600)
        elif code == "pos":
            paid = created
            if rng.random() < self.ch.return_rate:
                refunded = self._store_time(day + rng.randint(1, 10))
        else:
            paid = created + (0 if code == "manual" else rng.randrange(5, 1800))
            ship = self._ship_delay(day)
            returned = rng.random() < self.ch.return_rate * (
                1.3 if cal.is_festival_peak(day) else 1
            )
            if returned and rng.random() < 0.3:
                refunded = paid + rng.randrange(600, max(1200, ship))
            else:
                shipped = paid + ship
                if returned:
                    refunded = shipped + rng.randrange(3 * 86400, 14 * 86400)
                else:
                    finished = shipped + rng.randrange(3 * 86400, 10 * 86400)
        order_id = self._order_id(code, no, day, store)
        return Order(
            code,
            no,
            order_id,
            created,
            paid,
            shipped,
            finished,
            refunded,
            closed,
            person,
            prov,
            city,
            lines,
            post_fee,
            warehouse,
            store.code if store else None,
            account,
        )

    def _ship_delay(self, day: int) -> int:
        rng = self.rng
        if self.code == "jd":
            delay = rng.randrange(2 * 3600, 26 * 3600)
        elif self.code == "manual":
            delay = rng.randrange(1 * 86400, 5 * 86400)
        else:
            delay = rng.randrange(6 * 3600, 60 * 3600)
        d = cal.day_date(day)
        if (d.month, d.day) in ((11, 11), (11, 12), (6, 18), (6, 19)):
            delay += rng.randrange(86400, 4 * 86400)  # warehouse backlog after the peak
        sf = cal.SPRING_FESTIVAL.get(d.year)
        if sf is not None and -3 <= (d - sf).days <= 6:
            delay += (7 - (d - sf).days) * 86400  # couriers resume on day 7
        return delay

    def _store(self, day: int) -> catalog.Store:
        open_ = [s for s in catalog.STORES if s.opened <= day]
        total = sum(s.weight for s in open_)
        r = self.rng.random() * total
        for s in open_:
            r -= s.weight
            if r < 0:
                return s
        return open_[-1]

    def _store_time(self, day: int) -> int:
        return cal.START_TS + day * 86400 + self.rng.randrange(10 * 3600, 21 * 3600)

    def _account(self, day: int) -> Account:
        live = [a for a in self.accounts if a.created_day <= day] or self.accounts[:1]
        total = sum(a.weight for a in live)
        r = self.rng.random() * total
        for a in live:
            r -= a.weight
            if r < 0:
                return a
        return live[-1]

    def _order_id(self, code: str, no: int, day: int, store: catalog.Store | None) -> str:
        r = self.rng.randrange
        if code == "tmall":
            return str(3_200_000_000_000_000_000 + no * 1_000_003 + r(1000))
        if code == "jd":
            return str(310_000_000_000 + no * 37 + r(30))
        if code == "douyin":
            return str(6_920_000_000_000_000_000 + no * 10_007 + r(9000))
        if code == "shopify":
            return str(5_600_000_000_000 + no * 997 + r(900))
        if code == "pos":
            assert store is not None
            key = (store.code, day)
            seq = self._pos_seq.get(key, 0) + 1
            self._pos_seq[key] = seq
            ymd = cal.day_str(day).replace("-", "")[2:]
            return f"{store.code}-{ymd}-{seq:04d}"
        return f"MO{cal.day_str(day)[:4]}{no:06d}"
