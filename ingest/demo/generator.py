"""`generate()`: build the demo company's source-side data under a folder.

The orders are generated day by day and streamed to their sources; each day's shipments
and returns then drive the stock simulation (which places purchase and work orders).
The remaining systems (CRM, HR, finance, quality, projects) are written afterwards from
what happened. Everything goes to a temporary sibling folder first and is swapped in at the
end, so a crash never leaves half a dataset.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from . import calendar as cal
from . import catalog
from .crm import write_crm
from .customers import People, build_accounts, format_phone
from .finance import write_finance
from .hr import build_org, write_hr
from .inventory import StockNetwork
from .orders import MAX_SCALE, MIN_SCALE, OrderFactory, allocate
from .procurement import Purchasing
from .production import Workshop
from .projects import write_projects
from .quality import write_quality
from .truth import write_truth
from .writers.api import OrderApiWriter
from .writers.common import Manifest, to_yuan, write_csv
from .writers.manual import ManualWriter
from .writers.marketplaces import DouyinWriter, JdWriter, TmallWriter
from .writers.pos import PosWriter
from .writers.shopify import ShopifyWriter

Progress = Callable[[str, int, int], None]
MARKER = ".opslake-demo"
OWNED = (
    "catalog",
    "marketplaces",
    "shopify",
    "pos",
    "manual",
    "inventory",
    "procurement",
    "crm",
    "hr",
    "finance",
    "production",
    "quality",
    "projects",
    "truth.json",
    MARKER,
)
API_WRITERS: dict[str, type[OrderApiWriter]] = {
    "tmall": TmallWriter,
    "jd": JdWriter,
    "douyin": DouyinWriter,
    "shopify": ShopifyWriter,
}


def generate(
    out_dir: Path, scale: int = 50_000, seed: int = 42, progress: Progress | None = None
) -> dict:
    """Write the demo company's source data under ``out_dir`` and return the truth.

    ``scale`` is the number of orders over the two years, all channels together
    (100 … 10,000,000); the same ``seed`` and ``scale`` give byte-identical files.
    ``progress(stage, done, total)`` is called as the stages advance. Whatever this
    function owns in ``out_dir`` (see ``OWNED``) is replaced; other entries are kept.
    The returned dict is also written to ``out_dir/truth.json``; its keys are documented
    in :mod:`ingest.demo.truth`.
    """
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise ValueError(f"scale must be an integer number of orders, got {scale!r}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(
            f"scale must be between {MIN_SCALE:,} and {MAX_SCALE:,} orders, got {scale:,}"
        )
    out_dir = Path(out_dir).resolve()
    report: Progress = progress or (lambda stage, done, total: None)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        truth = _build(tmp, scale, seed, report)
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report("done", 1, 1)
    return truth


def _swap_in(tmp: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        tmp.rename(out_dir)
        return
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if old.exists():
        shutil.rmtree(old)
    entries = {p.name for p in out_dir.iterdir()}
    if entries <= set(OWNED):
        out_dir.rename(old)
        tmp.rename(out_dir)
    else:  # keep what is not ours
        old.mkdir()
        for name in OWNED:
            if (out_dir / name).exists():
                (out_dir / name).rename(old / name)
        for p in tmp.iterdir():
            p.rename(out_dir / p.name)
        tmp.rmdir()
    shutil.rmtree(old, ignore_errors=True)


def _build(root: Path, scale: int, seed: int, report: Progress) -> dict:
    manifest = Manifest(root)
    report("catalog", 0, 1)
    products = catalog.build_products(seed)
    catalog.assign_suppliers(products, seed)
    daily_units = catalog.expected_daily_units(products, scale)
    picker = catalog.ProductPicker(products)
    people = People(scale, seed)
    accounts = build_accounts(scale, seed, people)
    org = build_org(scale, seed)
    _write_catalog(manifest, products)
    report("catalog", 1, 1)

    alloc = allocate(scale)
    channels = list(catalog.CHANNELS)
    factories = {c: OrderFactory(c, seed, products, picker, people, accounts) for c in channels}
    api = {
        c: cls(manifest, seed, sum(alloc[c]), products, people) for c, cls in API_WRITERS.items()
    }
    pos = PosWriter(manifest, seed, products, people)
    manual = ManualWriter(manifest, seed, products, people, org.names_in(6))
    inspectors = org.names_in(13)
    purchasing = Purchasing(seed, products, org.names_in(8), inspectors)
    workshop = Workshop(seed, products, daily_units, org.userids_in(11, 12), inspectors)
    stock = StockNetwork(manifest, seed, products, daily_units, purchasing, workshop)

    P = len(products)
    wh_index = catalog.WAREHOUSE_INDEX
    ship: dict[int, Counter] = defaultdict(Counter)
    back: dict[int, Counter] = defaultdict(Counter)
    sales = {c: Counter() for c in channels}  # true paid revenue by created month (fen)
    refunds = {c: Counter() for c in channels}
    orders_by_month = {c: Counter() for c in channels}
    lines = Counter()
    paid_orders = Counter()
    by_province = Counter()
    by_sku = Counter()
    ar_orders = []
    end = cal.END_TS
    for day in range(cal.DAYS):
        month = cal.day_str(day)[:7]
        for c in channels:
            make = factories[c].make
            for _ in range(alloc[c][day]):
                o = make(day)
                if c in api:
                    api[c].write(o)
                elif c == "pos":
                    pos.add(o)
                else:
                    manual.add(o)
                orders_by_month[c][month] += 1
                lines[c] += len(o.lines)
                w = wh_index[o.warehouse] * P
                if o.paid is not None and o.paid <= end:
                    net = o.net
                    sales[c][month] += net
                    paid_orders[c] += 1
                    by_province[o.province] += net
                    for p, q, price, d in o.lines:
                        by_sku[p] += q * price - d
                if o.refunded is not None and o.refunded <= end:
                    refunds[c][cal.month_of(o.refunded)] += o.net
                shipped_at = o.created if c == "pos" else o.shipped
                if shipped_at is not None and shipped_at <= end:
                    sday = cal.day_of(shipped_at)
                    for p, q, _, _ in o.lines:
                        ship[sday][w + p] += q
                    if o.refunded is not None and o.refunded <= end:
                        rday = cal.day_of(o.refunded)
                        for p, q, _, _ in o.lines:
                            back[rday][w + p] += q
                    elif c == "manual":
                        ar_orders.append((o.order_id, o.account, sday, o.net))
        next_day = cal.START_TS + (day + 1) * 86400
        for wr in api.values():
            wr.flush_before(next_day)
        pos.end_day(day)
        stock.step(day, ship.pop(day, {}), back.pop(day, {}))
        report("orders", day + 1, cal.DAYS)

    api_truth = {c: wr.close() for c, wr in api.items()}
    pos_truth = pos.close()
    manual_truth = manual.close()
    report("inventory", 0, 1)
    inventory_truth = stock.close(manifest)
    procurement_truth = purchasing.write(manifest)
    production_truth = workshop.write(manifest)
    quality_truth = write_quality(
        manifest, seed, products, purchasing.inspections, workshop.inspections, inspectors
    )
    report("inventory", 1, 1)
    report("crm", 0, 1)
    crm_truth = write_crm(manifest, seed, scale, people, accounts, org.names_in(6))
    report("crm", 1, 1)
    hr_truth, payroll = write_hr(manifest, org, seed, report)
    report("hr", cal.DAYS, cal.DAYS)
    report("finance", 0, 1)
    cost = {p.sku: c for p, c in zip(products, stock.unit_cost, strict=True)}
    production_cost = Counter()
    for r in workshop.reports:
        production_cost[cal.day_str(r["day"])[:7]] += r["good"] * cost[r["sku"]]
    finance_truth = write_finance(
        manifest,
        seed,
        sales=sales,
        refunds=refunds,
        cogs=stock.cogs,
        return_cost=stock.return_cost,
        production_cost=production_cost,
        payroll=payroll,
        ar_orders=ar_orders,
        receipts=purchasing.receipts,
        po_prices={(ln["po_no"], ln["line_no"]): ln["unit_price"] for ln in purchasing.lines},
    )
    report("finance", 1, 1)
    report("projects", 0, 1)
    projects_truth = write_projects(
        manifest,
        seed,
        scale,
        [org.user(d.head).name for d in org.depts.values()],
        [u.name for u in org.users],
    )
    report("projects", 1, 1)

    # revenue as a pipeline sees it (valid rows only) and the tie to the books
    valid = {c: sales[c] for c in api}
    valid["pos"] = pos.revenue
    valid["manual"] = manual.revenue
    malformed = {"pos": pos.malformed_net, "manual": manual.malformed_net}
    refunds_seen = {c: refunds[c] for c in api}
    refunds_seen["pos"] = pos.refunds
    refunds_seen["manual"] = refunds["manual"]
    tie = {}
    for c in channels:
        tie[c] = {}
        for m in sorted(sales[c]):
            gl = sales[c][m]
            seen = valid[c].get(m, 0)
            bad = malformed.get(c, Counter()).get(m, 0)
            tie[c][m] = {
                "gl_gross": to_yuan(gl),
                "order_revenue": to_yuan(seen),
                "malformed": to_yuan(bad),
                "difference": to_yuan(gl - seen),
            }
    finance_truth["revenue_tie"] = tie
    distinct = {c: api_truth[c]["distinct_orders"] for c in api}
    distinct["pos"] = pos_truth["distinct_transactions"]
    distinct["manual"] = manual_truth["distinct_orders"]

    def months_yuan(counter: Counter) -> dict:
        return {m: to_yuan(v) for m, v in sorted(counter.items()) if v}

    truth = {
        "generator": {
            "seed": seed,
            "scale": scale,
            "start": cal.START.isoformat(),
            "end": cal.END.isoformat(),
            "timezone": "Asia/Shanghai (GMT+8)",
            "revenue_definition": "net merchandise value (price*qty - line discount, no "
            "shipping) of orders paid by the end of the window, by the month the order was "
            "created; refunds not subtracted",
        },
        "files": dict(sorted(manifest.files.items())),
        "orders": {
            "created_by_channel": {c: sum(alloc[c]) for c in channels},
            "distinct_orders_by_channel": distinct,
            "lines_by_channel": dict(lines),
            "paid_orders_by_channel": {c: paid_orders[c] for c in channels},
            "orders_by_month_channel": {
                c: dict(sorted(orders_by_month[c].items())) for c in channels
            },
            "revenue_by_month_channel": {c: months_yuan(valid[c]) for c in channels},
            "revenue_by_channel": {c: to_yuan(sum(valid[c].values())) for c in channels},
            "refunds_by_month_channel": {c: months_yuan(refunds_seen[c]) for c in channels},
            "malformed_revenue_by_month_channel": {c: months_yuan(v) for c, v in malformed.items()},
            "revenue_by_province": {
                catalog.PROVINCES[i].name: to_yuan(v) for i, v in sorted(by_province.items())
            },
            "revenue_by_sku": {products[p].sku: to_yuan(v) for p, v in sorted(by_sku.items())},
        },
        "api_sources": api_truth,
        "pos": pos_truth,
        "manual": manual_truth,
        "malformed_rows": {
            "pos": len(pos_truth["malformed"]),
            "manual": len(manual_truth["malformed"]),
        },
        "duplicates": {c: t["duplicate_deliveries"] for c, t in api_truth.items()},
        "customers": {
            **people.identity_stats(),
            "phone_formats": {
                s: format_phone("13800138000", s)
                for s in ("tmall", "jd", "douyin", "shopify", "pos", "crm", "manual")
            },
            "b2b_accounts": len(accounts),
        },
        "inventory": inventory_truth,
        "procurement": procurement_truth,
        "production": production_truth,
        "quality": quality_truth,
        "crm": crm_truth,
        "hr": hr_truth,
        "finance": finance_truth,
        "projects": projects_truth,
    }
    (root / MARKER).write_text("generated by ingest.demo.generate\n", encoding="utf-8")
    write_truth(root / "truth.json", truth)
    return truth


def _write_catalog(manifest: Manifest, products: list[catalog.Product]) -> None:
    def day(i: int) -> str:
        return cal.day_str(i) if 0 < i < cal.DAYS else ""

    write_csv(
        manifest,
        "catalog/products.csv",
        [
            "sku",
            "name",
            "category_code",
            "category",
            "spec",
            "color",
            "list_price",
            "standard_cost",
            "sourcing",
            "supplier_code",
            "barcode",
            "launch_date",
            "discontinued_date",
        ],
        [
            [
                p.sku,
                p.name,
                p.category_code,
                p.category,
                p.spec,
                p.color,
                f"{p.price / 100:.2f}",
                f"{p.cost / 100:.2f}",
                p.sourcing,
                p.supplier,
                p.barcode,
                day(p.launch_day),
                day(p.end_day),
            ]
            for p in products
        ],
    )
    rows = []
    for p in products:
        for ch, (pid, sid, code) in p.channel_codes.items():
            rows.append([ch, p.sku, pid, sid, code])
    write_csv(
        manifest,
        "catalog/channel_sku_map.csv",
        ["channel", "master_sku", "channel_product_id", "channel_sku_id", "channel_sku_code"],
        rows,
    )
    write_csv(
        manifest,
        "catalog/stores.csv",
        ["store_code", "name", "province", "city", "warehouse", "pos_export_encoding", "opened_on"],
        [
            [s.code, s.name, s.province, s.city, s.warehouse, s.encoding, cal.day_str(s.opened)]
            for s in catalog.STORES
        ],
    )
