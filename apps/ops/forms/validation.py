"""Server-side validation of record data against a form definition.

``validate_data(spec, data, lookups=...)`` returns the cleaned data (every field of the
form, ``None`` where an optional field is empty or hidden) or raises
:class:`FormValidationError` with one :class:`FieldError` per bad field (line items:
``items[2].quantity``). Steps: type checks (one checker per field type, in ``CHECKERS``),
formulas, visibility, required/required_if, cross-field checks, then the checks that need
the database (unique, references, users, departments, attachments) through ``lookups``.
Values may arrive as JSON types (API) or as strings (HTML forms, CSV); both are accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.ops.core.errors import FieldError, FormValidationError
from apps.ops.core.expressions import ExpressionError, evaluate, numeric
from apps.ops.forms.lookups import Lookups
from apps.ops.forms.spec import (
    MAX_SAFE_INTEGER,
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

_EMPTY = object()


class _Invalid(Exception):
    def __init__(self, error: FieldError) -> None:
        self.error = error


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_text(field: TextField, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(FieldError("field.not_text"))
    value = value.strip()
    if field.min_length is not None and len(value) < field.min_length:
        raise _Invalid(FieldError("field.too_short", min_length=field.min_length))
    if len(value) > field.max_length:
        raise _Invalid(FieldError("field.too_long", max_length=field.max_length))
    if field.pattern is not None and re.search(field.pattern, value) is None:
        if field.pattern_message:
            raise _Invalid(FieldError("field.pattern", message=field.pattern_message))
        raise _Invalid(FieldError("field.pattern"))
    return value


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_number(field: NumberField, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(FieldError("field.not_number"))
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise _Invalid(FieldError("field.not_number")) from None
    if not number.is_finite():
        raise _Invalid(FieldError("field.not_number"))
    if field.integer and number != number.to_integral_value():
        raise _Invalid(FieldError("field.not_integer"))
    if abs(number) > MAX_SAFE_INTEGER:
        raise _Invalid(FieldError("field.too_large", max=MAX_SAFE_INTEGER))
    result: int | float = int(number) if field.integer else float(number)
    if not field.integer and not math.isfinite(result):
        raise _Invalid(FieldError("field.not_number"))
    if field.nonzero and result == 0:
        raise _Invalid(FieldError("field.zero"))
    if field.min is not None and result < field.min:
        raise _Invalid(FieldError("field.too_small", min=_format_number(field.min)))
    if field.max is not None and result > field.max:
        raise _Invalid(FieldError("field.too_large", max=_format_number(field.max)))
    return result


def check_select(field: SelectField, value: Any) -> str:
    allowed = [option.value for option in field.options]
    if isinstance(value, str) and value.strip() in allowed:
        return value.strip()
    raise _Invalid(FieldError("field.invalid_choice", choices=", ".join(allowed)))


def check_multi_select(field: MultiSelectField, value: Any) -> list[str]:
    allowed = [option.value for option in field.options]
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v in allowed for v in items):
        raise _Invalid(FieldError("field.invalid_choice", choices=", ".join(allowed)))
    items = list(dict.fromkeys(items))
    if field.min_items is not None and len(items) < field.min_items:
        raise _Invalid(FieldError("field.too_few", min=field.min_items))
    if field.max_items is not None and len(items) > field.max_items:
        raise _Invalid(FieldError("field.too_many", max=field.max_items))
    return items


def to_money(value: Any, scale: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _Invalid(FieldError("field.not_number"))
    try:
        amount = Decimal(value.strip().replace(",", "") if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        raise _Invalid(FieldError("field.not_number")) from None
    if not amount.is_finite() or abs(amount) > MAX_SAFE_INTEGER:
        raise _Invalid(FieldError("field.not_number"))
    quantum = Decimal(1).scaleb(-scale)
    if amount != amount.quantize(quantum):
        raise _Invalid(FieldError("field.too_precise", scale=scale))
    return amount.quantize(quantum)


def check_money(field: MoneyField, value: Any) -> str:
    amount = to_money(value, field.scale)
    if field.min is not None and amount < Decimal(str(field.min)):
        raise _Invalid(FieldError("field.too_small", min=_format_number(field.min)))
    if field.max is not None and amount > Decimal(str(field.max)):
        raise _Invalid(FieldError("field.too_large", max=_format_number(field.max)))
    return str(amount)


def check_date(field: DateField, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(FieldError("field.not_date"))
    text = value.strip()
    try:
        if field.type == "date":
            return date.fromisoformat(text[:10] if "T" in text else text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(FieldError("field.not_date")) from None
    if moment.tzinfo is None:
        raise _Invalid(FieldError("field.no_timezone"))
    return moment.astimezone(UTC).isoformat()


def check_name(field: Any, value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) > 200:
        raise _Invalid(FieldError("field.not_text"))
    return value.strip()


def check_reference(field: ReferenceField, value: Any) -> int | str:
    if field.form is not None:
        if isinstance(value, bool):
            raise _Invalid(FieldError("field.not_reference"))
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise _Invalid(FieldError("field.not_reference")) from None
        if number < 1 or number > MAX_SAFE_INTEGER:
            raise _Invalid(FieldError("field.not_reference"))
        return number
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > 200:
        raise _Invalid(FieldError("field.not_reference"))
    return str(value).strip()


def check_attachment(field: AttachmentField, value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    ids: list[int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise _Invalid(FieldError("field.not_attachment"))
        try:
            ids.append(int(item))
        except ValueError:
            raise _Invalid(FieldError("field.not_attachment")) from None
    if len(ids) > field.max_files:
        raise _Invalid(FieldError("field.too_many", max=field.max_files))
    if any(i < 1 or i > MAX_SAFE_INTEGER for i in ids):
        raise _Invalid(FieldError("field.not_attachment"))
    return ids


CHECKERS: dict[type, Callable[[Any, Any], Any]] = {
    TextField: check_text,
    NumberField: check_number,
    SelectField: check_select,
    MultiSelectField: check_multi_select,
    MoneyField: check_money,
    DateField: check_date,
    UserField: check_name,
    DepartmentField: check_name,
    ReferenceField: check_reference,
    AttachmentField: check_attachment,
}


def _formula_value(field: FormulaField, names: Mapping[str, Any]) -> Any:
    try:
        result = evaluate(field.expression, names)
    except ExpressionError:
        return None
    if result is None:
        return None
    if field.result == "money":
        return str(Decimal(str(result)).quantize(Decimal(1).scaleb(-field.scale)))
    if field.result == "number":
        if isinstance(result, bool) or not isinstance(result, int | float | Decimal):
            return None
        number = Decimal(str(result))
        return int(number) if number == number.to_integral_value() else float(number)
    if field.result == "boolean":
        return bool(result)
    return str(result)


def expression_names(data: Mapping[str, Any], spec_fields: list[Any]) -> dict[str, Any]:
    """Field values as expression names: money and floats as exact Decimals."""
    names: dict[str, Any] = {}
    for field in spec_fields:
        value = data.get(field.name)
        if isinstance(field, MoneyField) or (
            isinstance(field, FormulaField) and field.result == "money"
        ):
            names[field.name] = Decimal(value) if isinstance(value, str) else value
        elif isinstance(field, TableField) and isinstance(value, list):
            names[field.name] = [expression_names(row, field.fields) for row in value]
        else:
            names[field.name] = numeric(value)
    return names


def _condition(expression: str | None, names: Mapping[str, Any], default: bool) -> bool:
    if expression is None:
        return default
    try:
        return bool(evaluate(expression, names))
    except ExpressionError:
        return False


class _Collector:
    def __init__(self) -> None:
        self.errors: dict[str, FieldError] = {}
        self.unknown: dict[str, FieldError] = {}
        self.labels: dict[str, Mapping[str, str]] = {}


def _validate_fields(
    fields: list[Any],
    data: Mapping[str, Any],
    out: _Collector,
    prefix: str = "",
    label_prefix: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for field in fields:
        key = prefix + field.name
        out.labels[key] = (
            {
                lang: f"{text} {field.label.get(lang) or next(iter(field.label.values()))}"
                for lang, text in label_prefix.items()
            }
            if label_prefix
            else field.label
        )
        value = data.get(field.name, _EMPTY)
        if isinstance(field, FormulaField) or value is _EMPTY or _is_empty(value):
            clean[field.name] = None
            continue
        try:
            if isinstance(field, TableField):
                clean[field.name] = _validate_table(field, value, out, key)
            else:
                clean[field.name] = CHECKERS[type(field)](field, value)
        except _Invalid as invalid:
            out.errors[key] = invalid.error
            clean[field.name] = None
    for name in data:
        if not any(field.name == name for field in fields):
            out.unknown[prefix + name] = FieldError("field.unknown", name=name)
    # formulas see the typed values (including earlier formulas, in field order)
    for field in fields:
        if isinstance(field, FormulaField):
            clean[field.name] = _formula_value(field, expression_names(clean, fields))
    names = expression_names(clean, fields)
    for field in fields:
        key = prefix + field.name
        if not _condition(field.visible_if, names, True):
            clean[field.name] = None
            continue
        required = field.required or _condition(field.required_if, names, False)
        if required and clean[field.name] in (None, []) and key not in out.errors:
            code = "field.required_choice" if isinstance(field, SelectField) else "field.required"
            out.errors[key] = FieldError(code)
    return clean


def _validate_table(field: TableField, value: Any, out: _Collector, key: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
        raise _Invalid(FieldError("field.not_table"))
    if len(value) > field.max_rows:
        raise _Invalid(FieldError("field.too_many", max=field.max_rows))
    if field.min_rows is not None and len(value) < field.min_rows:
        raise _Invalid(FieldError("field.too_few", min=field.min_rows))
    rows = []
    for index, row in enumerate(value):
        prefix = {lang: f"{text} #{index + 1}" for lang, text in field.label.items()}
        rows.append(_validate_fields(field.fields, row, out, f"{key}[{index}].", prefix))
    return rows


@dataclass(frozen=True)
class Checked:
    """Values that passed every check needing no database (types, ranges, patterns,
    formulas, conditions, cross-field rules); the look-ups (unique, references, users …)
    are still due, inside the write transaction."""

    clean: dict[str, Any]
    labels: dict[str, Mapping[str, str]]


def check_values(spec: FormSpec, data: Mapping[str, Any]) -> Checked:
    """The checks that need no database; raises :class:`FormValidationError`. A submit
    runs them before it queues for the write lock: bad input never waits for it, and the
    lock is held for less time."""
    out = _Collector()
    clean = _validate_fields(list(spec.fields), data, out)
    out.errors.update(out.unknown)
    names = expression_names(clean, list(spec.fields))
    for check in spec.checks or []:
        if not _condition(check.when, names, True):
            continue
        if not _condition(check.rule, names, False):
            key = check.field or "record"
            out.errors.setdefault(key, FieldError("field.check", message=check.message))
    if out.errors:
        raise FormValidationError(out.errors, labels=out.labels)
    return Checked(clean, out.labels)


def check_lookups(
    spec: FormSpec, checked: Checked, lookups: Lookups, record_id: int | None = None
) -> dict[str, Any]:
    """The checks against the database; the clean values, or :class:`FormValidationError`."""
    out = _Collector()
    _check_lookups(spec, checked.clean, lookups, out, record_id)
    if out.errors:
        raise FormValidationError(out.errors, labels=checked.labels)
    return checked.clean


def validate_data(
    spec: FormSpec,
    data: Mapping[str, Any],
    *,
    lookups: Lookups | None = None,
    record_id: int | None = None,
) -> dict[str, Any]:
    """Check ``data`` against ``spec``; return clean values in field order or raise."""
    checked = check_values(spec, data)
    if lookups is not None:
        return check_lookups(spec, checked, lookups, record_id)
    return checked.clean


def _check_lookups(
    spec: FormSpec,
    clean: dict[str, Any],
    lookups: Lookups,
    out: _Collector,
    record_id: int | None,
) -> None:
    def visit(fields: list[Any], values: Mapping[str, Any], prefix: str) -> None:
        for field in fields:
            value = values.get(field.name)
            key = prefix + field.name
            if value is None:
                continue
            if isinstance(field, TableField):
                for index, row in enumerate(value):
                    visit(field.fields, row, f"{key}[{index}].")
                continue
            error = _lookup_error(field, value, lookups)
            if error is not None:
                out.errors[key] = error
            elif (
                not prefix
                and field.unique
                and not lookups.is_unique(spec.name, field.name, value, record_id)
            ):
                out.errors[key] = FieldError("field.not_unique")

    visit(list(spec.fields), clean, "")


def _lookup_error(field: Any, value: Any, lookups: Lookups) -> FieldError | None:
    if isinstance(field, UserField) and not lookups.user_exists(value):
        return FieldError("field.no_such_user", value=value)
    if isinstance(field, DepartmentField) and not lookups.department_exists(value):
        return FieldError("field.no_such_department", value=value)
    if isinstance(field, AttachmentField):
        missing = [i for i in value if not lookups.attachment_exists(i)]
        if missing:
            return FieldError("field.no_such_attachment", value=missing[0])
    if isinstance(field, ReferenceField):
        if field.form is not None and not lookups.record_exists(field.form, value):
            return FieldError("field.no_such_record", value=value)
        if field.provider is not None:
            found = lookups.master(field.provider, value)
            if found is None:
                return FieldError("field.no_such_master", value=value)
            if found is False:
                return FieldError("field.master_unavailable")
    return None
