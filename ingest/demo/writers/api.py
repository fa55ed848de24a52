"""The shared part of the API-shaped order sources (Tmall, JD, Douyin, Shopify): each
order becomes one JSONL line per version, a few versions are delivered twice, and the
final status of every order is tallied for the truth."""

from __future__ import annotations

import random
from collections import Counter

from ..catalog import Product
from ..customers import People
from ..orders import Order
from .common import Manifest, VersionsJsonl, dumps, phases

DUPLICATE_RATE = 0.006  # share of versions delivered twice (exact same line)
SAMPLE_SIZE = 400  # final statuses listed per channel in the truth


class OrderApiWriter:
    channel = ""
    rel = ""

    def __init__(
        self,
        manifest: Manifest,
        seed: int,
        expected_orders: int,
        products: list[Product],
        people: People,
    ):
        self.out = VersionsJsonl(manifest, self.rel)
        self.rng = random.Random(f"{seed}:duplicates:{self.channel}")
        self.products = products
        self.people = people
        self.every = max(1, expected_orders // SAMPLE_SIZE)
        self.orders = 0
        self.versions = 0
        self.duplicates = 0
        self.updated = 0
        self.final = Counter()
        self.sample: dict[str, str] = {}

    def record(self, o: Order, phase: str, ts: int) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def status_of(self, rec: dict) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def write(self, o: Order) -> None:
        vs = phases(o)
        if not vs:
            return
        status = ""
        for ts, phase in vs:
            rec = self.record(o, phase, ts)
            status = self.status_of(rec)
            copies = 2 if self.rng.random() < DUPLICATE_RATE else 1
            self.duplicates += copies - 1
            self.versions += 1
            self.out.push(ts, dumps(rec), copies)
        self.orders += 1
        if len(vs) > 1:
            self.updated += 1
        self.final[status] += 1
        if o.no % self.every == 0:
            self.sample[o.order_id] = status

    def flush_before(self, ts: int) -> None:
        self.out.flush_before(ts)

    def close(self) -> dict:
        self.out.close()
        return {
            "file": self.rel,
            "records_written": self.out.lines,
            "distinct_versions": self.versions,
            "duplicate_deliveries": self.duplicates,
            "distinct_orders": self.orders,
            "orders_with_updates": self.updated,
            "final_status_counts": dict(sorted(self.final.items())),
            "final_status_sample": self.sample,
        }
