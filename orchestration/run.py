"""Run a Dagster job in this process, on the instance the webserver shows, with progress."""

from __future__ import annotations

import os
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from warehouse.settings import Settings


def instance():
    import dagster as dg

    home = Settings().dagster_home
    os.environ.setdefault("DAGSTER_HOME", str(home))
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def run_job(name: str, console: Console) -> bool:
    """Execute ``name`` from the definitions; True when every step succeeded."""
    import dagster as dg
    from dagster._core.utils import make_new_run_id

    inst = instance()
    from orchestration.definitions import defs

    job = defs.resolve_job_def(name)
    selection = job.asset_layer.executable_asset_keys if job.asset_layer else set()
    run_id = make_new_run_id()
    result: dict[str, object] = {}

    def execute() -> None:
        try:
            result["r"] = job.execute_in_process(instance=inst, run_id=run_id, raise_on_error=False)
        except BaseException as exc:  # surfaced below, in the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=execute, daemon=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"{name}: assets materialized", total=len(selection) or None)
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            done = len(inst.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION))
            progress.update(task, completed=done)
        time.sleep(0)
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    run = result["r"]
    failures = [
        e
        for e in run.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE  # type: ignore[attr-defined]
    ]
    for event in failures:
        error = event.event_specific_data.error
        while error.cause is not None:  # the innermost error names what went wrong
            error = error.cause
        error = error.message.strip()
        console.print(f"[red]failed:[/red] {event.step_key}: {error}")
    console.print(
        f"run {run_id} {'succeeded' if run.success else 'FAILED'}"  # type: ignore[attr-defined]
        f" — see it in the Dagster UI under Runs"
    )
    return bool(run.success)  # type: ignore[attr-defined]
