"""POS stores: daily sales CSV files dropped into a folder, one row per line item.

Each file lands exactly once (its content hash is its identity), so a file sent again,
even under another name, adds nothing. Exports are UTF-8 or GBK, may carry a preamble
and a "Summary" row, money with "¥" and thousands separators, refunds as negative
rows, and from some date on an extra column (kept: schema evolution).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from ingest.core import SourceError, batch_id
from ingest.files import content_id, decode
from warehouse.loader import Batch, Rejected

# header in the export -> column in raw; the required ones reject a file when missing
COLUMNS = {
    "Date": "sales_date",
    "Time": "sales_time",
    "Store": "store_code",
    "Terminal": "terminal",
    "Transaction ID": "transaction_id",
    "SKU": "sku",
    "Item": "item_name",
    "Qty": "quantity",
    "Price": "unit_price",
    "Gross Sales": "gross_sales",
    "Discounts": "discounts",
    "Net Sales": "net_sales",
    "Event Type": "event_type",
    "Payment Method": "payment_method",
    "Customer Phone": "customer_phone",
}
REQUIRED = ("Date", "Store", "Transaction ID", "SKU", "Qty", "Net Sales")
SUMMARY_PREFIXES = ("summary", "合计", "总计")

SCHEMA = pa.schema(
    [
        ("sales_date", pa.date32()),
        ("sales_time", pa.string()),
        ("store_code", pa.string()),
        ("terminal", pa.string()),
        ("transaction_id", pa.string()),
        ("sku", pa.string()),
        ("item_name", pa.string()),
        ("quantity", pa.int64()),
        ("unit_price", pa.decimal128(18, 2)),
        ("gross_sales", pa.decimal128(18, 2)),
        ("discounts", pa.decimal128(18, 2)),
        ("net_sales", pa.decimal128(18, 2)),
        ("event_type", pa.string()),
        ("payment_method", pa.string()),
        ("customer_phone", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("source_encoding", pa.string()),
    ]
)


def snake(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_") or "column"


@dataclass
class ParsedFile:
    rows: pa.Table
    rejected: list[Rejected]


def _money(col: str) -> str:
    cleaned = f"regexp_replace(trim(\"{col}\"), '[¥￥,\\s'']', '', 'g')"
    return f"TRY_CAST({cleaned} AS DECIMAL(18,2))"


def parse_text(text: str, name: str, encoding: str) -> ParsedFile:
    """Parse one export into typed rows and rejected rows (vectorised in DuckDB)."""
    lines = text.splitlines()
    header_at = next(
        (i for i, line in enumerate(lines) if "Transaction ID" in line and "SKU" in line), None
    )
    if header_at is None:
        raise SourceError(f"{name}: no header row with 'Transaction ID' and 'SKU' found")
    header = [h.strip() for h in next(csv.reader([lines[header_at]]))]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise SourceError(f"{name}: missing required column(s) {', '.join(missing)}")
    body = ["_line," + lines[header_at]]
    for i in range(header_at + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().lower().startswith(SUMMARY_PREFIXES):
            continue
        body.append(f"{i + 1},{line}")
    names = ["_line"] + [COLUMNS.get(h, snake(h)) for h in header]
    rejected: list[Rejected] = []

    def wrong_width(row: pacsv.InvalidRow) -> str:
        line, _, text = row.text.partition(",")
        rejected.append(
            Rejected(
                f"{name}:{line}",
                f"row has {row.actual_columns - 1} fields, the header has {len(header)}",
                text,
            )
        )
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO("\n".join(body).encode()),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(invalid_row_handler=wrong_width),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )
    extra = [n for n in names if n not in SCHEMA.names and n != "_line"]
    con = duckdb.connect()
    con.register("src", table)
    typed = con.sql(
        f"""
        SELECT
            COALESCE(CAST(try_strptime(trim(sales_date), ['%Y-%m-%d', '%Y/%m/%d']) AS DATE), NULL)
                AS sales_date,
            {"NULLIF(trim(sales_time), '')" if "sales_time" in names else "NULL"} AS sales_time,
            NULLIF(trim(store_code), '') AS store_code,
            {"NULLIF(trim(terminal), '')" if "terminal" in names else "NULL"} AS terminal,
            NULLIF(trim(transaction_id), '') AS transaction_id,
            NULLIF(ltrim(trim(sku), ''''), '') AS sku,
            {"NULLIF(trim(item_name), '')" if "item_name" in names else "NULL"} AS item_name,
            TRY_CAST(regexp_replace(trim(quantity), '[,\\s]', '', 'g') AS BIGINT) AS quantity,
            {_money("unit_price") if "unit_price" in names else "NULL"} AS unit_price,
            {_money("gross_sales") if "gross_sales" in names else "NULL"} AS gross_sales,
            {_money("discounts") if "discounts" in names else "NULL"} AS discounts,
            {_money("net_sales")} AS net_sales,
            {"NULLIF(trim(event_type), '')" if "event_type" in names else "NULL"} AS event_type,
            {"NULLIF(trim(payment_method), '')" if "payment_method" in names else "NULL"}
                AS payment_method,
            {"NULLIF(trim(customer_phone), '')" if "customer_phone" in names else "NULL"}
                AS customer_phone,
            '{name.replace("'", "''")}' AS source_file,
            CAST(_line AS BIGINT) AS source_line,
            '{encoding}' AS source_encoding,
            {"".join(f'NULLIF(trim("{c}"), {chr(39)}{chr(39)}) AS "{c}", ' for c in extra)}
            concat_ws('; ',
                CASE WHEN CAST(try_strptime(trim(sales_date), ['%Y-%m-%d', '%Y/%m/%d']) AS DATE)
                     IS NULL THEN 'Date ''' || sales_date || ''' is not a date' END,
                CASE WHEN NULLIF(trim(transaction_id), '') IS NULL
                     THEN 'Transaction ID is empty' END,
                CASE WHEN NULLIF(trim(sku), '') IS NULL THEN 'SKU is empty' END,
                CASE WHEN TRY_CAST(regexp_replace(trim(quantity), '[,\\s]', '', 'g') AS BIGINT)
                     IS NULL THEN 'Qty ''' || quantity || ''' is not a whole number' END,
                CASE WHEN {_money("net_sales")} IS NULL
                     THEN 'Net Sales ''' || net_sales || ''' is not an amount' END
            ) AS _reason
        FROM src
        """
    ).arrow()
    if not isinstance(typed, pa.Table):
        typed = typed.read_all()
    con.close()
    reasons = typed.column("_reason").to_pylist()
    bad = [i for i, r in enumerate(reasons) if r]
    if bad:
        for i, row in zip(bad, table.take(bad).to_pylist(), strict=True):
            rejected.append(Rejected(f"{name}:{row['_line']}", reasons[i], row))
        good = pa.array([not r for r in reasons])
        typed = typed.filter(good)
    typed = typed.drop_columns(["_reason"])
    columns = [typed.column(n).cast(SCHEMA.field(n).type) for n in SCHEMA.names]
    out = pa.Table.from_arrays(columns, schema=SCHEMA)
    for c in extra:
        out = out.append_column(c, typed.column(c).cast(pa.string()))
    return ParsedFile(out, rejected)


@dataclass
class PosSalesStream:
    """Every ``*.csv`` below ``folder``; files land in batches of ``files_per_batch``."""

    folder: Path
    files_per_batch: int = 200
    name: str = "pos_sales_lines"
    source: str = "pos"
    primary_key: tuple[str, ...] = ("transaction_id", "sku", "source_line")
    cursor_field: str | None = None
    schema: pa.Schema = SCHEMA

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            raise SourceError(f"POS folder {self.folder} does not exist")
        return sorted(self.folder.rglob("*.csv"))

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        pending: list[tuple[str, Path, bytes]] = []
        seen = set(landed_parts)
        for path in self.files():
            data = path.read_bytes()
            cid = content_id(data)
            if cid in seen:
                continue
            seen.add(cid)
            pending.append((cid, path, data))
        for start in range(0, len(pending), self.files_per_batch):
            chunk = pending[start : start + self.files_per_batch]
            yield self._batch(chunk)

    def _batch(self, chunk: list[tuple[str, Path, bytes]]) -> Batch:
        tables: list[pa.Table] = []
        rejected: list[Rejected] = []
        for _, path, data in chunk:
            label = str(path.relative_to(self.folder))
            try:
                text, encoding = decode(data, label)
                parsed = parse_text(text, label, encoding)
            except SourceError as exc:
                # the whole file is refused and kept in quarantine; nothing of it lands
                rejected.append(Rejected(label, str(exc), None))
                continue
            tables.append(parsed.rows)
            rejected.extend(parsed.rejected)
        rows = (
            pa.concat_tables(tables, promote_options="default") if tables else SCHEMA.empty_table()
        )
        return Batch(
            stream=self.name,
            batch_id=batch_id(self.name, *(cid for cid, _, _ in chunk)),
            source=self.source,
            rows=rows,
            rejected=rejected,
            parts=[(cid, str(path.relative_to(self.folder))) for cid, path, _ in chunk],
        )


STREAMS = {"pos_sales_lines": ("pos", lambda s: PosSalesStream(s.pos_inbox))}
