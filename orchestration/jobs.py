"""Jobs are asset selections; schedules and sensors wrap them."""

from __future__ import annotations

import dagster as dg

from ingest.registry import all_streams
from pipelines.bi_assets import dashboard_specs
from pipelines.constants import INGEST_GROUP
from pipelines.writeback_assets import LAKE_RULES_KEY

# dashboards are observed, not materialized, by the pipeline: Superset reads the marts live
dashboards = dg.AssetSelection.assets(*(spec.key for spec in dashboard_specs))
lake_rules = dg.AssetSelection.assets(LAKE_RULES_KEY)
# the app's write-back runs in its own job (below), not in every build
everything = dg.AssetSelection.all() - dashboards - lake_rules

build_all_job = dg.define_asset_job(
    "build_all",
    selection=everything,
    description="Ingest every source, then build every model with its tests.",
)

pos_job = dg.define_asset_job(
    "pos_files",
    selection=dg.AssetSelection.assets(["raw", "pos_sales_lines"]).downstream() - dashboards,
    description="Land new POS files and rebuild what depends on them.",
)

ingest_job = dg.define_asset_job("ingest_all", selection=dg.AssetSelection.groups(INGEST_GROUP))

# The write-back loop in one job: the app store's streams and the operations marts, the
# marts the lake rules read with what feeds them (inventory), then the rules. Orders and
# order lines, which the inventory marts also read, are left to the hourly build.
APP_STREAMS = [
    dg.AssetKey(["raw", name]) for name, (source, _) in all_streams().items() if source == "app_db"
]
_order_lines = dg.AssetSelection.assets(dg.AssetKey(["marts", "fct_order_lines"])).upstream()
writeback_job = dg.define_asset_job(
    "writeback_loop",
    selection=(
        (lake_rules.upstream() - _order_lines) | dg.AssetSelection.assets(*APP_STREAMS).downstream()
    )
    - dashboards,
    description=(
        "Ingest the ops app store, rebuild the operations and inventory marts, then let the "
        "lake-condition rules write back (purchase requests, notices)."
    ),
)
