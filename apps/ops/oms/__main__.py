"""``python -m apps.ops.oms …``: the app-side commands the pipeline runs in a subprocess.

- ``lake-rules``: evaluate the lake-condition rules now (the write-back step after a build)
  and print the outcome as one JSON object; exit 1 if a rule could not run.
- ``demo-activity``: a few days of approval work for the demo company (idempotent).

The orchestrator calls these by module name, the way dagster-dbt calls ``dbt``: the
pipeline never imports the app (decision 0041). Settings come from the OPSLAKE_ environment.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import typer

app = typer.Typer(help="The ops app's write-back commands.", no_args_is_help=True)


@app.command("lake-rules")
def lake_rules() -> None:
    """Evaluate every enabled lake-condition rule now; print a JSON report."""
    from apps.ops.oms.loop import run_lake_rules

    result = run_lake_rules()
    typer.echo(json.dumps(asdict(result), ensure_ascii=False))
    if result.errors:
        raise typer.Exit(code=1)


@app.command("demo-activity")
def demo_activity() -> None:
    """Submit and decide a handful of demo purchase requests (once)."""
    from apps.ops.org.demo_activity import seed_demo_activity

    created = seed_demo_activity()
    typer.echo(json.dumps({"records_created": created}))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    app()
