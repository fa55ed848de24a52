"""Which streams this installation reads, built from the settings.

Each entry is a stream name (its raw table) and a factory. Dagster assets and the
`opslake ingest` command are generated from this one list.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.core import Stream
from ingest.sources.app_db import AppRecordsStream
from ingest.sources.pos import PosSalesStream
from warehouse.settings import Settings

StreamFactory = Callable[[Settings], Stream]

STREAMS: dict[str, tuple[str, StreamFactory]] = {
    # name: (source, factory)
    "pos_sales_lines": ("pos", lambda s: PosSalesStream(s.pos_inbox)),
    "app_form_records": ("app_db", lambda s: AppRecordsStream(s.app_db)),
}


def sources() -> list[str]:
    return sorted({source for source, _ in STREAMS.values()})


def streams_for(settings: Settings, selected: list[str] | None = None) -> list[Stream]:
    """Streams of the selected sources or stream names (all when none are given)."""
    if selected:
        known = set(STREAMS) | set(sources())
        unknown = [s for s in selected if s not in known]
        if unknown:
            raise KeyError(
                f"unknown source {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
    return [
        factory(settings)
        for name, (source, factory) in STREAMS.items()
        if not selected or name in selected or source in selected
    ]
