"""Read an Excel (.xlsx) or CSV (UTF-8 or GBK) file into record data, row by row.

The first non-empty row is the header: each cell names a field by its name or its label
(zh-CN or English, case and surrounding spaces ignored; a trailing ``*`` marking required
columns is allowed). Every later non-empty row becomes one ``data`` dict for
:func:`apps.ops.forms.validation.validate_data` — the same validation as a single submit.
Empty cells are left out (the field is empty); line items (table fields) may be left out
or given as JSON (a list of row objects). Numbers typed into text columns are taken as
text (``12345``, not ``12345.0``); dates from Excel cells as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from apps.ops.core.errors import (
    ImportColumnsError,
    ImportDuplicateColumnsError,
    ImportEmptyError,
    ImportEncodingError,
    ImportTooManyRowsError,
    ImportUnreadableError,
)
from apps.ops.forms.spec import (
    AttachmentField,
    DateField,
    FormSpec,
    MoneyField,
    NumberField,
    TableField,
)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 2000  # one transaction holds the write lock: ~5-10 ms per row
MAX_COLUMNS = 200
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK/GB2312


@dataclass(frozen=True)
class SheetRow:
    line: int  # row number in the sheet / record number in the CSV (the header is 1 or more)
    cells: list[Any]


@dataclass(frozen=True)
class Sheet:
    header: list[Any]
    rows: list[SheetRow]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(lines: Iterator[tuple[int, list[Any]]], max_rows: int) -> Sheet:
    header: list[Any] | None = None
    rows: list[SheetRow] = []
    for seen, (line, cells) in enumerate(lines, start=1):
        if seen > max_rows * 2 + 100:  # mostly blank lines (a sheet "used" to row 1048576)
            raise ImportTooManyRowsError(limit=max_rows)
        if all(_blank(cell) for cell in cells):
            continue
        if header is None:
            header = list(cells[:MAX_COLUMNS])
            continue
        if len(rows) >= max_rows:
            raise ImportTooManyRowsError(limit=max_rows)
        rows.append(SheetRow(line, list(cells[: len(header)])))
    if header is None:
        raise ImportEmptyError()
    return Sheet(header, rows)


def _xlsx_lines(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ImportUnreadableError(reason=type(exc).__name__) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        for line, values in enumerate(
            sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1
        ):
            yield line, list(values)
    finally:
        workbook.close()


def decode_csv(content: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportEncodingError()


def _csv_lines(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(content)
    if "\x00" in text:
        raise ImportUnreadableError(reason="binary data")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise ImportUnreadableError(reason=str(exc)) from None


def read_sheet(filename: str, content: bytes, max_rows: int = MAX_IMPORT_ROWS) -> Sheet:
    """The header and the non-empty rows of the first worksheet (xlsx) or of the CSV."""
    is_xlsx = filename.lower().endswith(XLSX_SUFFIXES) or content[:4] == b"PK\x03\x04"
    return _table(_xlsx_lines(content) if is_xlsx else _csv_lines(content), max_rows)


# header -> fields ----------------------------------------------------------------------------


def _key(text: Any) -> str:
    return str(text).strip().rstrip("*").strip().casefold()


def header_names(spec: FormSpec) -> dict[str, str]:
    """Accepted header texts (casefolded) -> field name: names and every label."""
    names: dict[str, str] = {}
    for field in spec.fields:
        names.setdefault(_key(field.name), field.name)
        for label in field.label.values():
            names.setdefault(_key(label), field.name)
    return names


def map_columns(spec: FormSpec, header: list[Any], lang: str = "en") -> list[str | None]:
    """The field of each column (None: an empty header cell, ignored); unknown or repeated
    columns are an error that names them."""
    accepted = header_names(spec)
    columns: list[str | None] = []
    unknown: list[str] = []
    for cell in header:
        if _blank(cell):
            columns.append(None)
            continue
        name = accepted.get(_key(cell))
        if name is None:
            unknown.append(str(cell).strip())
        columns.append(name)
    if unknown:
        known = ", ".join(
            f"{f.name} ({f.label.get(lang) or next(iter(f.label.values()))})" for f in spec.fields
        )
        raise ImportColumnsError(columns=", ".join(unknown), known=known)
    seen = [c for c in columns if c is not None]
    repeated = sorted({c for c in seen if seen.count(c) > 1})
    if repeated:
        raise ImportDuplicateColumnsError(columns=", ".join(repeated))
    return columns


# cells -> values -------------------------------------------------------------------------------


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _as_date(field: DateField, value: Any) -> Any:
    if isinstance(value, datetime):
        if field.type == "date":
            return value.date().isoformat()
        return value.isoformat()  # naive: validation asks for a time zone
    if isinstance(value, date):
        return value.isoformat()
    return _as_text(value)


def _as_table(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # validation reports "must be a list of rows"
    try:
        rows = json.loads(value)
    except ValueError:
        return value
    return [rows] if isinstance(rows, dict) else rows


def _as_attachments(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return [int(value)]
    if isinstance(value, str):
        return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    return value


def cell_value(field: Any, value: Any) -> Any:
    """An Excel/CSV cell as the value a JSON client would send for ``field``."""
    if isinstance(value, str):
        value = value.strip()
    if isinstance(field, TableField):
        return _as_table(value)
    if isinstance(field, NumberField | MoneyField):
        return (
            value
            if isinstance(value, int | float) and not isinstance(value, bool)
            else (_as_text(value))
        )
    if isinstance(field, DateField):
        return _as_date(field, value)
    if isinstance(field, AttachmentField):
        return _as_attachments(value)
    return _as_text(value)


def row_data(spec: FormSpec, columns: list[str | None], row: SheetRow) -> dict[str, Any]:
    """The record data of one row (empty cells left out)."""
    data: dict[str, Any] = {}
    for name, value in zip(columns, row.cells, strict=False):
        if name is None or _blank(value):
            continue
        data[name] = cell_value(spec.field(name), value)
    return data
