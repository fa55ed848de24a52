"""The YAML contract of a file source: one file per raw table in ``ingest/config/files``.

A spec says where the files are (a settings folder and a glob), how to read them (format,
encoding, header row, rows to skip) and what each native column becomes (name, type,
required), plus optional row rules. ``load_spec`` validates a file and raises
``SpecError`` naming the file and the key when something is wrong, so a data engineer
adding a source never has to read a traceback. See ``ingest/sources/FILES.md``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlglot import exp

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "files"

IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
# columns every file stream adds to its rows: where each row came from
LINEAGE = {
    "source_file": pa.string(),
    "source_line": pa.int64(),
    "source_encoding": pa.string(),
}
RESERVED = set(LINEAGE) | {"_batch_id", "_source", "_received_at"}
SETTINGS_FOLDERS = ("demo_dir", "pos_inbox", "home")
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json", ".jsonl": "jsonl"}
DECIMAL = re.compile(r"^decimal(?:\((\d+),\s*(\d+)\))?$")
DEFAULT_FORMATS = {
    "date": ["%Y-%m-%d", "%Y/%m/%d"],
    "timestamp": ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
}


class SpecError(ValueError):
    """A file-source YAML is invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    name: str = Field(description="snake_case column in the raw table")
    header: str | None = Field(default=None, description="native header (default: name)")
    aliases: tuple[str, ...] = Field(default=(), description="other native headers, same meaning")
    type: str = "string"
    required: bool = False
    format: tuple[str, ...] | None = None  # strptime formats of a date/timestamp
    timezone: str | None = None  # a timestamp's wall-clock zone; stored as UTC instant

    @field_validator("format", mode="before")
    @classmethod
    def _one_format(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not IDENT.match(v):
            raise ValueError(f"'{v}' is not lower_snake_case (letters, digits, _; starts a-z)")
        if v in RESERVED:
            raise ValueError(f"'{v}' is reserved for lineage/bookkeeping columns")
        return v

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        v = v.strip().lower().replace(" ", "")
        if v in ("string", "int", "date", "timestamp", "bool") or DECIMAL.match(v):
            return v
        raise ValueError(
            f"unknown type '{v}' (use string, int, decimal(p,s), date, timestamp, bool)"
        )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone '{v}' (e.g. Asia/Shanghai)") from None
        return v

    @model_validator(mode="after")
    def _options_fit_type(self) -> ColumnSpec:
        if self.format is not None and self.type not in ("date", "timestamp"):
            raise ValueError("'format' applies to date and timestamp columns only")
        if self.timezone is not None and self.type != "timestamp":
            raise ValueError("'timezone' applies to timestamp columns only")
        return self

    @property
    def native(self) -> str:
        return self.header if self.header is not None else self.name

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.native, *self.aliases)

    @property
    def formats(self) -> list[str]:
        return list(self.format or DEFAULT_FORMATS.get(self.type, []))

    @property
    def decimal(self) -> tuple[int, int]:
        m = DECIMAL.match(self.type)
        assert m, self.type
        return (int(m.group(1)), int(m.group(2))) if m.group(1) else (18, 2)

    @property
    def arrow_type(self) -> pa.DataType:
        if self.type.startswith("decimal"):
            return pa.decimal128(*self.decimal)
        if self.type == "timestamp":
            return pa.timestamp("us", tz="UTC") if self.timezone else pa.timestamp("us")
        return {
            "string": pa.string(),
            "int": pa.int64(),
            "date": pa.date32(),
            "bool": pa.bool_(),
        }[self.type]


class HeaderSpec(_Strict):
    row: int | None = Field(default=None, ge=1, description="1-based line/row of the header")
    detect: tuple[str, ...] = Field(
        default=(), description="the header is the first line holding all these names"
    )
    search_rows: int = Field(default=50, ge=1, description="how far to look for it")

    @model_validator(mode="after")
    def _one_way(self) -> HeaderSpec:
        if self.row is not None and self.detect:
            raise ValueError("give either 'row' or 'detect', not both")
        return self


class RuleSpec(_Strict):
    check: str = Field(description="SQL condition over the typed columns, e.g. 'debit >= 0'")
    message: str | None = None

    @property
    def reason(self) -> str:
        return self.message or f"rule '{self.check}' is not met"


class FileSpec(_Strict):
    stream: str = Field(description="raw table, <source>_<entity>")
    source: str
    description: str = ""
    base: str = Field(default="demo_dir", description="settings folder or a path")
    glob: str = Field(description="files below base, e.g. finance/gl_vouchers*.csv")
    format: Literal["csv", "xlsx", "json", "jsonl"] | None = None
    encoding: Literal["auto", "utf-8", "gbk"] = "auto"
    delimiter: str = ","
    header: HeaderSpec = HeaderSpec()
    skip_rows_starting_with: tuple[str, ...] = ()
    sheet: str | None = None  # xlsx: the sheet (default: the first)
    records: str | None = None  # json: dotted path of the list of records
    strip_leading_apostrophe: bool = True  # Excel's "force text" mark
    extra_columns: Literal["keep", "ignore"] = "keep"
    primary_key: tuple[str, ...] = ()
    columns: tuple[ColumnSpec, ...] = Field(min_length=1)
    rules: tuple[RuleSpec, ...] = ()
    files_per_batch: int = Field(default=1000, ge=1)
    batch_megabytes: int = Field(default=256, ge=1)

    @field_validator("rules", mode="before")
    @classmethod
    def _short_rules(cls, v: object) -> object:
        if isinstance(v, list):
            return [{"check": r} if isinstance(r, str) else r for r in v]
        return v

    @field_validator("skip_rows_starting_with", "primary_key", mode="before")
    @classmethod
    def _one_item(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str) -> str:
        if len(v) != 1 or v in '"\n\r':
            raise ValueError("the delimiter is one character (not a quote or newline)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FileSpec:
        if not IDENT.match(self.source):
            raise ValueError(f"source: '{self.source}' is not lower_snake_case")
        if not IDENT.match(self.stream) or not self.stream.startswith(self.source + "_"):
            raise ValueError(
                f"stream: '{self.stream}' must be lower_snake_case and start with "
                f"'{self.source}_' (raw tables are named <source>_<entity>)"
            )
        names = [c.name for c in self.columns]
        _unique(names, "column name")
        _unique([h.strip().casefold() for c in self.columns for h in c.headers], "header")
        known = set(names) | set(LINEAGE)
        for key in self.primary_key:
            if key not in known:
                raise ValueError(f"primary_key: '{key}' is not a column")
        for rule in self.rules:
            check_rule(rule.check, set(names))
        if self.resolved_format == "csv" and self.sheet:
            raise ValueError("sheet: only xlsx files have sheets")
        return self

    @property
    def resolved_format(self) -> str:
        if self.format:
            return self.format
        suffix = Path(self.glob.replace("*", "x")).suffix.lower()
        if suffix not in EXTENSIONS:
            raise ValueError(
                f"glob: cannot tell the format from '{self.glob}'; add format: csv|xlsx|json|jsonl"
            )
        return EXTENSIONS[suffix]

    @property
    def arrow_schema(self) -> pa.Schema:
        fields = [(c.name, c.arrow_type) for c in self.columns]
        return pa.schema(fields + list(LINEAGE.items()))


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what} '{v}' appears twice")
        seen.add(v)


def check_rule(check: str, columns: set[str]) -> exp.Expression:
    """Parse a rule as one SQL condition over known columns (no queries, no statements)."""
    try:
        tree = sqlglot.parse_one(check, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise ValueError(f"rule '{check}' is not a SQL condition: {e}") from None
    if not isinstance(tree, exp.Condition) or tree.find(exp.Query, exp.Command, exp.DDL):
        raise ValueError(f"rule '{check}' must be a condition such as 'debit >= 0'")
    for col in tree.find_all(exp.Column):
        if col.table or col.name not in columns:
            raise ValueError(f"rule '{check}' uses unknown column '{col.sql()}'")
    return tree


def rule_sql(check: str) -> str:
    """The rule rendered for DuckDB with quoted identifiers (validated by ``check_rule``)."""
    return sqlglot.parse_one(check, read="duckdb").sql("duckdb", identify=True)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def parse_spec(doc: object, origin: str) -> FileSpec:
    if not isinstance(doc, dict):
        raise SpecError(f"{origin}: expected a mapping of keys (stream, source, glob, columns…)")
    try:
        return FileSpec.model_validate(doc)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            loc = err["loc"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (typo?)"
            elif loc and loc[0] == "columns" and len(loc) > 1 and isinstance(loc[1], int):
                cols = doc.get("columns") or []
                name = cols[loc[1]].get("name") if isinstance(cols[loc[1]], dict) else None
                if name:
                    loc = ("columns", f"{name}", *loc[2:])
            problems.append(f"{origin}: {_where(loc)}: {msg}")
        raise SpecError("\n".join(problems)) from None


def load_spec(path: Path) -> FileSpec:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: not valid YAML: {e}") from None
    return parse_spec(doc, str(path))


def load_specs(folder: Path = CONFIG_DIR) -> dict[str, FileSpec]:
    """Every ``*.yaml`` in ``folder`` by stream name; a stream declared twice is an error."""
    specs: dict[str, FileSpec] = {}
    origin: dict[str, Path] = {}
    for path in sorted(folder.glob("*.y*ml")):
        spec = load_spec(path)
        if spec.stream in specs:
            raise SpecError(
                f"{path}: stream: '{spec.stream}' is already declared in {origin[spec.stream]}"
            )
        specs[spec.stream] = spec
        origin[spec.stream] = path
    return specs


def main(argv: list[str] | None = None) -> int:
    """Check YAML files (default: all in CONFIG_DIR): `python -m ingest.sources.file_spec`."""
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or sorted(CONFIG_DIR.glob("*.y*ml"))
    ok = True
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as e:
            print(e, file=sys.stderr)
            ok = False
            continue
        print(f"ok  {path}: raw.{spec.stream}, {len(spec.columns)} columns, {spec.glob}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
