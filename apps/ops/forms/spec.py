"""The form definition format (what a ``forms/definitions/*.yaml`` file may say).

A definition is data: a name, a title and an ordered list of typed fields with their
validation. Pydantic checks the definition itself, so a mistake in a YAML file is reported
with its location when the app starts, not when an operator submits a record.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from apps.ops.core.expressions import check_expression

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# Numbers beyond this cannot round-trip through JSON clients (JavaScript) exactly.
MAX_SAFE_INTEGER = 2**53 - 1


def _to_localized(value: Any) -> Any:
    if isinstance(value, str):
        return {"en": value}
    return value


Localized = Annotated[
    dict[str, Annotated[str, Field(min_length=1)]],
    BeforeValidator(_to_localized),
    Field(min_length=1, description='Text per language, e.g. {"zh-CN": "仓库", "en": "Warehouse"}'),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Roles = list[Annotated[str, Field(min_length=1)]]
Expression = Annotated[str, AfterValidator(check_expression)]


class FieldBase(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Key of the value in the record data")
    label: Localized
    help: Localized | None = None
    required: bool = False
    # New keys default to None so that stored definitions (and checksums) stay as they were.
    unique: bool | None = Field(default=None, description="No two records may share the value")
    visible_if: Expression | None = Field(
        default=None, description="Shown (and kept) only when this expression is true"
    )
    required_if: Expression | None = Field(
        default=None, description="Required when this expression is true"
    )
    read_roles: Roles | None = Field(
        default=None, description="Only these roles see the value (admin always does)"
    )
    write_roles: Roles | None = Field(
        default=None, description="Only these roles may set the value (admin always may)"
    )


class TextField(FieldBase):
    type: Literal["text"]
    min_length: int | None = Field(default=None, ge=1)
    max_length: int = Field(default=1000, ge=1, le=100_000)
    pattern: str | None = Field(
        default=None, description="Regular expression searched in the value (anchor it: ^…$)"
    )
    pattern_message: Localized | None = None
    multiline: bool = False

    @model_validator(mode="after")
    def _check(self) -> TextField:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern of field {self.name!r} is not valid: {exc}") from exc
        if self.min_length is not None and self.min_length > self.max_length:
            raise ValueError(f"min_length of field {self.name!r} exceeds its max_length")
        return self


class NumberField(FieldBase):
    type: Literal["number"]
    integer: bool = False
    nonzero: bool = False
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> NumberField:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min of field {self.name!r} exceeds its max")
        return self


class SelectOption(_Strict):
    value: str = Field(min_length=1)
    label: Localized


class SelectField(FieldBase):
    type: Literal["select"]
    options: list[SelectOption] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SelectField:
        values = [option.value for option in self.options]
        if len(values) != len(set(values)):
            raise ValueError(f"options of field {self.name!r} repeat a value")
        return self

    def option_label(self, value: Any) -> Localized | None:
        for option in self.options:
            if option.value == value:
                return option.label
        return None


class MultiSelectField(SelectField):
    type: Literal["multi_select"]  # type: ignore[assignment]
    min_items: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=1)


class MoneyField(FieldBase):
    """An exact amount, stored as a decimal string (``"1234.50"``)."""

    type: Literal["money"]
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    scale: int = Field(default=2, ge=0, le=6)
    min: float | None = None
    max: float | None = None


class DateField(FieldBase):
    """``date``: ``YYYY-MM-DD``; ``datetime``: ISO 8601, stored in UTC."""

    type: Literal["date", "datetime"]


class UserField(FieldBase):
    """A username of an existing user."""

    type: Literal["user"]


class DepartmentField(FieldBase):
    """The name of an existing department."""

    type: Literal["department"]


class ReferenceField(FieldBase):
    """A record of another form (by id) or a master-data key from a provider (products,
    customers, … read from the lake)."""

    type: Literal["reference"]
    form: str | None = Field(default=None, pattern=NAME_PATTERN)
    provider: str | None = Field(default=None, pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _check(self) -> ReferenceField:
        if (self.form is None) == (self.provider is None):
            raise ValueError(f"reference field {self.name!r} needs exactly one of form, provider")
        return self


class AttachmentField(FieldBase):
    """Ids of uploaded files (``POST /api/v1/attachments``)."""

    type: Literal["attachment"]
    max_files: int = Field(default=10, ge=1, le=100)


class FormulaField(FieldBase):
    """Computed by the server from the other fields; a submitted value is ignored."""

    type: Literal["formula"]
    expression: Expression
    result: Literal["number", "money", "text", "boolean"] = "number"
    scale: int = Field(default=2, ge=0, le=6)


ScalarField = Annotated[
    TextField
    | NumberField
    | SelectField
    | MultiSelectField
    | MoneyField
    | DateField
    | UserField
    | DepartmentField
    | ReferenceField
    | AttachmentField
    | FormulaField,
    Field(discriminator="type"),
]


def _unique_names(fields: list[Any]) -> None:
    names = [field.name for field in fields]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"field names must be unique; repeated: {', '.join(duplicates)}")


class TableField(FieldBase):
    """Line items: a list of rows, each with its own fields (formulas see the row)."""

    type: Literal["table"]
    fields: list[ScalarField] = Field(min_length=1)
    min_rows: int | None = Field(default=None, ge=0)
    max_rows: int = Field(default=200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _check(self) -> TableField:
        _unique_names(self.fields)
        return self

    def field(self, name: str) -> Any:
        return next((field for field in self.fields if field.name == name), None)


FormField = Annotated[ScalarField | TableField, Field(discriminator="type")]
AnyField = Any  # one of the field classes above


class CrossFieldCheck(_Strict):
    """A condition over several fields that must hold, e.g. ``end >= start``."""

    rule: Expression
    message: Localized
    field: str | None = Field(default=None, description="Field the message is shown at")
    when: Expression | None = None


class RolePermission(_Strict):
    actions: list[Literal["create", "read", "update", "delete", "import"]]
    scope: Literal["own", "department", "all"] = "own"


class Permissions(_Strict):
    """Who may do what with the records of this form, by role (``"*"``: every user).
    Absent: every logged-in user may do everything on all records. ``admin`` may always."""

    roles: dict[str, RolePermission] = Field(min_length=1)


class FormSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: Localized
    description: Localized | None = None
    fields: list[FormField] = Field(min_length=1)
    checks: list[CrossFieldCheck] | None = None
    permissions: Permissions | None = None
    flow: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Flow started for each new record"
    )

    @model_validator(mode="after")
    def _check(self) -> FormSpec:
        _unique_names(self.fields)
        for check in self.checks or []:
            if check.field is not None and self.field(check.field) is None:
                raise ValueError(f"check names unknown field {check.field!r}")
        return self

    def field(self, name: str) -> AnyField | None:
        return next((field for field in self.fields if field.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """The stored form of the definition (defaults filled in, empty values left out)."""
        return self.model_dump(mode="json", exclude_none=True)
