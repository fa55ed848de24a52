"""The forms engine without a database: definition checks, validation, JSON Schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.ops.core.config import BUILTIN_FORMS_DIR
from apps.ops.core.errors import DefinitionError, FormValidationError
from apps.ops.forms import build_json_schema, validate_data
from apps.ops.forms.loader import read_definition_file, read_definitions
from tests.ops.conftest import VALID_DATA


@pytest.fixture(scope="module")
def spec():
    return read_definition_file(BUILTIN_FORMS_DIR / "stock_adjustment.yaml")


def errors_of(spec, data, lang="en"):
    with pytest.raises(FormValidationError) as caught:
        validate_data(spec, data)
    return caught.value.field_messages(lang)


def test_shipped_definition(spec):
    assert [f.name for f in spec.fields] == ["warehouse", "sku", "quantity", "reason", "note"]
    assert [f.type for f in spec.fields] == ["select", "text", "number", "select", "text"]
    assert spec.field("reason").option_label("return") == {
        "zh-CN": "退货入库",
        "en": "Customer return",
    }
    for field in spec.fields:
        assert set(field.label) == {"zh-CN", "en"}
    assert spec.field("note").required is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), (-3, -3), ("7", 7), (" -12 ", -12), (4.0, 4), ("1e2", 100)],
)
def test_quantity_accepts_whole_numbers(spec, value, expected):
    assert validate_data(spec, {**VALID_DATA, "quantity": value})["quantity"] == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "Quantity must not be zero."),
        ("0", "Quantity must not be zero."),
        (1.5, "Quantity must be a whole number."),
        ("abc", "Quantity must be a number."),
        ("NaN", "Quantity must be a number."),
        ("Infinity", "Quantity must be a number."),
        (True, "Quantity must be a number."),
        ([1], "Quantity must be a number."),
        (10**20, "Quantity must be at most 9007199254740991."),
        (None, "Quantity is required."),
        ("  ", "Quantity is required."),
    ],
)
def test_quantity_rejections(spec, value, message):
    assert errors_of(spec, {**VALID_DATA, "quantity": value}) == {"quantity": message}


@pytest.mark.parametrize("sku", ["OL-KIT-0001", "A1", "ABC"])
def test_sku_pattern_accepts(spec, sku):
    assert validate_data(spec, {**VALID_DATA, "sku": sku})["sku"] == sku


@pytest.mark.parametrize("sku", ["ol-kit-0001", "OL KIT", "-OL", "OL-", "OL--KIT", "Ａ１"])
def test_sku_pattern_rejects_with_the_definitions_message(spec, sku):
    errors = errors_of(spec, {**VALID_DATA, "sku": sku}, lang="zh-CN")
    assert errors == {"sku": "商品编码只能包含大写字母、数字和连字符，例如 OL-KIT-0001。"}


def test_text_limits_and_types(spec):
    assert errors_of(spec, {**VALID_DATA, "note": "x" * 501}) == {
        "note": "Note must be at most 500 characters long."
    }
    assert errors_of(spec, {**VALID_DATA, "sku": 123}) == {"sku": "SKU must be text."}
    assert validate_data(spec, {**VALID_DATA, "note": ""})["note"] is None


def test_select_values(spec):
    assert errors_of(spec, {**VALID_DATA, "reason": "theft"}) == {
        "reason": "Reason must be one of: damage, count, return, other."
    }
    assert errors_of(spec, {**VALID_DATA, "reason": ""}, "zh-CN") == {"reason": "请选择调整原因。"}


def test_all_problems_are_reported_at_once(spec):
    errors = errors_of(spec, {"unknown": 1})
    assert list(errors) == ["warehouse", "sku", "quantity", "reason", "unknown"]


def test_json_schema_reflects_required_fields(spec):
    schema = build_json_schema(spec, version=3, lang="en")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["warehouse", "sku", "quantity", "reason"]
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert list(properties) == ["warehouse", "sku", "quantity", "reason", "note"]
    assert properties["quantity"]["type"] == "integer"
    assert properties["quantity"]["not"] == {"const": 0}
    assert properties["sku"]["pattern"] == "^[A-Z0-9]+(-[A-Z0-9]+)*$"
    assert properties["reason"]["enum"] == ["damage", "count", "return", "other"]
    assert properties["note"]["maxLength"] == 500
    assert schema["x-opslake-form"] == {"name": "stock_adjustment", "version": 3, "lang": "en"}
    zh = build_json_schema(spec, version=3, lang="zh-CN")
    assert zh["title"] == "库存调整"
    assert zh["properties"]["warehouse"]["oneOf"][0] == {
        "const": "WH01",
        "title": "华东中心仓（嘉兴）",
    }


def test_json_schema_agrees_with_the_server(spec):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(build_json_schema(spec, version=1, lang="en"))
    assert validator.is_valid(VALID_DATA)
    for bad in (
        {**VALID_DATA, "quantity": 0},
        {**VALID_DATA, "sku": "bad sku"},
        {**VALID_DATA, "reason": "theft"},
        {k: v for k, v in VALID_DATA.items() if k != "warehouse"},
        {**VALID_DATA, "extra": 1},
    ):
        assert not validator.is_valid(bad)
        with pytest.raises(FormValidationError):
            validate_data(spec, bad)


BROKEN = {
    "type: colour": "fields.0: Input tag 'colour' found using 'type'",
    "type: text\n    pattern: '(['": "pattern of field 'a' is not valid",
    "type: select\n    options: []": "fields.0.select.options: List should have at least 1 item",
    "type: text\n    colour: red": "fields.0.text.colour: Extra inputs are not permitted",
}


@pytest.mark.parametrize(("field_yaml", "problem"), list(BROKEN.items()))
def test_broken_definitions_name_the_file_and_the_problem(tmp_path: Path, field_yaml, problem):
    path = tmp_path / "broken.yaml"
    path.write_text(
        f"name: broken\ntitle: Broken\nfields:\n  - name: a\n    label: A\n    {field_yaml}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        read_definitions(tmp_path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_definition_name_must_match_file_and_fields_be_unique(tmp_path: Path):
    (tmp_path / "one.yaml").write_text(
        "name: two\ntitle: T\nfields:\n- {name: a, type: text, label: A}\n", encoding="utf-8"
    )
    with pytest.raises(DefinitionError, match="must match the file name"):
        read_definitions(tmp_path)
    (tmp_path / "one.yaml").write_text(
        "name: one\ntitle: T\nfields:\n- {name: a, type: text, label: A}\n"
        "- {name: a, type: number, label: B}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match="repeated: a"):
        read_definitions(tmp_path)
    (tmp_path / "one.yaml").write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        read_definitions(tmp_path)
