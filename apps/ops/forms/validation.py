"""Server-side validation of record data against a form definition.

Pure functions: ``validate_data(spec, data)`` returns the cleaned data (every field of the
form, ``None`` where an optional field is empty) or raises :class:`FormValidationError` with
one :class:`FieldError` per bad field. One checker per field type, in ``CHECKERS``.
Values may arrive as JSON types (API) or as strings (HTML forms); both are accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.ops.core.errors import FieldError, FormValidationError
from apps.ops.forms.spec import (
    MAX_SAFE_INTEGER,
    FormSpec,
    NumberField,
    SelectField,
    TextField,
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


CHECKERS: dict[type, Callable[[Any, Any], Any]] = {
    TextField: check_text,
    NumberField: check_number,
    SelectField: check_select,
}


def validate_data(spec: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``data`` against ``spec``; return clean values in field order or raise."""
    errors: dict[str, FieldError] = {}
    clean: dict[str, Any] = {}
    for field in spec.fields:
        value = data.get(field.name, _EMPTY)
        if value is _EMPTY or _is_empty(value):
            if field.required:
                code = (
                    "field.required_choice" if isinstance(field, SelectField) else "field.required"
                )
                errors[field.name] = FieldError(code)
            clean[field.name] = None
            continue
        try:
            clean[field.name] = CHECKERS[type(field)](field, value)
        except _Invalid as invalid:
            errors[field.name] = invalid.error
    for name in data:
        if spec.field(name) is None:
            errors[name] = FieldError("field.unknown", name=name)
    if errors:
        raise FormValidationError(errors, labels={f.name: f.label for f in spec.fields})
    return clean
