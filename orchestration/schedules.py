"""When the pipeline runs by itself (times in the company's zone)."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import build_all_job, writeback_job

TZ = "Asia/Shanghai"

hourly_build = dg.ScheduleDefinition(
    name="hourly_build",
    job=build_all_job,
    cron_schedule="5 * * * *",
    execution_timezone=TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Pull every API source from its cursor, land new files, build the marts.",
)

nightly_full_refresh = dg.ScheduleDefinition(
    name="nightly_full_refresh",
    job=build_all_job,
    cron_schedule="30 2 * * *",
    execution_timezone=TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    run_config={"ops": {"opslake_dbt_assets": {"config": {"full_refresh": True}}}},
    description="Rebuild incremental marts from all of raw, so drift cannot accumulate.",
)

hourly_writeback = dg.ScheduleDefinition(
    name="hourly_writeback",
    job=writeback_job,
    cron_schedule="35 * * * *",  # half an hour after the hourly build
    execution_timezone=TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Ingest the app store, refresh the marts the lake rules read, run the rules.",
)
