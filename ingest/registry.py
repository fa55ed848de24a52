"""Which streams this installation reads, built from the settings.

Every source module contributes a ``STREAMS`` mapping of stream name (its raw table) to
(source, factory); the Dagster assets and `opslake ingest` are generated from their union.
Add a module to ``SOURCE_MODULES`` to add its streams.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from ingest.core import Stream
from warehouse.settings import Settings

StreamFactory = Callable[[Settings], Stream]

SOURCE_MODULES = (
    "ingest.sources.pos",
    "ingest.sources.app_db",
    "ingest.sources.files",
    "ingest.sources.tmall",
    "ingest.sources.jd",
    "ingest.sources.douyin",
    "ingest.sources.shopify",
    "ingest.sources.shopify_webhooks",
    "ingest.sources.dingtalk",
    "ingest.sources.wecom",
    "ingest.sources.rest",
)


@cache
def all_streams() -> dict[str, tuple[str, StreamFactory]]:
    streams: dict[str, tuple[str, StreamFactory]] = {}
    for module_name in SOURCE_MODULES:
        module = importlib.import_module(module_name)
        for name, entry in module.STREAMS.items():
            if name in streams:
                raise ValueError(f"stream {name} is declared twice (again in {module_name})")
            streams[name] = entry
    return streams


def feeds() -> dict[str, str]:
    """Streams that land in another stream's raw table (module ``FEEDS``): stream -> table."""
    out: dict[str, str] = {}
    for module_name in SOURCE_MODULES:
        out |= getattr(importlib.import_module(module_name), "FEEDS", {})
    return out


def sources() -> list[str]:
    return sorted({source for source, _ in all_streams().values()})


def streams_for(settings: Settings, selected: list[str] | None = None) -> list[Stream]:
    """Streams of the selected sources or stream names (all when none are given)."""
    streams = all_streams()
    if selected:
        known = set(streams) | set(sources())
        unknown = [s for s in selected if s not in known]
        if unknown:
            raise KeyError(
                f"unknown source {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
    return [
        factory(settings)
        for name, (source, factory) in streams.items()
        if not selected or name in selected or source in selected
    ]
