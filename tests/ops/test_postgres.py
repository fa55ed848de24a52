"""The record-submit path on PostgreSQL (127.0.0.1:5432). Uses a fresh database per run and
drops it afterwards; skipped, with the reason, when no server is reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from apps.ops.core.config import BUILTIN_FORMS_DIR
from apps.ops.core.db import make_engine
from apps.ops.main import create_app
from apps.ops.models import Base
from tests.ops.conftest import VALID_DATA, get_token, submit

ADMIN_URLS = [
    os.environ.get("OPSLAKE_TEST_PG_ADMIN_URL", ""),
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    problems = []
    for admin_url in filter(None, ADMIN_URLS):
        try:
            admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
            break
        except psycopg.Error as exc:
            problems.append(f"{admin_url}: {str(exc).strip().splitlines()[0]}")
    else:
        reason = "PostgreSQL not reachable; tried " + "; ".join(problems)
        print(reason)
        pytest.skip(reason)
    name = f"opslake_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = admin_url.rsplit("/", 1)[0]
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_submit_and_list_on_postgres(make_settings, pg_url):
    settings = make_settings(app_db=pg_url)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {get_token(client, 'operator')}"}
        created = submit(client, headers, VALID_DATA)
        assert created.status_code == 201, created.text
        assert created.json()["data"] == VALID_DATA
        assert created.json()["form_version"] == 1

        invalid = submit(client, headers, {**VALID_DATA, "quantity": 0})
        assert invalid.status_code == 422
        assert invalid.json()["errors"] == {"quantity": "Quantity must not be zero."}

        listed = client.get("/api/v1/forms/stock_adjustment/records", headers=headers).json()
        assert listed["count"] == 1
        assert listed["data"][0] == created.json()

    # restarting is idempotent here too (advisory lock, same versions and users)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}

    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            types = dict(
                conn.execute(
                    text(
                        "SELECT column_name, data_type FROM information_schema.columns"
                        " WHERE table_name = 'form_records'"
                    )
                ).all()
            )
            assert types == {
                "id": "integer",
                "form_name": "character varying",
                "form_version": "integer",
                "data": "json",
                "status": "character varying",
                "created_by": "character varying",
                "created_at": "timestamp with time zone",
                "updated_at": "timestamp with time zone",
            }
            shipped = len(list(BUILTIN_FORMS_DIR.glob("*.yaml")))  # one version each
            assert conn.execute(text("SELECT count(*) FROM form_definitions")).scalar() == shipped
            assert (
                conn.execute(text("SELECT data->>'note' FROM form_records")).scalar()
                == (VALID_DATA["note"])
            )
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
