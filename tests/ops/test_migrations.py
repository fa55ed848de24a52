"""The Alembic migrations own the schema; the models must match them."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from apps.ops.core.db import alembic_config, make_engine, migrate, normalize_url
from apps.ops.models import Base


def test_migrations_match_the_models(settings):
    migrate(settings.app_db)
    migrate(settings.app_db)  # a second run is a no-op
    engine = make_engine(settings.app_db)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(settings):
    migrate(settings.app_db)
    engine = make_engine(settings.app_db)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        # a record must point at a stored form version
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO form_records (form_name, form_version, data, status, created_by,"
                    " created_at, updated_at) VALUES ('ghost', 1, '{}', 'submitted', 'x',"
                    " '2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000')"
                )
            )
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(settings):
    migrate(settings.app_db)
    engine = make_engine(settings.app_db)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        migrate(engine)
        assert {"form_definitions", "form_records", "users"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_postgres_urls_get_the_psycopg_driver():
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"
