"""POS stores: daily sales CSV files dropped into a folder, one row per line item.

POS is one configuration of the generic file connector (``ingest/sources/files.py``):
``ingest/config/files/pos_sales_lines.yaml`` declares its columns, the preamble and
"Summary" rows, the money formats and the inbox folder (settings ``pos_inbox``). Each file
lands exactly once (its content hash is its identity), so a file sent again, even under
another name, adds nothing; an extra column from some date on is kept (schema evolution).
The stream is registered by ``ingest.sources.files`` with every other YAML-defined file.
"""

from __future__ import annotations

from pathlib import Path

from ingest.sources.files import SPECS, FileStream

SPEC = SPECS["pos_sales_lines"]
SCHEMA = SPEC.arrow_schema


def PosSalesStream(folder: Path, files_per_batch: int | None = None) -> FileStream:  # noqa: N802
    """Every ``*.csv`` below ``folder`` (kept as a name for callers of the old class)."""
    return FileStream(SPEC, Path(folder), files_per_batch)


# registered from its YAML by ingest.sources.files
STREAMS: dict = {}
