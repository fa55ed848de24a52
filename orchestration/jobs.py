"""Jobs are asset selections; schedules and sensors wrap them."""

from __future__ import annotations

import dagster as dg

from pipelines.bi_assets import dashboard_specs
from pipelines.constants import INGEST_GROUP

# dashboards are observed, not materialized, by the pipeline: Superset reads the marts live
dashboards = dg.AssetSelection.assets(*(spec.key for spec in dashboard_specs))
everything = dg.AssetSelection.all() - dashboards

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
