"""A POS file dropped into the inbox is landed and built."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import pos_job
from warehouse.settings import Settings


@dg.sensor(job=pos_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def pos_inbox_sensor(context: dg.SensorEvaluationContext):
    inbox = Settings().pos_inbox
    if not inbox.is_dir():
        return dg.SkipReason(f"POS inbox {inbox} does not exist yet")
    newest = max((p.stat().st_mtime_ns for p in inbox.rglob("*.csv")), default=0)
    if context.cursor is None:
        # files already there when the sensor starts were landed by the build that came with
        # them (`make up`, the hourly schedule); start watching from here
        context.update_cursor(str(newest))
        return dg.SkipReason("watching the POS inbox from now on")
    last = int(context.cursor)
    if newest <= last:
        return dg.SkipReason("no new POS files")
    context.update_cursor(str(newest))
    # the loader skips files that already landed, so a spurious run adds nothing
    return dg.RunRequest(run_key=f"pos-{newest}")
