"""JSON Schema (draft 2020-12) of a form, for UIs and API clients.

The schema states what the server accepts for each field; the server stays the authority
(it also accepts numbers sent as strings, and treats empty optional fields as missing).
"""

from __future__ import annotations

from typing import Any

from apps.ops.core.i18n import localize
from apps.ops.forms.spec import FormSpec, NumberField, SelectField, TextField

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _text(field: TextField, lang: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": field.max_length}
    min_length = field.min_length or (1 if field.required else None)
    if min_length:
        schema["minLength"] = min_length
    if field.pattern:
        schema["pattern"] = field.pattern
    return schema


def _number(field: NumberField, lang: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if field.integer else "number"}
    if field.min is not None:
        schema["minimum"] = field.min
    if field.max is not None:
        schema["maximum"] = field.max
    if field.nonzero:
        schema["not"] = {"const": 0}
    return schema


def _select(field: SelectField, lang: str) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": [option.value for option in field.options],
        "oneOf": [
            {"const": option.value, "title": localize(option.label, lang)}
            for option in field.options
        ],
    }


BUILDERS = {TextField: _text, NumberField: _number, SelectField: _select}


def build_json_schema(spec: FormSpec, *, version: int, lang: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for field in spec.fields:
        schema = {"title": localize(field.label, lang), **BUILDERS[type(field)](field, lang)}
        if field.help:
            schema["description"] = localize(field.help, lang)
        schema["x-opslake-type"] = field.type
        properties[field.name] = schema
    result: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"/api/v1/forms/{spec.name}/schema?version={version}",
        "title": localize(spec.title, lang),
        "type": "object",
        "properties": properties,
        "required": [field.name for field in spec.fields if field.required],
        "additionalProperties": False,
        "x-opslake-form": {"name": spec.name, "version": version, "lang": lang},
    }
    if spec.description:
        result["description"] = localize(spec.description, lang)
    return result
