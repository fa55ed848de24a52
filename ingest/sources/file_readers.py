"""Reading a file into text cells: its native header and its rows, every value a string.

CSV takes a vectorised path: the text is split into lines by Arrow, blank and summary
lines are dropped with Arrow kernels, and each kept line is prefixed with its file index
and line number, so all files of a batch that share a header are parsed by one
``pyarrow.csv`` call and every row still knows its file and physical line. Files whose
quoted values span lines, XLSX and JSON are read row by row into the same shape.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest.core import SourceError
from ingest.files import decode
from ingest.sources.file_spec import FileSpec
from warehouse.loader import Rejected

LSTR = pa.large_string()


@dataclass
class Sheet:
    """One file as strings: the native header and either prefixed CSV lines or a table."""

    index: int
    label: str
    encoding: str
    header: list[str]
    lines: pa.Array | None = None  # CSV fast path: "index,line,<raw csv line>\n"
    table: pa.Table | None = None  # columns _f, _line, c0..cN
    rejected: list[Rejected] = field(default_factory=list)


def cell_columns(width: int) -> list[str]:
    return [f"c{i}" for i in range(width)]


def rows_table(index: int, rows: Sequence[tuple[int, Sequence[str]]], width: int) -> pa.Table:
    """A table of _f, _line, c0..c{width-1} from (line, cells) pairs (cells padded)."""
    cols: dict[str, pa.Array] = {
        "_f": pa.array([index] * len(rows), pa.int32()),
        "_line": pa.array([line for line, _ in rows], pa.int64()),
    }
    for i, name in enumerate(cell_columns(width)):
        cols[name] = pa.array(
            [cells[i] if i < len(cells) else "" for _, cells in rows], pa.string()
        )
    return pa.table(cols)


def _text(data: bytes, label: str, spec: FileSpec) -> tuple[str, str]:
    if spec.encoding == "auto":
        return decode(data, label)
    codec = "utf-8-sig" if spec.encoding == "utf-8" else "gb18030"
    try:
        return data.decode(codec), spec.encoding
    except UnicodeDecodeError as e:
        raise SourceError(
            f"{label}: not valid {spec.encoding} ({e.reason} at byte {e.start})"
        ) from None


def _norm(h: object) -> str:
    return str(h).strip().casefold()


def find_header(rows: Iterable[Sequence[str]], spec: FileSpec, label: str) -> int:
    """0-based index of the header among the first rows (see HeaderSpec)."""
    h = spec.header
    if h.row is not None:
        return h.row - 1
    if h.detect:
        wanted, strict = [{_norm(x)} for x in h.detect], True
    else:  # the first row holding every required column (any of its headers), else row 1
        wanted = [{_norm(x) for x in c.headers} for c in spec.columns if c.required]
        strict = False
    if not wanted:
        return 0
    for i, row in enumerate(rows):
        if i >= h.search_rows:
            break
        cells = {_norm(c) for c in row}
        if all(w & cells for w in wanted):
            return i
    if strict:
        raise SourceError(
            f"{label}: no header row with {', '.join(h.detect)} in the first {h.search_rows} rows"
        )
    return 0


def _skip_prefixes(spec: FileSpec) -> tuple[str, ...]:
    return tuple(p.strip().casefold() for p in spec.skip_rows_starting_with)


def read_csv(index: int, label: str, data: bytes, spec: FileSpec) -> Sheet:
    text, encoding = _text(data, label, spec)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    d = spec.delimiter
    limit = max(spec.header.search_rows, spec.header.row or 0)
    head = text.split("\n", limit)
    at = find_header(csv.reader(head[:limit], delimiter=d), spec, label)
    if at >= len(head):
        raise SourceError(f"{label}: the file has no header row {at + 1}")
    header = next(csv.reader([head[at]], delimiter=d), [])
    rest = text.split("\n", at + 1)
    body = rest[at + 1] if len(rest) > at + 1 else ""
    sheet = Sheet(index, label, encoding, [h.strip() for h in header])
    first_line = at + 2
    if '"' in body and _has_multiline_values(body):
        sheet.table = _csv_rows(sheet, body, first_line, spec)
        return sheet
    lines = pc.split_pattern(pa.array([body], LSTR), "\n").flatten()
    numbers = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), len(lines)))
    numbers = pc.add(numbers, first_line - 1)
    bare = pc.utf8_trim(lines, " \t" + d)
    skip = pc.equal(pc.utf8_length(bare), 0)
    for prefix in _skip_prefixes(spec):
        starts = pc.starts_with(pc.utf8_ltrim(bare, '"'), prefix, ignore_case=True)
        skip = pc.or_(skip, starts)
    keep = pc.invert(skip)
    lines, numbers = lines.filter(keep), numbers.filter(keep)
    sep = pa.scalar(d, LSTR)
    prefixed = pc.binary_join_element_wise(
        pa.scalar(str(index), LSTR), pc.cast(numbers, LSTR), lines, sep
    )
    sheet.lines = pc.binary_join_element_wise(prefixed, pa.scalar("", LSTR), pa.scalar("\n", LSTR))
    return sheet


def _has_multiline_values(body: str) -> bool:
    """A line with an odd number of quotes opens a value that continues on the next line."""
    lines = pc.split_pattern(pa.array([body], LSTR), "\n").flatten()
    odd = pc.bit_wise_and(pc.count_substring(lines, '"'), 1)
    return bool(pc.any(pc.equal(odd, 1)).as_py())


def _csv_rows(sheet: Sheet, body: str, first_line: int, spec: FileSpec) -> pa.Table:
    """The slow, exact path: Python's csv module tracks where each record starts."""
    width = len(sheet.header)
    reader = csv.reader(io.StringIO(body), delimiter=spec.delimiter)
    prefixes = _skip_prefixes(spec)
    rows: list[tuple[int, list[str]]] = []
    end = 0
    for rec in reader:
        line, end = first_line + end, reader.line_num
        if not any(c.strip() for c in rec):
            continue
        if prefixes and rec[0].strip().casefold().startswith(prefixes):
            continue
        if len(rec) != width:
            sheet.rejected.append(_wrong_width(sheet.label, line, len(rec), width, rec))
            continue
        rows.append((line, rec))
    return rows_table(sheet.index, rows, width)


def _wrong_width(label: str, line: int, got: int, width: int, record: object) -> Rejected:
    return Rejected(f"{label}:{line}", f"row has {got} fields, the header has {width}", record)


def parse_lines(
    sheets: Sequence[Sheet], width: int, spec: FileSpec
) -> tuple[pa.Table, list[Rejected]]:
    """Parse the prefixed lines of several files with one header in one pyarrow call."""
    labels = {s.index: s.label for s in sheets}
    rejected: list[Rejected] = []

    def wrong_width(row: pacsv.InvalidRow) -> str:
        f, _, rest = row.text.partition(spec.delimiter)
        line, _, raw = rest.partition(spec.delimiter)
        rejected.append(_wrong_width(labels[int(f)], int(line), row.actual_columns - 2, width, raw))
        return "skip"

    chunks = [s.lines for s in sheets if s.lines is not None and len(s.lines)]
    names = ["_f", "_line", *cell_columns(width)]
    if not chunks:
        return rows_table(0, [], width), rejected
    lines = pa.concat_arrays(chunks)
    offsets = pa.Array.from_buffers(
        pa.int64(), len(lines) + 1, [None, lines.buffers()[1]], offset=lines.offset
    )
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    buffer = lines.buffers()[2].slice(start, end - start)
    types = {n: pa.string() for n in names} | {"_f": pa.int32(), "_line": pa.int64()}
    table = pacsv.read_csv(
        pa.BufferReader(buffer),
        read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
        parse_options=pacsv.ParseOptions(delimiter=spec.delimiter, invalid_row_handler=wrong_width),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, null_values=[""]
        ),
    )
    return table, rejected


def clean(cells: pa.Table, strip_apostrophe: bool) -> pa.Table:
    """Trim every cell, drop Excel's leading apostrophe, and make empty cells NULL."""
    columns = []
    for name in cells.column_names:
        col = cells.column(name)
        if name.startswith("c"):
            col = pc.utf8_trim_whitespace(col.cast(pa.string()))
            if strip_apostrophe:
                marked = pc.starts_with(col, "'")
                if pc.any(marked).as_py():
                    col = pc.if_else(marked, pc.utf8_trim_whitespace(pc.utf8_ltrim(col, "'")), col)
            empty = pc.equal(col, "")
            if pc.any(empty).as_py():
                col = pc.if_else(empty, pa.scalar(None, pa.string()), col)
        columns.append(col)
    return pa.table(columns, names=cells.column_names)


# --- XLSX -------------------------------------------------------------------------------


def cell_text(v: object) -> str:
    """A cell value as the text a user sees: dates ISO, whole floats without '.0'."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime):
        if v.time() == time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date | time):
        return v.isoformat()
    return str(v)


def read_xlsx(index: int, label: str, data: bytes, spec: FileSpec) -> Sheet:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged workbook
        raise SourceError(f"{label}: not a readable .xlsx workbook ({e})") from None
    try:
        if spec.sheet and spec.sheet not in wb.sheetnames:
            raise SourceError(
                f"{label}: no sheet '{spec.sheet}' (sheets: {', '.join(wb.sheetnames)})"
            )
        ws = wb[spec.sheet] if spec.sheet else wb.worksheets[0]
        rows = [[cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    at = find_header(rows, spec, label)
    if at >= len(rows):
        raise SourceError(f"{label}: the sheet has no header row {at + 1}")
    header = [h.strip() for h in rows[at]]
    while header and not header[-1]:
        header.pop()
    sheet = Sheet(index, label, "xlsx", header)
    width = len(header)
    prefixes = _skip_prefixes(spec)
    kept: list[tuple[int, list[str]]] = []
    for n, cells in enumerate(rows[at + 1 :], start=at + 2):
        if not any(c.strip() for c in cells):
            continue
        if prefixes and cells and cells[0].strip().casefold().startswith(prefixes):
            continue
        used = max((i + 1 for i, c in enumerate(cells) if c.strip()), default=0)
        if used > width:
            sheet.rejected.append(_wrong_width(label, n, used, width, cells[:used]))
            continue
        kept.append((n, cells))
    sheet.table = rows_table(index, kept, width)
    return sheet


# --- JSON / JSONL -----------------------------------------------------------------------


def _flat(record: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in record.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v, ensure_ascii=False)
        else:
            out[key] = cell_text(v)
    return out


def read_json(index: int, label: str, data: bytes, spec: FileSpec, lines: bool) -> Sheet:
    text, encoding = _text(data, label, spec)
    records: list[tuple[int, dict[str, str]]] = []
    rejected: list[Rejected] = []
    if lines:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                rejected.append(Rejected(f"{label}:{n}", f"line is not valid JSON ({e.msg})", line))
                continue
            if not isinstance(obj, dict):
                rejected.append(Rejected(f"{label}:{n}", "line is not a JSON object", line))
                continue
            records.append((n, _flat(obj)))
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise SourceError(f"{label}: not valid JSON ({e.msg} at line {e.lineno})") from None
        for key in spec.records.split(".") if spec.records else []:
            if not isinstance(doc, dict) or key not in doc:
                raise SourceError(f"{label}: no '{spec.records}' list in the document")
            doc = doc[key]
        if not isinstance(doc, list):
            raise SourceError(f"{label}: expected a list of records (set records: a.b)")
        for n, obj in enumerate(doc, start=1):
            if isinstance(obj, dict):
                records.append((n, _flat(obj)))
            else:
                rejected.append(Rejected(f"{label}:{n}", "record is not a JSON object", obj))
    header: dict[str, None] = {}
    for _, rec in records:
        header.update(dict.fromkeys(rec))
    names = list(header)
    rows = [(n, [rec.get(h, "") for h in names]) for n, rec in records]
    sheet = Sheet(index, label, encoding, names, rejected=rejected)
    sheet.table = rows_table(index, rows, len(names))
    return sheet


def read_file(index: int, label: str, data: bytes, spec: FileSpec) -> Sheet:
    fmt = spec.resolved_format
    if fmt == "csv":
        return read_csv(index, label, data, spec)
    if fmt == "xlsx":
        return read_xlsx(index, label, data, spec)
    return read_json(index, label, data, spec, lines=fmt == "jsonl")
