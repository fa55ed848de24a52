"""Wires assets, jobs, schedules, sensors and resources together; nothing else."""

import dagster as dg

from orchestration.jobs import build_all_job, ingest_job, pos_job, writeback_job
from orchestration.resources import resources
from orchestration.schedules import hourly_build, hourly_writeback, nightly_full_refresh
from orchestration.sensors import pos_inbox_sensor
from pipelines.bi_assets import dashboard_specs
from pipelines.dbt_assets import opslake_dbt_assets
from pipelines.ingest_assets import ingest_assets
from pipelines.writeback_assets import writeback_assets

defs = dg.Definitions(
    assets=[*ingest_assets, opslake_dbt_assets, *writeback_assets, *dashboard_specs],
    jobs=[build_all_job, ingest_job, pos_job, writeback_job],
    schedules=[hourly_build, hourly_writeback, nightly_full_refresh],
    sensors=[pos_inbox_sensor],
    resources=resources(),
)
