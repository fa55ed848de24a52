"""POS CSV files: encodings, preambles, money formats, bad rows, re-sent files."""

from __future__ import annotations

from pathlib import Path

from ingest.core import run_stream
from ingest.sources.pos import PosSalesStream
from warehouse.lake import Lake

HEADER = (
    "Date,Time,Store,Terminal,Transaction ID,SKU,Item,Qty,Price,Gross Sales,Discounts,"
    "Net Sales,Event Type,Payment Method,Customer Phone"
)


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\n".join(lines).encode(encoding))


def _row(tx: str, qty: str = "1", net: str = "10.00", item: str = "茶杯") -> str:
    return f"2026-03-01,10:00,S01,T1,{tx},SKU1,{item},{qty},10,10,0,{net},Payment,Cash,"


def test_gbk_file_with_preamble_summary_and_money_formats(lake: Lake, tmp_path: Path) -> None:
    inbox = tmp_path / "pos"
    _write(
        inbox / "S01" / "2026-03-01.csv",
        [
            "门店,南京路店",
            "打印时间,2026-03-01",
            HEADER,
            _row("T1", net='"￥1,234.50"'),
            _row("T2", qty="-1", net="-10.00"),
            "Summary,,,,,,,0,,,,1224.50",
        ],
        encoding="gbk",
    )
    result = run_stream(lake, PosSalesStream(inbox))
    assert (result.rows_landed, result.rows_quarantined) == (2, 0)
    with lake.reading() as con:
        rows = con.sql(
            "SELECT transaction_id, item_name, net_sales::VARCHAR, source_encoding, source_line "
            "FROM raw.pos_sales_lines ORDER BY source_line"
        ).fetchall()
    assert rows == [("T1", "茶杯", "1234.50", "gbk", 4), ("T2", "茶杯", "-10.00", "gbk", 5)]


def test_malformed_rows_go_to_quarantine_and_good_rows_land(lake: Lake, tmp_path: Path) -> None:
    inbox = tmp_path / "pos"
    _write(
        inbox / "S01" / "d.csv",
        [HEADER, _row("T1"), _row("T2", qty="two"), _row(""), "2026-03-01,10:00,S01", _row("T3")],
    )
    result = run_stream(lake, PosSalesStream(inbox))
    assert (result.rows_landed, result.rows_quarantined) == (2, 3)
    with lake.reading() as con:
        q = dict(con.sql("SELECT location, reason FROM raw._quarantine").fetchall())
    assert q == {
        "S01/d.csv:3": "Qty 'two' is not a whole number",
        "S01/d.csv:4": "Transaction ID is empty",
        "S01/d.csv:5": "row has 3 fields, the header has 15",
    }


def test_a_file_sent_again_under_another_name_adds_nothing(lake: Lake, tmp_path: Path) -> None:
    inbox = tmp_path / "pos"
    _write(inbox / "S01" / "a.csv", [HEADER, _row("T1"), _row("T2")])
    first = run_stream(lake, PosSalesStream(inbox))
    (inbox / "S01" / "a-copy.csv").write_bytes((inbox / "S01" / "a.csv").read_bytes())
    for _ in range(3):
        again = run_stream(lake, PosSalesStream(inbox))
        assert again.rows_landed == 0
    assert first.rows_landed == 2
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.pos_sales_lines").fetchone()[0] == 2


def test_missing_required_column_rejects_the_file_and_an_added_column_is_kept(
    lake: Lake, tmp_path: Path
) -> None:
    inbox = tmp_path / "pos"
    _write(
        inbox / "S01" / "no-qty.csv",
        ["Date,Store,Transaction ID,SKU,Net Sales", "2026-03-01,S01,T9,SKU1,10"],
    )
    _write(inbox / "S01" / "drift.csv", [HEADER + ",Member Level", _row("T1") + ",gold"])
    result = run_stream(lake, PosSalesStream(inbox))
    assert result.rows_landed == 1 and result.new_columns == ("member_level",)
    with lake.reading() as con:
        assert con.sql("SELECT member_level FROM raw.pos_sales_lines").fetchall() == [("gold",)]
        reason = con.sql(
            "SELECT reason FROM raw._quarantine WHERE location='S01/no-qty.csv'"
        ).fetchone()
    assert reason == ("S01/no-qty.csv: missing required column(s) Qty",)


def test_a_file_in_neither_utf8_nor_gbk_is_rejected_naming_the_encoding(
    lake: Lake, tmp_path: Path
) -> None:
    inbox = tmp_path / "pos"
    _write(inbox / "S01" / "utf16.csv", [HEADER, _row("T1")], encoding="utf-16")
    result = run_stream(lake, PosSalesStream(inbox))
    assert result.rows_landed == 0 and result.rows_quarantined == 1
    with lake.reading() as con:
        reason = con.sql("SELECT reason FROM raw._quarantine").fetchone()[0]
    assert "cannot decode as UTF-8 or GBK" in reason and "utf_16" in reason.lower().replace(
        "-", "_"
    )
