"""What the generator injected, written to ``truth.json`` and returned by ``generate()``.

Tests check a pipeline against these numbers. Money is in yuan (CNY, VAT included),
rounded to 2 decimals (summed exactly in fen first). Months are 'YYYY-MM' in GMT+8.
Channels: tmall, jd, douyin, shopify, pos, manual.

Keys
----
generator
    seed, scale, start/end date of the history (2024-11-01 .. 2026-10-31), timezone,
    and ``revenue_definition``: an order's revenue is its net merchandise value (line
    price × qty − line discount; shipping excluded) if it was paid by the end of the
    window, counted in the month it was *created*; refunds are not subtracted.
files
    Every file written, path relative to the output folder → ``format`` (jsonl, csv,
    xlsx, json), ``encoding`` (utf-8, utf-8-sig, gbk, binary) and ``records``: JSONL
    lines (duplicates included); CSV data rows below the header (malformed rows included;
    POS preamble lines and Summary rows excluded); xlsx rows below the header; for JSON the
    length of the list named in ``list``. POS files also carry ``store``.
orders
    ``created_by_channel``: orders generated per channel (sums to ``scale``);
    ``distinct_orders_by_channel``: distinct order ids a correct pipeline finds in the
    source files (API channels: orders with at least one version written; pos: distinct
    Transaction IDs of valid Payment rows; manual: distinct 订单号 of valid rows);
    ``lines_by_channel``; ``paid_orders_by_channel``;
    ``orders_by_month_channel`` (created orders);
    ``revenue_by_month_channel``: order revenue from *valid rows only* (API channels: every
    paid order; pos: Net Sales of valid Payment rows by their Date; manual: 金额 of valid
    rows by 下单日期); ``revenue_by_channel`` (totals of the same);
    ``refunds_by_month_channel``: refunded order revenue by the month of the refund
    (API: orders whose last version is refunded; pos: valid Refund rows, positive);
    ``malformed_revenue_by_month_channel``: what the garbled POS/Excel rows were worth;
    ``revenue_by_province`` and ``revenue_by_sku`` (master SKU; all channels, all rows).
api_sources
    Per API channel (tmall, jd, douyin, shopify): ``file``, ``records_written`` (lines,
    duplicates included), ``distinct_versions``, ``duplicate_deliveries`` (lines that are an
    exact copy of the line before them in delivery, i.e. records_written −
    distinct_versions), ``distinct_orders``, ``orders_with_updates`` (more than one
    version), ``final_status_counts`` (status of the latest version: Tmall ``status``, JD
    ``orderState``, Douyin ``order_status`` as a string, Shopify
    ``financial_status/fulfillment_status`` with 'unfulfilled' for null) and
    ``final_status_sample`` (order id → final status for every k-th order, ~400 per channel).
pos
    ``stores``: per store name, encoding, files, rows, valid_rows, valid_payment_rows,
    valid_refund_rows, malformed_rows, ``net_sales`` (sum of Net Sales of valid rows,
    refunds negative), distinct_transactions, files_with_preamble_and_summary (list),
    files_with_currency_symbol, files_with_thousands_separator; ``schema_drift``
    (``column``, ``from_date`` — first file date that has it —, files with/without);
    ``malformed``: [{file, line (1-based physical line), reason}]; ``distinct_transactions``.
manual
    file, sheet, rows, valid_rows, distinct_orders, ``malformed``: [{file, sheet, row
    (Excel row number, header is row 1), reason}].
malformed_rows
    Count per source (pos, manual).
duplicates
    Duplicate deliveries per API channel.
customers
    persons_in_pool, persons_with_orders, persons_on_several_channels (same person,
    differently formatted phone per channel), phone_formats (channel → example),
    b2b_accounts.
inventory
    snapshot_frequency ('daily'), movements, snapshots, stockout_events (SKU × warehouse ×
    day with unmet demand) in total/by month, stockout units by month, events inside the
    festival windows (Nov 1–20, Jun 1–25), skus_with_stockouts, top_stockout_skus,
    units_shipped_from_stock.
procurement
    purchase_orders, purchase_order_lines, receipts, ordered amount, and per supplier the
    configured and the realised on-time rate, rejects and price variance vs list.
production
    work_orders (by status), production_reports, output/good/scrap qty, yield (overall and
    by line).
quality
    inspections by type (IQC/PQC/OQC) and failures by type.
crm
    customers, b2b_accounts, b2c_members, leads (by status), opportunities (by status).
hr
    departments, users, users_left, attendance_records (by timeResult), payroll_rows,
    payroll cost by month.
finance
    vouchers, entries, encoding, vat_rate, ``gl_sales_gross_by_month_channel`` (Dr 1122 of
    the monthly sales voucher), ``revenue_tie`` (below), AR (invoices, status counts,
    overdue amount at the end, late-payer accounts seen), AP (invoices, status counts).
    ``revenue_tie``: per channel and month {gl_gross, order_revenue, malformed, difference};
    the documented tolerance is: gl_gross − order_revenue == malformed exactly (0 for the API
    channels; the books hold the sales whose export rows were garbled), which is well under
    1 % of a channel's yearly revenue at the default scale (a single small month can be
    more). 6001.0x × 1.13 equals gl_gross within 0.01 × 1.13 per voucher (VAT rounding).
projects
    projects, tasks, status counts, mean slip of completed projects.
"""

from __future__ import annotations

import json
from pathlib import Path


def write_truth(path: Path, truth: dict) -> None:
    path.write_text(
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8"
    )
