"""``opslake audit …``: a typer sub-app (mounted by the project CLI)."""

from __future__ import annotations

from typing import Annotated

import typer

from apps.ops.audit import verify as verify_chain

app = typer.Typer(help="The audit log of the ops app store.", no_args_is_help=True)


@app.callback()
def _main() -> None:
    """Audit log commands."""


@app.command()
def verify(
    db: Annotated[
        str | None, typer.Option("--db", help="App store URL (default: OPSLAKE_APP_DB)")
    ] = None,
) -> None:
    """Check the hash chain of the audit log; exit 1 naming the first bad entry."""
    from apps.ops.core.config import get_ops_settings

    result = verify_chain(db or get_ops_settings().app_db)
    if result.ok:
        typer.echo(result.message)
        return
    typer.echo(result.message, err=True)
    raise typer.Exit(code=1)
