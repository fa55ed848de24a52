"""The generic file connector: one YAML in ``ingest/config/files`` per raw table.

Every file matching a spec's glob lands exactly once: its content hash is a part of the
batch that carries it, so a file sent again, even under another name, adds nothing.
Files are read as text cells (CSV in UTF-8 or GBK, XLSX, JSON/JSONL), all files of a batch
that share a header are typed by one DuckDB statement, bad rows go to quarantine with
``file:line`` and a plain reason, and a file that cannot be used at all (encoding, missing
required column) is refused whole. The contract and how to add a source: ``FILES.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.core import SourceError, batch_id
from ingest.files import content_id
from ingest.sources.file_readers import Sheet, clean, parse_lines, read_file, rows_table
from ingest.sources.file_spec import CONFIG_DIR, SETTINGS_FOLDERS, FileSpec, load_specs
from ingest.sources.file_typing import type_group
from warehouse.loader import Batch, Rejected
from warehouse.settings import Settings


@dataclass
class FileStream:
    """The files of one spec below ``folder``, landed in batches of whole files."""

    spec: FileSpec
    folder: Path
    files_per_batch: int | None = None
    name: str = field(init=False)
    source: str = field(init=False)
    primary_key: tuple[str, ...] = field(init=False)
    cursor_field: str | None = None
    schema: pa.Schema = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.spec.stream
        self.source = self.spec.source
        self.primary_key = self.spec.primary_key
        self.schema = self.spec.arrow_schema
        self.files_per_batch = self.files_per_batch or self.spec.files_per_batch

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            raise SourceError(f"{self.name}: folder {self.folder} does not exist")
        return sorted(p for p in self.folder.glob(self.spec.glob) if p.is_file())

    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        seen = set(landed_parts)
        chunk: list[tuple[str, str, bytes]] = []
        size, limit = 0, self.spec.batch_megabytes << 20
        con: duckdb.DuckDBPyConnection | None = None  # opened once there is work
        try:
            for path in self.files():
                data = path.read_bytes()
                cid = content_id(data)
                if cid in seen:
                    continue
                seen.add(cid)
                chunk.append((cid, path.relative_to(self.folder).as_posix(), data))
                size += len(data)
                if len(chunk) >= (self.files_per_batch or 1) or size >= limit:
                    con = con or _connect()
                    yield self.batch(con, chunk)
                    chunk, size = [], 0
            if chunk:
                con = con or _connect()
                yield self.batch(con, chunk)
        finally:
            if con is not None:
                con.close()

    def batch(
        self, con: duckdb.DuckDBPyConnection, chunk: Sequence[tuple[str, str, bytes]]
    ) -> Batch:
        rows, rejected = parse_files(con, self.spec, [(label, data) for _, label, data in chunk])
        return Batch(
            stream=self.name,
            batch_id=batch_id(self.name, *(cid for cid, _, _ in chunk)),
            source=self.source,
            rows=rows,
            rejected=rejected,
            parts=[(cid, label) for cid, label, _ in chunk],
        )


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def parse_files(
    con: duckdb.DuckDBPyConnection, spec: FileSpec, files: Sequence[tuple[str, bytes]]
) -> tuple[pa.Table, list[Rejected]]:
    """Typed rows and rejected rows of several files (label, bytes) of one spec."""
    rejected: list[Rejected] = []
    groups: dict[tuple[str, ...], list[Sheet]] = {}
    for index, (label, data) in enumerate(files):
        try:
            sheet = read_file(index, label, data, spec)
        except SourceError as exc:  # the whole file is refused; nothing of it lands
            rejected.append(Rejected(label, str(exc), None))
            continue
        rejected.extend(sheet.rejected)
        groups.setdefault(tuple(sheet.header), []).append(sheet)
    tables: list[pa.Table] = []
    for header, sheets in groups.items():
        cells = _cells(sheets, len(header), spec, rejected)
        typed, bad = type_group(con, spec, sheets, cells)
        rejected.extend(bad)
        if typed is not None:
            tables.append(typed)
    if not tables:
        return spec.arrow_schema.empty_table(), rejected
    return pa.concat_tables(tables, promote_options="default"), rejected


def _cells(sheets: list[Sheet], width: int, spec: FileSpec, rejected: list[Rejected]) -> pa.Table:
    parsed, bad = parse_lines([s for s in sheets if s.lines is not None], width, spec)
    rejected.extend(bad)
    tables = [parsed] + [s.table for s in sheets if s.table is not None]
    tables = [t for t in tables if t.num_rows] or [rows_table(0, [], width)]
    cells = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return clean(cells, spec.strip_leading_apostrophe)


def folder_of(spec: FileSpec, settings: Settings) -> Path:
    """The spec's base folder: a settings folder by name, or a path (relative to home)."""
    if spec.base in SETTINGS_FOLDERS:
        return Path(getattr(settings, spec.base))
    path = Path(spec.base).expanduser()
    return path if path.is_absolute() else settings.home / path


def stream_for(spec: FileSpec, settings: Settings) -> FileStream:
    return FileStream(spec, folder_of(spec, settings))


def _factory(spec: FileSpec):  # noqa: ANN202 - a StreamFactory
    return lambda settings: stream_for(spec, settings)


SPECS = load_specs(CONFIG_DIR)
STREAMS = {name: (spec.source, _factory(spec)) for name, spec in SPECS.items()}
