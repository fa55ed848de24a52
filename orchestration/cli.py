"""The `opslake` command line."""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from warehouse.settings import Settings

app = typer.Typer(
    help="OpsLake: the operations lakehouse. Every command has --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
demo_app = typer.Typer(help="The demo company.", no_args_is_help=True)
lake_app = typer.Typer(
    help="The lake: init, snapshots, quarantine, backup, restore.", no_args_is_help=True
)
app.add_typer(demo_app, name="demo")
app.add_typer(lake_app, name="lake")


def _mount_app_commands() -> None:
    """The ops app's own commands: `opslake audit verify`."""
    from apps.ops.cli import app as audit_app

    app.add_typer(audit_app, name="audit")


_mount_app_commands()

console = Console(stderr=True)
out = Console()
F = TypeVar("F", bound=Callable[..., object])


def friendly(fn: F) -> F:
    """Turn our expected failures into one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        from ingest.core import SourceError
        from warehouse.lake import LakeError
        from warehouse.loader import LoadError

        try:
            return fn(*args, **kwargs)
        except (LakeError, SourceError, LoadError, ValueError, KeyError, OSError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    return Settings()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


# --- setup -------------------------------------------------------------------------------


@app.command()
@friendly
def setup() -> None:
    """Create the lake, install DuckDB extensions offline and prepare Dagster's home."""
    from warehouse.lake import Lake

    s = settings()
    Lake.from_settings(s).init()
    s.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).with_name("dagster.yaml"), s.dagster_home / "dagster.yaml")
    out.print(f"lake ready at {s.lake_dir}")


# --- demo --------------------------------------------------------------------------------


@demo_app.command("generate")
@friendly
def demo_generate(
    scale: Annotated[int, typer.Option(help="Orders over the two years (all channels).")] = 50_000,
    seed: Annotated[int, typer.Option(help="Same seed, same company.")] = 42,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Target folder (default: OPSLAKE_HOME/demo).")
    ] = None,
) -> None:
    """Generate the demo company's source-side data (deterministic for a seed)."""
    if scale < 100:
        raise ValueError(f"--scale must be at least 100 orders (got {scale})")
    from ingest.demo import generate

    target = out_dir or settings().demo_dir
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        truth = generate(target, scale=scale, seed=seed, progress=report)
    out.print(f"demo company written to {target} ({len(truth)} facts in truth.json)")


# --- lake --------------------------------------------------------------------------------


@lake_app.command("init")
@friendly
def lake_init() -> None:
    """Create the lake if it does not exist (idempotent)."""
    from warehouse.lake import Lake

    lake = Lake.from_settings(settings())
    lake.init()
    out.print(f"lake ready at {lake.catalog_path.parent}")


@lake_app.command("snapshots")
@friendly
def lake_snapshots(last: Annotated[int, typer.Option(help="How many to show.")] = 20) -> None:
    """List the lake's snapshots (every commit), newest last."""
    from warehouse.lake import Lake

    rows = Lake.from_settings(settings()).snapshots()[-last:]
    table = Table("snapshot", "time (UTC)", "changes")
    for r in rows:
        table.add_row(str(r["snapshot_id"]), str(r["snapshot_time"])[:19], str(r["changes"])[:100])
    out.print(table)


@lake_app.command("quarantine")
@friendly
def lake_quarantine(limit: Annotated[int, typer.Option(help="Rows to show.")] = 50) -> None:
    """Show rejected records with their source, location and reason."""
    from warehouse.lake import Lake

    with Lake.from_settings(settings()).reading() as con:
        rows = con.execute(
            "SELECT stream, location, reason FROM raw._quarantine "
            "ORDER BY received_at DESC LIMIT ?",
            [limit],
        ).fetchall()
    table = Table("stream", "location", "reason")
    for r in rows:
        table.add_row(*map(str, r))
    out.print(table)


@lake_app.command("backup")
@friendly
def lake_backup(path: Annotated[Path, typer.Argument(help="A new, empty folder.")]) -> None:
    """Copy the lake (catalog and data) into PATH."""
    from warehouse.backup import backup
    from warehouse.lake import Lake

    backup(Lake.from_settings(settings()), path)
    out.print(f"backup written to {path}")


@lake_app.command("restore")
@friendly
def lake_restore(
    path: Annotated[Path, typer.Argument(help="A folder made by `lake backup`.")],
) -> None:
    """Replace the lake by the backup in PATH (the current lake is kept beside it)."""
    from warehouse.backup import restore
    from warehouse.lake import Lake

    restore(Lake.from_settings(settings()), path)
    out.print(f"lake restored from {path}")


# --- ingest and build ---------------------------------------------------------------------


@app.command()
@friendly
def ingest(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources or streams (default: all).")
    ] = None,
) -> None:
    """Land new data from the sources into the lake's raw zone."""
    from ingest.core import SourceError, run_stream
    from ingest.registry import streams_for
    from warehouse.lake import Lake

    s = settings()
    lake = Lake.from_settings(s)
    lake.init()
    streams = streams_for(s, sources or None)
    table = Table("stream", "rows landed", "quarantined", "batches", "cursor")
    failed: list[str] = []
    with _progress() as progress:
        for stream in streams:
            task = progress.add_task(stream.name, total=None)

            def report(name: str, done: int, total: int | None, task: int = task) -> None:
                progress.update(task, completed=done, total=total)

            try:
                result = run_stream(lake, stream, report)
            except SourceError as exc:
                # one source down must not keep the others from landing
                failed.append(f"{stream.name}: {exc}")
                table.add_row(stream.name, "—", "—", "[red]failed[/red]", "unchanged")
                continue
            progress.update(task, total=max(result.batches, 1), completed=max(result.batches, 1))
            table.add_row(
                result.stream,
                str(result.rows_landed),
                str(result.rows_quarantined),
                f"{result.batches - result.batches_skipped} new, {result.batches_skipped} replayed",
                result.cursor or "",
            )
    out.print(table)
    for line in failed:
        console.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@app.command()
@friendly
def build(
    job: Annotated[str, typer.Option(help="Dagster job to run.")] = "build_all",
) -> None:
    """Run the pipeline (ingest → dbt models and tests) through Dagster, in this process."""
    from orchestration.run import run_job

    ok = run_job(job, console)
    if not ok:
        raise typer.Exit(1)


metrics_app = typer.Typer(help="The semantic layer: every KPI defined once.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")


def _metric_service():  # type: ignore[no-untyped-def]
    from pipelines.constants import DBT_PROJECT_DIR
    from semantic.service import MetricService
    from warehouse.lake import Lake

    manifest = DBT_PROJECT_DIR / "target" / "semantic_manifest.json"
    if not manifest.exists():
        raise ValueError(f"{manifest} is missing: run `opslake build` (or dbt parse) first")
    return MetricService(manifest, Lake.from_settings(settings()).reader)


@metrics_app.command("list")
@friendly
def metrics_list() -> None:
    """List the metrics with their labels."""
    table = Table("metric", "type", "label")
    with _metric_service() as service:
        for m in service.list_metrics():
            table.add_row(m.name, m.type, m.label or "")
    out.print(table)


@metrics_app.command("query")
@friendly
def metrics_query(
    metrics: Annotated[list[str], typer.Argument(help="Metric names.")],
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Group by, e.g. metric_time__month.")
    ] = None,
    where: Annotated[list[str] | None, typer.Option(help="Filter DIM=VALUE (repeatable).")] = None,
    start: Annotated[str | None, typer.Option(help="metric_time from (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="metric_time to (YYYY-MM-DD).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the SQL instead of running it.")
    ] = False,
) -> None:
    """Query metrics, e.g. `opslake metrics query pos_net_sales --by metric_time__month`."""
    from semantic.errors import SemanticError
    from semantic.query import Filter, MetricQuery

    filters = []
    for item in where or []:
        dim, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--where {item!r}: write DIMENSION=VALUE")
        filters.append(Filter(dim.strip(), "=", value.strip()))
    try:
        query = MetricQuery(
            metrics=metrics, group_by=by or [], where=filters, start=start, end=end, limit=limit
        )
        with _metric_service() as service:
            if sql:
                out.print(service.compile(query), highlight=False)
                return
            result = service.query(query)
    except SemanticError as exc:
        raise ValueError(str(exc)) from None
    table = Table(*result.columns)
    for row in result.table.to_pylist():
        table.add_row(*(str(row[c]) for c in result.columns))
    out.print(table)


services_app = typer.Typer(
    help="The long-running services (Dagster, ops app).", no_args_is_help=True
)
app.add_typer(services_app, name="services")


@services_app.command("up")
@friendly
def services_up(
    only: Annotated[
        list[str] | None,
        typer.Option(help="Start only these (dagster-webserver, dagster-daemon, ops, docs)."),
    ] = None,
) -> None:
    """Start Dagster (webserver + daemon), the ops app and the dbt docs unless running."""
    from orchestration import services

    try:
        for name, state in services.up(settings(), only).items():
            out.print(f"{name}: {state}")
    except RuntimeError as exc:
        raise ValueError(str(exc)) from None


@services_app.command("docs")
@friendly
def services_docs() -> None:
    """Generate the dbt docs (models, columns, lineage) as one static page for `services up`."""
    from orchestration import services

    try:
        page = services.generate_docs(settings())
    except RuntimeError as exc:
        raise ValueError(str(exc)) from None
    out.print(f"dbt docs written to {page}")


@services_app.command("urls")
def services_urls() -> None:
    """Print where each service answers and the demo logins."""
    s = settings()
    base = f"http://{s.host}"
    # plain lines, not a table: URLs must survive any terminal width and a log file
    out.print("\nOpsLake is up:", highlight=False)
    for name, url, login in (
        (
            "Superset (dashboards)",
            f"{base}:{s.superset_port}/",
            "admin/admin, exec/exec (view only), analyst/analyst",
        ),
        (
            "Ops app (forms, approvals)",
            f"{base}:{s.ops_port}/",
            "admin/admin, operator/operator, pm_li/pm_li (manager), fd_chen/fd_chen (finance)",
        ),
        ("Ops API (OpenAPI)", f"{base}:{s.ops_port}/docs", "token: POST /api/v1/auth/token"),
        ("Dagster (pipelines, lineage)", f"{base}:{s.dagster_port}/", "no login"),
        ("dbt docs (models, columns)", f"{base}:{s.docs_port}/", "no login"),
    ):
        out.print(f"  {name:<30} {url:<32} {login}", highlight=False, soft_wrap=True)
    out.print("Stop everything with: make down", highlight=False)


@services_app.command("down")
@friendly
def services_down() -> None:
    """Stop exactly the services `services up` started (by their recorded PIDs)."""
    from orchestration import services

    for name, state in services.down(settings()).items():
        out.print(f"{name}: {state}")


def main() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("DAGSTER_HOME", str(settings().dagster_home))
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
