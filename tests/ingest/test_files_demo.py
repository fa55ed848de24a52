"""Every YAML-configured file source against the demo generator's truth (scale 2000).

The demo company is generated once for this module and every file stream is run three
times into one lake: the first run lands each file's rows exactly (truth's record counts
minus its known malformed rows), the malformed rows sit in quarantine at their file:line
(Excel row for the workbook) with the reason truth names, and the later runs add nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ingest.demo import generate
from ingest.registry import all_streams
from ingest.sources.files import SPECS, FileStream, stream_for
from warehouse.lake import Lake
from warehouse.loader import cursor_of, ensure_table, land, parts_landed
from warehouse.settings import Settings

# the demo files the generator writes that belong to the API connectors, not to this one
API_FILES = ("marketplaces/", "shopify/", "hr/attendance", "hr/users", "hr/departments")


@dataclass
class Landed:
    settings: Settings
    lake: Lake
    truth: dict
    runs: dict[str, list[tuple[int, int]]]  # per stream: (landed, quarantined) per run
    facts: dict[str, tuple[int, int, list[tuple[str, str]]]]  # rows, duplicate keys, quarantine


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory, extension_dir: Path) -> Landed:
    home = tmp_path_factory.mktemp("files-demo")
    settings = Settings(
        _env_file=None,
        home=home,
        extension_dir=extension_dir,
        demo_dir=home / "demo",
        pos_inbox=home / "demo" / "pos",
    )
    truth = generate(settings.demo_dir, scale=2000, seed=1)
    lake = Lake.from_settings(settings)
    lake.init()
    runs: dict[str, list[tuple[int, int]]] = {name: [] for name in SPECS}
    # one writer for every run: a connection costs ~0.3 s and the loader's bookkeeping of one
    # run_stream ~0.5 s on this machine, which would dominate the suite for 3 × 26 runs
    with lake.writing() as con:
        for name, spec in SPECS.items():
            runs[name].append(_run(con, stream_for(spec, settings)))
        # the second and third time, with the parts in the lake, a stream has no batch left
        # (run_stream would call land with exactly these; tests/ingest/test_files_formats.py
        # and test_pos.py run run_stream itself again)
        for _ in range(2):
            for name, spec in SPECS.items():
                batches = list(stream_for(spec, settings).read(None, parts_landed(con, name)))
                runs[name].append((sum(b.rows.num_rows for b in batches), len(batches)))
    facts = {}
    with lake.reading() as con:
        for name, spec in SPECS.items():
            key = ", ".join(spec.primary_key)
            facts[name] = (
                con.sql(f"SELECT count(*) FROM raw.{name}").fetchone()[0],
                con.sql(
                    f"SELECT count(*) FROM (SELECT {key} FROM raw.{name} "
                    "GROUP BY ALL HAVING count(*) > 1)"
                ).fetchone()[0],
                con.execute(
                    "SELECT location, reason FROM raw._quarantine WHERE stream = ?", [name]
                ).fetchall(),
            )
    return Landed(settings, lake, truth, runs, facts)


def _run(con: duckdb.DuckDBPyConnection, stream: FileStream) -> tuple[int, int]:
    """What ``ingest.core.run_stream`` does, on an open writer: (rows landed, quarantined)."""
    ensure_table(con, stream.name, stream.schema)
    results = [
        land(con, batch)
        for batch in stream.read(cursor_of(con, stream.name), parts_landed(con, stream.name))
    ]
    return sum(r.rows_landed for r in results), sum(r.rows_quarantined for r in results)


def _truth_path(stream: FileStream, settings: Settings, path: Path) -> str:
    """A stream's file as truth names it (relative to the demo folder)."""
    return path.relative_to(settings.demo_dir).as_posix()


def _malformed(truth: dict) -> dict[str, str]:
    """Truth's malformed rows as {file:line-or-row: reason}."""
    out = {f"{m['file']}:{m['line']}": m["reason"] for m in truth["pos"]["malformed"]}
    out |= {f"{m['file']}:{m['row']}": m["reason"] for m in truth["manual"]["malformed"]}
    return out


def test_every_demo_file_has_a_stream(landed: Landed) -> None:
    covered: set[str] = set()
    for spec in SPECS.values():
        stream = stream_for(spec, landed.settings)
        covered |= {_truth_path(stream, landed.settings, p) for p in stream.files()}
    ours = {f for f in landed.truth["files"] if not f.startswith(API_FILES)}
    assert ours - covered == set()
    assert all(name in all_streams() for name in SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_stream_lands_truths_rows_once(landed: Landed, name: str) -> None:
    stream = stream_for(SPECS[name], landed.settings)
    files = [_truth_path(stream, landed.settings, p) for p in stream.files()]
    assert files, f"{name}: the demo wrote no file for it"
    malformed = {k: v for k, v in _malformed(landed.truth).items() if k.rsplit(":", 1)[0] in files}
    expected = sum(landed.truth["files"][f]["records"] for f in files) - len(malformed)

    assert landed.runs[name] == [(expected, len(malformed)), (0, 0), (0, 0)]
    count, duplicate_keys, quarantined = landed.facts[name]
    assert (count, duplicate_keys) == (expected, 0)
    ours = {}
    for location, reason in quarantined:
        label, line = location.rsplit(":", 1)
        ours[f"{_truth_path(stream, landed.settings, stream.folder / label)}:{line}"] = reason
    assert set(ours) == set(malformed)
    for loc, reason in ours.items():
        # truth says "is not a number" for a quantity; we say which kind of number
        assert reason in (malformed[loc], malformed[loc].replace("a number", "a whole number"))


def test_typed_values_match_the_demo_facts(landed: Landed) -> None:
    truth, demo = landed.truth, landed.settings.demo_dir
    with landed.lake.reading() as con:
        vouchers, entries, debit, credit = con.sql(
            "SELECT count(DISTINCT (period, voucher_word, voucher_no)), count(*), sum(debit), "
            "sum(credit) FROM raw.finance_gl_vouchers"
        ).fetchone()
        inspections = dict(
            con.sql("SELECT type, count(*) FROM raw.quality_inspections GROUP BY 1").fetchall()
        )
        manual_orders = con.sql(
            "SELECT count(DISTINCT order_no) FROM raw.manual_orders"
        ).fetchone()[0]
        lead_status = Counter(
            dict(con.sql("SELECT status, count(*) FROM raw.crm_leads GROUP BY 1").fetchall())
        )
        lead = con.sql(
            "SELECT typeof(created_at),"
            " strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'),"
            " strftime(created_at AT TIME ZONE 'Asia/Shanghai', '%Y-%m-%d %H:%M:%S')"
            " FROM raw.crm_leads ORDER BY source_line LIMIT 1"
        ).fetchone()
        voucher = con.sql(
            "SELECT source_file, source_line, source_encoding, voucher_no, entry_no, account_code "
            "FROM raw.finance_gl_vouchers ORDER BY source_line LIMIT 1"
        ).fetchone()
    assert (vouchers, entries) == (truth["finance"]["vouchers"], truth["finance"]["entries"])
    assert debit == credit  # the books balance
    assert inspections == truth["quality"]["by_type"]
    assert manual_orders == truth["manual"]["distinct_orders"]
    assert lead_status == Counter(truth["crm"]["lead_status"])
    # a wall-clock time in Shanghai, stored as an instant
    assert lead[0] == "TIMESTAMP WITH TIME ZONE"
    with (demo / "crm" / "leads.csv").open(encoding="utf-8") as f:
        assert f.readlines()[1].split(",")[1] == lead[2] != lead[1]
    # lineage: file, physical line (header is line 1), encoding (the BOM is not part of it)
    assert voucher[:3] == ("finance/gl_vouchers.csv", 2, "utf-8")
    with (demo / "finance" / "gl_vouchers.csv").open(encoding="utf-8-sig") as f:
        second = f.readlines()[1].split(",")
    assert (str(voucher[3]), str(voucher[4]), voucher[5]) == (second[3], second[5], second[7])
