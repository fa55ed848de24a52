"""One asset per source stream, landing in the raw zone of the lake."""

import dagster as dg

from ingest.core import run_stream
from ingest.registry import all_streams, feeds, streams_for
from pipelines.constants import INGEST_GROUP, LAKE_POOL
from pipelines.resources import LakeResource


def raw_key(stream: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", stream])


def _ingest_asset(stream_name: str, source: str, fed_by: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(stream_name),
        # a stream landing in this one's table (webhooks into the REST table) runs first
        deps=[raw_key(name) for name in fed_by],
        group_name=INGEST_GROUP,
        pool=LAKE_POOL,
        kinds={"python", "ducklake"},
        tags={"source": source},
        description=f"Every record version from {source} ({stream_name}), append-only.",
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        settings = lake.settings()
        stream = streams_for(settings, [stream_name])[0]
        target = lake.lake()
        target.init()  # idempotent: a first run on a new machine creates the lake
        result = run_stream(target, stream)
        context.log.info(
            f"{stream_name}: {result.rows_landed} rows landed, {result.rows_quarantined} "
            f"quarantined in {result.batches} batches ({result.batches_skipped} already landed)"
        )
        return dg.MaterializeResult(
            metadata={
                "rows_landed": result.rows_landed,
                "rows_quarantined": result.rows_quarantined,
                "batches": result.batches,
                "batches_skipped": result.batches_skipped,
                "cursor": result.cursor or "",
                "new_columns": ", ".join(result.new_columns),
            }
        )

    return _asset


_FEEDS = feeds()
ingest_assets = [
    _ingest_asset(name, source, sorted(s for s, table in _FEEDS.items() if table == name))
    for name, (source, _) in all_streams().items()
]
