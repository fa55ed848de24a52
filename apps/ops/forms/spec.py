"""The form definition format (what a ``forms/definitions/*.yaml`` file may say).

A definition is data: a name, a title and an ordered list of typed fields with their
validation. Pydantic checks the definition itself, so a mistake in a YAML file is reported
with its location when the app starts, not when an operator submits a record.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

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


class FieldBase(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Key of the value in the record data")
    label: Localized
    help: Localized | None = None
    required: bool = False


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


FormField = Annotated[TextField | NumberField | SelectField, Field(discriminator="type")]


class FormSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: Localized
    description: Localized | None = None
    fields: list[FormField] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> FormSpec:
        names = [field.name for field in self.fields]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"field names must be unique; repeated: {', '.join(duplicates)}")
        return self

    def field(self, name: str) -> TextField | NumberField | SelectField | None:
        return next((field for field in self.fields if field.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """The stored form of the definition (defaults filled in, empty values left out)."""
        return self.model_dump(mode="json", exclude_none=True)
