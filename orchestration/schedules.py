from __future__ import annotations

import dagster as dg

from orchestration.jobs import build_all_job

hourly_build = dg.ScheduleDefinition(
    name="hourly_build",
    job=build_all_job,
    cron_schedule="0 * * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
