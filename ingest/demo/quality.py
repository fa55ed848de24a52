"""Quality inspections in one file: IQC of every goods receipt, PQC of every production
report, and a weekly OQC sample of outbound goods per warehouse (Mondays, two SKUs)."""

from __future__ import annotations

import random
from collections import Counter

from . import calendar as cal
from . import catalog
from .catalog import Product
from .writers.common import Manifest, write_csv

COLUMNS = [
    "inspection_id",
    "type",
    "ref_no",
    "sku",
    "inspected_at",
    "lot_qty",
    "sample_size",
    "defect_qty",
    "result",
    "defect_type",
    "inspector",
]


def write_quality(
    manifest: Manifest,
    seed: int,
    products: list[Product],
    iqc: list[dict],
    pqc: list[dict],
    inspectors: list[str],
) -> dict:
    rng = random.Random(f"{seed}:oqc")
    inspectors = inspectors or ["质检"]
    oqc = []
    for day in range(cal.DAYS):
        if cal.day_date(day).weekday() != 0:
            continue
        for w in catalog.WAREHOUSES:
            live = [p for p in products if p.launch_day <= day < p.end_day]
            for p in rng.sample(live, 2):
                lot = rng.randint(20, 200)
                sample = 5 + lot // 40
                defects = 1 if rng.random() < 0.06 else 0
                ts = cal.START_TS + day * 86400 + rng.randrange(9 * 3600, 16 * 3600)
                oqc.append(
                    {
                        "inspection_id": f"OQC{len(oqc) + 1:06d}",
                        "type": "OQC",
                        "ref_no": f"OUT-{w.code}-{cal.day_str(day)}",
                        "sku": p.sku,
                        "inspected_at": cal.fmt(ts),
                        "lot_qty": lot,
                        "sample_size": sample,
                        "defect_qty": defects,
                        "result": "pass",
                        "defect_type": "包装破损" if defects else "",
                        "inspector": inspectors[len(oqc) % len(inspectors)],
                    }
                )
    rows = sorted(iqc + pqc + oqc, key=lambda r: (r["inspected_at"], r["inspection_id"]))
    write_csv(manifest, "quality/inspections.csv", COLUMNS, [[r[c] for c in COLUMNS] for r in rows])
    by_type = Counter(r["type"] for r in rows)
    fails = Counter(r["type"] for r in rows if r["result"] == "fail")
    return {
        "inspections": len(rows),
        "by_type": dict(sorted(by_type.items())),
        "failed_by_type": dict(sorted(fails.items())),
    }
