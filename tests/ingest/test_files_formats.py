"""The generic file connector on small hand-made files: formats, encodings, bad rows,
schema drift, a missing required column, rules — parsed without a lake where possible."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from openpyxl import Workbook

from ingest.core import run_stream
from ingest.sources.file_spec import FileSpec, load_spec, parse_spec
from ingest.sources.file_typing import snake
from ingest.sources.files import FileStream, parse_files
from warehouse.lake import Lake
from warehouse.loader import Rejected

VOUCHERS = {
    "stream": "finance_vouchers",
    "source": "finance",
    "glob": "*.csv",
    "primary_key": ["voucher_no", "entry_no"],
    "columns": [
        {"name": "voucher_date", "header": "日期", "type": "date", "required": True},
        {
            "name": "voucher_no",
            "header": "凭证号",
            "aliases": ["凭证编号"],
            "type": "int",
            "required": True,
        },
        {"name": "entry_no", "header": "分录序号", "type": "int", "required": True},
        {"name": "account_code", "header": "科目代码", "aliases": ["科目编码"], "required": True},
        {"name": "debit", "header": "借方金额", "aliases": ["借方"], "type": "decimal(18,2)"},
        {"name": "credit", "header": "贷方金额", "aliases": ["贷方"], "type": "decimal(18,2)"},
    ],
    "rules": [
        {"check": "(debit IS NULL) <> (credit IS NULL)", "message": "one side only"},
        "debit >= 0",
    ],
}
HEADER = "日期,凭证号,分录序号,科目代码,借方金额,贷方金额"


def spec(**changes: object) -> FileSpec:
    return parse_spec(VOUCHERS | changes, "test.yaml")


def parse(s: FileSpec, *files: tuple[str, bytes]) -> tuple[pa.Table, list[Rejected]]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return parse_files(con, s, list(files))


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\n".join(lines).encode(encoding)


def reasons(rejected: list[Rejected]) -> dict[str, str]:
    return {r.location: r.reason for r in rejected}


def test_kingdee_vouchers_in_utf8_bom_and_gbk_are_typed_alike() -> None:
    lines = [HEADER, "2024-11-08,1,1,1405,4671.00,", "2024-11-08,1,2,2202,,4671.00"]
    rows, bad = parse(
        spec(),
        ("a.csv", csv_bytes(*lines, encoding="utf-8-sig")),
        ("b.csv", csv_bytes(*lines, encoding="gbk")),
    )
    assert bad == []
    assert rows.column("source_encoding").to_pylist() == ["utf-8", "utf-8", "gbk", "gbk"]
    assert rows.column("voucher_date").to_pylist()[0] == date(2024, 11, 8)
    assert rows.column("debit").to_pylist()[:2] == [Decimal("4671.00"), None]
    assert rows.column("source_line").to_pylist() == [2, 3, 2, 3]
    assert rows.schema.field("voucher_no").type == pa.int64()


def test_yonyou_headers_map_by_alias_and_extra_columns_are_kept() -> None:
    rows, bad = parse(
        spec(),
        (
            "u8.csv",
            csv_bytes(
                "日期,凭证编号,分录序号,科目编码,借方,贷方,辅助核算,Cost Center",
                "2024-11-08,7,1,22210101,10.00,,客户A,CC1",
            ),
        ),
    )
    assert bad == []
    assert rows.column("account_code").to_pylist() == ["22210101"]
    extra = [n for n in rows.column_names if n.startswith("col_")]
    assert len(extra) == 1 and rows.column(extra[0]).to_pylist() == ["客户A"]
    assert rows.column("cost_center").to_pylist() == ["CC1"]


def test_bad_rows_are_quarantined_with_file_line_and_plain_reasons() -> None:
    rows, bad = parse(
        spec(),
        (
            "v.csv",
            csv_bytes(
                HEADER,
                "2024-11-08,1,1,1405,4671.00,",  # good
                "2024-11-08,x,2,1405,1.00,",  # not a number
                "2024-11-08,1,2.5,1405,1.00,",  # not whole
                "2024-02-30,1,3,1405,1.00,",  # no such date
                "2024-11-08,1,4,,1.00,",  # required value empty
                "2024-11-08,1,5,1405,1.00,2.00",  # rule
                "2024-11-08,1,6,1405,-1.00,",  # rule
                "2024-11-08,1,7,1405",  # wrong width
                '2024-11-08,1,8,1405,"1,234.50",',  # thousands separator: fine
            ),
        ),
    )
    assert reasons(bad) == {
        "v.csv:3": "凭证号 'x' is not a whole number",
        "v.csv:4": "分录序号 '2.5' is not a whole number",
        "v.csv:5": "日期 '2024-02-30' is not a date",
        "v.csv:6": "科目代码 is empty",
        "v.csv:7": "one side only",
        "v.csv:8": "rule 'debit >= 0' is not met",
        "v.csv:9": "row has 4 fields, the header has 6",
    }
    assert rows.column("source_line").to_pylist() == [2, 10]
    assert rows.column("debit").to_pylist() == [Decimal("4671.00"), Decimal("1234.50")]
    record = next(r.record for r in bad if r.location == "v.csv:3")
    assert record["凭证号"] == "x"


def test_missing_required_column_rejects_the_file_naming_it() -> None:
    rows, bad = parse(spec(), ("v.csv", csv_bytes("日期,凭证号,借方金额", "2024-11-08,1,5")))
    assert rows.num_rows == 0
    assert reasons(bad) == {"v.csv": "v.csv: missing required column(s) 分录序号, 科目代码"}


def test_a_file_in_neither_utf8_nor_gbk_is_rejected_naming_the_encoding() -> None:
    rows, bad = parse(
        spec(), ("v.csv", csv_bytes(HEADER, "2024-11-08,1,1,1405,1,", encoding="utf-16"))
    )
    assert rows.num_rows == 0
    assert "cannot decode as UTF-8 or GBK" in bad[0].reason and "utf_16" in bad[0].reason


def test_quoted_values_spanning_lines_keep_their_physical_line() -> None:
    s = parse_spec(
        {
            "stream": "crm_notes",
            "source": "crm",
            "glob": "*.csv",
            "columns": [{"name": "id", "type": "int", "required": True}, {"name": "note"}],
        },
        "notes.yaml",
    )
    rows, bad = parse(s, ("n.csv", csv_bytes("id,note", '1,"two', 'lines"', "x,three", "4,four")))
    assert rows.column("note").to_pylist() == ["two\nlines", "four"]
    assert rows.column("source_line").to_pylist() == [2, 5]
    assert reasons(bad) == {"n.csv:4": "id 'x' is not a whole number"}


def test_preamble_summary_and_blank_rows_are_skipped() -> None:
    s = spec(header={"detect": ["凭证号", "科目代码"]}, skip_rows_starting_with=["合计"])
    rows, bad = parse(
        s,
        (
            "v.csv",
            csv_bytes(
                "公司,OpsLake",
                "期间,2024.11",
                HEADER,
                "2024-11-08,1,1,1405,1.00,",
                ",,,,,",
                "",
                "合计,,,,1.00,",
            ),
        ),
    )
    assert (rows.column("source_line").to_pylist(), bad) == ([4], [])
    rows, bad = parse(s, ("x.csv", csv_bytes("a,b", "1,2")))
    assert reasons(bad) == {
        "x.csv": "x.csv: no header row with 凭证号, 科目代码 in the first 50 rows"
    }


def test_xlsx_bad_rows_carry_their_excel_row_number() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "订单明细"
    ws.append(["订单号", "下单日期", "数量", "金额", "备注"])
    ws.append(["MO1", datetime(2025, 3, 1), 2, 19.9, None])
    ws.append([None, datetime(2025, 3, 1), 2, 19.9, None])
    ws.append([])
    ws.append(["MO2", "2025-02-30", "十", 5, "'0012"])
    ws.append(["MO3", "2025/03/02", 3.0, "1,000.5", None])
    buf = io.BytesIO()
    wb.save(buf)
    s = parse_spec(
        {
            "stream": "manual_orders",
            "source": "manual",
            "glob": "*.xlsx",
            "sheet": "订单明细",
            "columns": [
                {"name": "order_no", "header": "订单号", "required": True},
                {"name": "order_date", "header": "下单日期", "type": "date", "required": True},
                {"name": "quantity", "header": "数量", "type": "int", "required": True},
                {"name": "amount", "header": "金额", "type": "decimal(18,2)"},
                {"name": "remark", "header": "备注"},
            ],
        },
        "manual.yaml",
    )
    rows, bad = parse(s, ("m.xlsx", buf.getvalue()))
    assert reasons(bad) == {
        "m.xlsx:3": "订单号 is empty",
        "m.xlsx:5": "下单日期 '2025-02-30' is not a date; 数量 '十' is not a whole number",
    }
    assert rows.column("source_line").to_pylist() == [2, 6]
    assert rows.column("quantity").to_pylist() == [2, 3]
    assert rows.column("amount").to_pylist() == [Decimal("19.90"), Decimal("1000.50")]
    assert rows.column("order_date").to_pylist() == [date(2025, 3, 1), date(2025, 3, 2)]
    assert rows.column("source_encoding").to_pylist() == ["xlsx", "xlsx"]
    bad_sheet = parse_spec(s.model_dump() | {"sheet": "Sheet9"}, "manual.yaml")
    assert (
        "no sheet 'Sheet9' (sheets: 订单明细)"
        in parse(bad_sheet, ("m.xlsx", buf.getvalue()))[1][0].reason
    )


def test_json_and_jsonl_records_with_nested_fields() -> None:
    columns = [
        {"name": "userid", "required": True},
        {"name": "dept", "header": "dept.name"},
        {"name": "active", "type": "bool"},
        {"name": "checked_at", "type": "timestamp", "timezone": "Asia/Shanghai"},
    ]
    jsonl = parse_spec(
        {"stream": "hr_people", "source": "hr", "glob": "*.jsonl", "columns": columns}, "p.yaml"
    )
    lines = [
        json.dumps(
            {
                "userid": "007",
                "dept": {"name": "销售"},
                "active": True,
                "checked_at": "2025-01-01 08:00:00",
                "tags": ["a"],
            },
            ensure_ascii=False,
        ),
        "{broken",
        json.dumps({"userid": "008", "active": "maybe"}),
    ]
    rows, bad = parse(jsonl, ("p.jsonl", "\n".join(lines).encode()))
    assert rows.column("userid").to_pylist() == ["007"]
    assert rows.column("dept").to_pylist() == ["销售"]
    assert rows.column("tags").to_pylist() == ['["a"]']
    assert rows.column("checked_at").to_pylist()[0].isoformat() == "2025-01-01T00:00:00+00:00"
    assert set(reasons(bad)) == {"p.jsonl:2", "p.jsonl:3"}
    assert reasons(bad)["p.jsonl:3"] == "active 'maybe' is not true or false"

    doc = {"result": {"list": [{"userid": "1", "active": "是"}]}}
    js = parse_spec(
        {
            "stream": "hr_people",
            "source": "hr",
            "glob": "*.json",
            "records": "result.list",
            "columns": columns,
        },
        "p.yaml",
    )
    rows, bad = parse(js, ("p.json", json.dumps(doc, ensure_ascii=False).encode()))
    assert (rows.column("active").to_pylist(), bad) == ([True], [])


def test_landing_resent_files_drift_and_rejects_through_the_lake(
    lake: Lake, tmp_path: Path
) -> None:
    inbox = tmp_path / "vouchers"
    inbox.mkdir()
    good = csv_bytes(HEADER, "2024-11-08,1,1,1405,1.00,", encoding="utf-8-sig")
    (inbox / "2024-11.csv").write_bytes(good)
    (inbox / "2024-11-again.csv").write_bytes(good)  # the same file sent twice
    (inbox / "2024-12.csv").write_bytes(
        csv_bytes(
            HEADER + ",部门,Cost Center", "2024-12-01,1,1,1405,2.00,,销售部,CC1", encoding="gbk"
        )
    )
    (inbox / "broken.csv").write_bytes(csv_bytes("日期,凭证号", "2024-12-01,1"))
    stream = FileStream(spec(), inbox)
    first = run_stream(lake, stream)
    assert (first.rows_landed, first.rows_quarantined) == (2, 1)
    # a header without ASCII letters gets a stable name derived from it
    assert snake("部门").startswith("col_") and snake("部门") == snake(" 部门 ")
    assert set(first.new_columns) == {"cost_center", snake("部门")}
    again = run_stream(lake, FileStream(spec(), inbox))
    assert (again.rows_landed, again.rows_quarantined, again.batches) == (0, 0, 0)
    with lake.reading() as con:
        rows = con.sql(
            "SELECT source_file, debit::VARCHAR, cost_center FROM raw.finance_vouchers "
            "ORDER BY source_file"
        ).fetchall()
        reason = con.sql("SELECT location, reason FROM raw._quarantine").fetchall()
        changes = con.sql(
            "SELECT column_name FROM raw._schema_changes WHERE stream = 'finance_vouchers'"
        ).fetchall()
    # of two identical files the first in name order lands, the other adds nothing
    assert rows == [("2024-11-again.csv", "1.00", None), ("2024-12.csv", "2.00", "CC1")]
    assert reason == [("broken.csv", "broken.csv: missing required column(s) 分录序号, 科目代码")]
    assert ("cost_center",) in changes


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,234", 1234), (" 7 ", 7), ("+3", 3), ("5.0", 5), ("'12", 12), ("-2", -2)],
)
def test_whole_numbers_accept_common_spellings(value: str, expected: int) -> None:
    rows, bad = parse(spec(), ("v.csv", csv_bytes(HEADER, f'2024-11-08,"{value}",1,1405,1,')))
    assert (rows.column("voucher_no").to_pylist(), bad) == ([expected], [])


def test_the_worked_example_in_files_md_works_as_written(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "ingest" / "sources" / "FILES.md").read_text()
    example = doc.split("## Worked example", 1)[1]
    blocks = example.split("```")
    sample, yaml_text = blocks[1].strip("\n"), blocks[3]
    yaml_text = "\n".join(line.removeprefix("   ") for line in yaml_text.splitlines()[1:])
    path = tmp_path / "threepl_returns.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    s = load_spec(path)
    rows, bad = parse(s, ("3pl/returns_2026-11-01.csv", sample.encode("gbk")))
    assert bad == []
    assert rows.column("source_line").to_pylist() == [4, 5]
    assert rows.column("refund_amount").to_pylist() == [Decimal("129.90"), Decimal("259.80")]
    assert rows.column("source_encoding").to_pylist() == ["gbk", "gbk"]
