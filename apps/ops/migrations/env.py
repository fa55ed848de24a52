"""Alembic environment of the ops app store.

Called two ways: by :func:`apps.ops.core.db.migrate` with an open connection in
``config.attributes["connection"]`` (inside its locked transaction), or by the ``alembic``
CLI with ``apps/ops/alembic.ini``, which connects to ``OPSLAKE_APP_DB``.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from apps.ops.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER via table copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    from apps.ops.core.config import get_ops_settings
    from apps.ops.core.db import locked_transaction, make_engine

    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    engine = make_engine(config.get_main_option("sqlalchemy.url") or get_ops_settings().app_db)
    try:
        with locked_transaction(engine) as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
