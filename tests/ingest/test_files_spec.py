"""The YAML contract itself: every shipped config loads, and a bad one fails with the
file and the key named, so adding a source never means reading a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.file_spec import CONFIG_DIR, SpecError, load_spec, load_specs

GOOD = """\
stream: shop_refunds
source: shop
glob: refunds/*.csv
primary_key: [refund_id]
columns:
  - {name: refund_id, required: true}
  - {name: amount, type: "decimal(18,2)"}
rules:
  - amount >= 0
"""


def write(tmp_path: Path, text: str, name: str = "shop_refunds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_config_is_valid_and_named_source_entity() -> None:
    specs = load_specs(CONFIG_DIR)
    assert len(specs) == len(list(CONFIG_DIR.glob("*.yaml"))) >= 26
    for name, spec in specs.items():
        assert name.startswith(spec.source + "_")
        assert (CONFIG_DIR / f"{name}.yaml").exists(), "one YAML per raw table, named after it"


def test_a_good_spec_loads_with_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    assert (spec.resolved_format, spec.encoding, spec.base) == ("csv", "auto", "demo_dir")
    assert spec.arrow_schema.names == [
        "refund_id",
        "amount",
        "source_file",
        "source_line",
        "source_encoding",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('type: "decimal(18,2)"', "type: money"), "columns.amount.type: unknown type 'money'"),
        (("glob:", "globb:"), "globb: unknown key (typo?)"),
        (("glob: refunds/*.csv\n", ""), "glob: Field required"),
        (
            ("stream: shop_refunds", "stream: refunds"),
            "must be lower_snake_case and start with 'shop_'",
        ),
        (("[refund_id]", "[refund_no]"), "primary_key: 'refund_no' is not a column"),
        (("amount >= 0", "amount >= (SELECT 1)"), "must be a condition"),
        (("amount >= 0", "amont >= 0"), "rule 'amont >= 0' uses unknown column 'amont'"),
        (
            ("{name: amount,", "{name: Amount,"),
            "columns.Amount.name: 'Amount' is not lower_snake_case",
        ),
        (("{name: amount,", "{name: refund_id,"), "column name 'refund_id' appears twice"),
        (
            ("required: true}", "required: true, timezone: Asia/Shanghai}"),
            "columns.refund_id: 'timezone' applies to timestamp columns only",
        ),
        (("source: shop", "source: shop\nencoding: latin1"), "encoding: Input should be 'auto'"),
        (
            ("source: shop", "source: shop\nheader: {row: 2, detect: [a]}"),
            "header: give either 'row' or 'detect'",
        ),
    ],
)
def test_a_bad_spec_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_broken_yaml_and_duplicate_streams_are_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"bad\.yaml: not valid YAML"):
        load_spec(write(tmp_path, "stream: [unclosed", "bad.yaml"))
    with pytest.raises(SpecError, match=r"a\.yaml: expected a mapping"):
        load_spec(write(tmp_path, "- just\n- a list\n", "a.yaml"))
    folder = tmp_path / "dir"
    folder.mkdir()
    write(folder, GOOD, "one.yaml")
    write(folder, GOOD, "two.yaml")
    with pytest.raises(
        SpecError, match=r"two\.yaml: stream: 'shop_refunds' is already declared in .*one\.yaml"
    ):
        load_specs(folder)
