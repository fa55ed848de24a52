"""From text cells to typed rows in one DuckDB statement, with a plain reason per bad row.

Given the files of a batch that share one header, ``type_group`` maps the native headers to
the spec's columns (a missing required column refuses those files), builds one SQL
statement that trims, cleans and casts every column with TRY_CAST-style functions and
collects every problem of a row into ``_reason``, then splits good rows from bad ones.
Columns the spec does not know are kept as strings (schema evolution).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.sources.file_readers import Sheet, cell_columns
from ingest.sources.file_spec import LINEAGE, ColumnSpec, FileSpec, rule_sql
from warehouse.loader import Rejected

INT_PATTERN = r"[+-]?[0-9]+(\.0*)?"
MONEY_NOISE = r"[¥￥$,\s]"
TRUE = ("true", "t", "yes", "y", "1", "是", "on")
FALSE = ("false", "f", "no", "n", "0", "否", "off")
WHAT = {
    "int": "is not a whole number",
    "date": "is not a date",
    "timestamp": "is not a date and time",
    "bool": "is not true or false",
}


def lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def snake(header: str) -> str:
    """A column name for a header the spec does not know ('Member Level' -> member_level)."""
    s = re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")
    if not s:  # e.g. a Chinese header: a stable name derived from it
        return "col_" + hashlib.sha1(header.strip().encode()).hexdigest()[:8]
    return s if s[0].isalpha() else f"c_{s}"


@dataclass
class Layout:
    """How one header maps onto the spec: cell column of each spec column, and extras."""

    present: dict[str, tuple[str, str]]  # column name -> (cell column, native header)
    extras: dict[str, str]  # new column name -> cell column
    problem: str | None = None


def layout(header: Sequence[str], spec: FileSpec) -> Layout:
    where: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        where.setdefault(h.strip().casefold(), []).append(i)
    cells = cell_columns(len(header))
    present: dict[str, tuple[str, str]] = {}
    used: set[int] = set()
    missing: list[str] = []
    for col in spec.columns:
        hits = [i for h in col.headers for i in where.get(h.strip().casefold(), [])]
        if len(hits) > 1:
            return Layout({}, {}, f"column {col.native} appears {len(hits)} times in the header")
        if hits:
            present[col.name] = (cells[hits[0]], header[hits[0]].strip())
            used.update(hits)
        elif col.required:
            missing.append(col.native)
    if missing:
        return Layout({}, {}, f"missing required column(s) {', '.join(missing)}")
    extras: dict[str, str] = {}
    if spec.extra_columns == "keep":
        taken = {c.name for c in spec.columns} | set(LINEAGE)
        for i, h in enumerate(header):
            if i in used or not h.strip():
                continue
            name, n = snake(h), 2
            while name in taken:
                name, n = f"{snake(h)}_{n}", n + 1
            taken.add(name)
            extras[name] = cells[i]
    return Layout(present, extras)


def _duck_type(col: ColumnSpec) -> str:
    if col.type.startswith("decimal"):
        p, s = col.decimal
        return f"DECIMAL({p},{s})"
    if col.type == "timestamp":
        return "TIMESTAMPTZ" if col.timezone else "TIMESTAMP"
    return {"string": "VARCHAR", "int": "BIGINT", "date": "DATE", "bool": "BOOLEAN"}[col.type]


def _typed(col: ColumnSpec, t: str) -> str:
    """SQL turning the cleaned text ``t`` (NULL when empty) into the column's type."""
    if col.type == "string":
        return t
    if col.type == "int":
        clean = f"regexp_replace({t}, '[,\\s]', '', 'g')"
        return (
            f"CASE WHEN regexp_full_match({clean}, {lit(INT_PATTERN)}) "
            f"THEN TRY_CAST(regexp_extract({clean}, '^[+-]?[0-9]+') AS BIGINT) END"
        )
    if col.type.startswith("decimal"):
        # the plain cast first; only values it refuses pay for removing ¥ and separators
        typ = _duck_type(col)
        noisy = f"TRY_CAST(regexp_replace({t}, {lit(MONEY_NOISE)}, '', 'g') AS {typ})"
        return f"COALESCE(TRY_CAST({t} AS {typ}), {noisy})"
    formats = "[" + ", ".join(lit(f) for f in col.formats) + "]"
    if col.type == "date":
        return f"CAST(try_strptime({t}, {formats}) AS DATE)"
    if col.type == "timestamp":
        ts = f"try_strptime({t}, {formats})"
        return f"timezone({lit(col.timezone)}, {ts})" if col.timezone else ts
    yes = ", ".join(lit(v) for v in TRUE)
    no = ", ".join(lit(v) for v in FALSE)
    return f"CASE WHEN lower({t}) IN ({yes}) THEN true WHEN lower({t}) IN ({no}) THEN false END"


def _what(col: ColumnSpec) -> str:
    return WHAT.get(col.type, "is not a number")


def build_sql(spec: FileSpec, lay: Layout) -> str:
    """Typed values of the non-string columns and every row's problems, in input order."""
    typed, reasons = [], []
    for col in spec.columns:
        if col.name not in lay.present:
            typed.append(f"CAST(NULL AS {_duck_type(col)}) AS {ident(col.name)}")
            continue
        cell, native = lay.present[col.name]
        t = ident(cell)
        typed.append(f"{_typed(col, t)} AS {ident(col.name)}")
        if col.required:
            reasons.append(f"CASE WHEN {t} IS NULL THEN {lit(native + ' is empty')} END")
        if col.type != "string":
            reasons.append(
                f"CASE WHEN {t} IS NOT NULL AND {ident(col.name)} IS NULL THEN "
                f"{lit(native + ' ' + chr(39))} || {t} || {lit(chr(39) + ' ' + _what(col))} END"
            )
    for rule in spec.rules:
        reasons.append(
            f"CASE WHEN NOT COALESCE(({rule_sql(rule.check)}), true) THEN {lit(rule.reason)} END"
        )
    cells = [ident(c) for c, _ in lay.present.values()]
    out = [ident(c.name) for c in spec.columns if c.type != "string"]
    reason = f"NULLIF(concat_ws('; ', {', '.join(reasons)}), '')" if reasons else "NULL"
    return f"""
        WITH typed AS (SELECT {", ".join(["_f", "_line", *cells, *typed])} FROM src)
        SELECT {", ".join(["_f", "_line", *out])}, {reason} AS _reason FROM typed
    """


def _arrow(rel: duckdb.DuckDBPyRelation) -> pa.Table:
    out = rel.arrow()
    return out if isinstance(out, pa.Table) else out.read_all()


def type_group(
    con: duckdb.DuckDBPyConnection,
    spec: FileSpec,
    sheets: Sequence[Sheet],
    cells: pa.Table,
) -> tuple[pa.Table | None, list[Rejected]]:
    """Typed rows (spec columns, lineage, extras) and rejected rows of files with one header.

    ``cells`` are cleaned text (see ``clean``): string columns are taken from it as they
    are, DuckDB computes the other types and the reasons, in the same row order."""
    header = sheets[0].header
    lay = layout(header, spec)
    if lay.problem:
        return None, [Rejected(s.label, f"{s.label}: {lay.problem}", None) for s in sheets]
    con.register("src", cells)
    try:
        result = _arrow(con.sql(build_sql(spec, lay)))
    finally:
        con.unregister("src")
    if (
        result.num_rows != cells.num_rows
        or not pc.all(pc.equal(result.column("_line"), cells.column("_line"))).as_py()
    ):
        raise RuntimeError("DuckDB did not keep the row order of the input")  # never expected
    n = cells.num_rows
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for col in spec.columns:
        if col.type != "string":
            columns[col.name] = result.column(col.name)
        elif col.name in lay.present:
            columns[col.name] = cells.column(lay.present[col.name][0])
        else:
            columns[col.name] = pa.nulls(n, pa.string())
    files = pa.array([s.index for s in sheets], pa.int32())
    pos = pc.index_in(cells.column("_f"), value_set=files)
    columns["source_file"] = pa.array([s.label for s in sheets], pa.string()).take(pos)
    columns["source_line"] = cells.column("_line")
    columns["source_encoding"] = pa.array([s.encoding for s in sheets], pa.string()).take(pos)
    for name, cell in lay.extras.items():
        columns[name] = cells.column(cell)
    schema = spec.arrow_schema
    for name in lay.extras:
        schema = schema.append(pa.field(name, pa.string()))
    out = pa.table(list(columns.values()), names=list(columns)).cast(schema)
    reason = result.column("_reason")
    if reason.null_count == n:
        return out, []
    bad = pc.is_valid(reason)
    return out.filter(pc.invert(bad)), _rejected(
        cells.filter(bad), reason.filter(bad), sheets, header
    )


def _rejected(
    bad: pa.Table, reasons: pa.ChunkedArray, sheets: Sequence[Sheet], header: Sequence[str]
) -> list[Rejected]:
    """Bad rows with their location, reason and the record (native header -> text)."""
    labels = {s.index: s.label for s in sheets}
    cells = cell_columns(len(header))
    out = []
    for row, reason in zip(bad.to_pylist(), reasons.to_pylist(), strict=True):
        record = {h or c: row[c] for h, c in zip(header, cells, strict=True)}
        out.append(Rejected(f"{labels[row['_f']]}:{row['_line']}", reason, record))
    return out
