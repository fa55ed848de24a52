"""Form definitions → what the templates draw, and posted HTML form data → record data.

One :class:`FieldView` per field; line items (``table``) carry one list of cell views per
row. Input names of line items are ``items[0].quantity``; their element ids
``field-items-0-quantity`` (the server's error keys ``items[0].quantity`` map to them with
:func:`input_id`). The browser gets the constraints it can check itself (required,
min/max, pattern, maxlength) as hints; the server validates everything again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from starlette.datastructures import FormData

from apps.ops.core.i18n import localize
from apps.ops.forms.spec import (
    AttachmentField,
    DateField,
    DepartmentField,
    FormSpec,
    FormulaField,
    MoneyField,
    MultiSelectField,
    NumberField,
    ReferenceField,
    SelectField,
    TableField,
    TextField,
    UserField,
)

_ROW_KEY = re.compile(
    r"^(?P<table>[a-z][a-z0-9_]*)\[(?P<index>\d{1,4})\]\.(?P<name>[a-z][a-z0-9_]*)$"
)
Choices = Callable[[Any], list[tuple[str, str]]]  # field -> [(value, label)]


def input_id(key: str) -> str:
    """``items[2].quantity`` → ``field-items-2-quantity``; ``sku`` → ``field-sku``."""
    return "field-" + re.sub(r"[\[\].]+", "-", key).strip("-")


@dataclass
class FieldView:
    """What the template needs to draw one input."""

    name: str  # the input's name (``items[0].sku`` inside line items)
    kind: str  # text textarea number money select multi_select date datetime formula table
    label: str
    help: str
    required: bool
    value: Any
    error: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    integer: bool = False
    min: float | None = None
    max: float | None = None
    step: str = "any"
    columns: list[FieldView] = field(default_factory=list)  # table: the header cells
    rows: list[list[FieldView]] = field(default_factory=list)  # table: cells per row
    template_row: list[FieldView] = field(default_factory=list)  # table: an empty row

    @property
    def input_id(self) -> str:
        return input_id(self.name)

    @property
    def described_by(self) -> str:
        ids = [
            f"{self.input_id}-help" if self.help else "",
            f"{self.input_id}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)

    @property
    def html_pattern(self) -> str | None:
        """The pattern as the browser's ``pattern`` attribute wants it (implicitly anchored)."""
        if not self.pattern:
            return None
        return self.pattern.removeprefix("^").removesuffix("$")

    @property
    def values(self) -> list[str]:
        """Selected values of a multi-select."""
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [v.strip() for v in str(self.value or "").split(",") if v.strip()]


def _text_value(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list):
        return ", ".join(str(v) for v in raw)
    return str(raw)


def field_view(
    f: Any,
    lang: str,
    raw: Any,
    errors: Mapping[str, str],
    choices: Choices,
    key: str | None = None,
) -> FieldView:
    key = key or f.name
    view = FieldView(
        name=key,
        kind="text",
        label=localize(f.label, lang),
        help=localize(f.help, lang),
        required=bool(f.required),
        value=raw if isinstance(f, MultiSelectField | TableField) else _text_value(raw),
        error=errors.get(key),
    )
    if isinstance(f, TextField):
        view.kind = "textarea" if f.multiline else "text"
        view.max_length, view.min_length, view.pattern = f.max_length, f.min_length, f.pattern
    elif isinstance(f, NumberField):
        view.kind, view.integer, view.min, view.max = "number", f.integer, f.min, f.max
        view.step = "1" if f.integer else "any"
    elif isinstance(f, MoneyField):
        view.kind, view.min, view.max = "money", f.min, f.max
        view.step = str(10**-f.scale) if f.scale else "1"
    elif isinstance(f, SelectField):  # also MultiSelectField
        view.kind = "multi_select" if isinstance(f, MultiSelectField) else "select"
        view.options = [(o.value, localize(o.label, lang)) for o in f.options]
    elif isinstance(f, DateField):
        view.kind = f.type
        if f.type == "datetime" and view.value:
            view.value = view.value[:16]
    elif isinstance(f, UserField | DepartmentField | ReferenceField):
        view.options = choices(f)
        view.kind = "select" if view.options or not isinstance(f, ReferenceField) else "text"
    elif isinstance(f, AttachmentField):
        view.kind = "attachment"
    elif isinstance(f, FormulaField):
        view.kind = "formula"
    elif isinstance(f, TableField):
        view.kind = "table"
        rows = raw if isinstance(raw, list) else []
        view.columns = [field_view(c, lang, None, {}, choices) for c in f.fields]
        view.rows = [
            [
                field_view(c, lang, row.get(c.name), errors, choices, f"{key}[{i}].{c.name}")
                for c in f.fields
            ]
            for i, row in enumerate(rows)
            if isinstance(row, Mapping)
        ]
        if not view.rows:  # start with one empty row to fill in
            view.rows = [
                [field_view(c, lang, None, {}, choices, f"{key}[0].{c.name}") for c in f.fields]
            ]
        view.template_row = [
            field_view(c, lang, None, {}, choices, f"{key}[__i__].{c.name}") for c in f.fields
        ]
    return view


def field_views(
    spec: FormSpec,
    lang: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    choices: Choices | None = None,
) -> list[FieldView]:
    pick = choices or (lambda f: [])
    return [field_view(f, lang, values.get(f.name), errors, pick) for f in spec.fields]


def _scalar(f: Any, form: FormData, key: str, zone: tzinfo) -> Any:
    if isinstance(f, MultiSelectField):
        picked = [v for v in form.getlist(key) if isinstance(v, str) and v]
        return picked or None
    value = form.get(key)
    if not isinstance(value, str):
        return None
    if isinstance(f, AttachmentField):
        ids = [part.strip() for part in value.split(",") if part.strip()]
        return ids or None
    if isinstance(f, DateField) and f.type == "datetime" and value.strip():
        # <input type=datetime-local> sends no zone: the time is the company's local time
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return value
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()
    return value


def parse_form(spec: FormSpec, form: FormData, zone: tzinfo = UTC) -> dict[str, Any]:
    """The record data of a posted form: only the form's own fields; empty line-item
    rows (every cell blank) are dropped; multi-selects become lists."""
    tables: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in form.multi_items():
        match = _ROW_KEY.match(key)
        if match and isinstance(value, str):
            rows = tables.setdefault(match["table"], {})
            rows.setdefault(int(match["index"]), {})[match["name"]] = value
    data: dict[str, Any] = {}
    for f in spec.fields:
        if isinstance(f, FormulaField):
            continue
        if isinstance(f, TableField):
            rows = tables.get(f.name, {})
            data[f.name] = [
                {c.name: rows[i].get(c.name) for c in f.fields if not isinstance(c, FormulaField)}
                for i in sorted(rows)
                if any(v.strip() for v in rows[i].values())
            ]
            continue
        data[f.name] = _scalar(f, form, f.name, zone)
    return data


def display_value(f: Any, value: Any, lang: str, names: Mapping[str, str]) -> str:
    """A stored value as text: option labels, user/record names, lists joined."""
    if value is None or value == []:
        return ""
    if isinstance(f, SelectField):
        values = value if isinstance(value, list) else [value]
        return ", ".join(localize(f.option_label(v), lang) or str(v) for v in values)
    if isinstance(f, UserField | ReferenceField) and str(value) in names:
        return names[str(value)]
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class DisplayRow:
    label: str
    value: str
    table: list[list[str]] | None = None  # line items: header row, then one row per item


def display_rows(
    spec: FormSpec, data: Mapping[str, Any], lang: str, names: Mapping[str, str]
) -> list[DisplayRow]:
    out = []
    for f in spec.fields:
        value = data.get(f.name)
        if isinstance(f, TableField):
            header = [localize(c.label, lang) for c in f.fields]
            body = [
                [display_value(c, row.get(c.name), lang, names) for c in f.fields]
                for row in value or []
                if isinstance(row, Mapping)
            ]
            out.append(DisplayRow(localize(f.label, lang), "", [header, *body]))
        else:
            out.append(DisplayRow(localize(f.label, lang), display_value(f, value, lang, names)))
    return out
