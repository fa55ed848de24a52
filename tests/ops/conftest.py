"""Fixtures of the ops app tests: an app per test on a fresh SQLite file, clients, tokens."""

from __future__ import annotations

import os
import re
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from apps.ops.core import security
from apps.ops.core.clock import ManualClock
from apps.ops.core.config import BUILTIN_FORMS_DIR, OpsSettings
from apps.ops.main import create_app

with warnings.catch_warnings():
    # starlette 1.x: "Using httpx with starlette.testclient is deprecated" (httpx2); not ours.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from fastapi.testclient import TestClient

VALID_DATA = {
    "warehouse": "WH01",
    "sku": "OL-KIT-0001",
    "quantity": -2,
    "reason": "damage",
    "note": "跌落破损 2 件",
}


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Still argon2id, but with tiny cost parameters: the real ones take ~0.15 s per hash."""
    original = security._password_hash
    security._password_hash = PasswordHash(
        (Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)
    )
    security._dummy_hash.cache_clear()
    yield
    security._password_hash = original
    security._dummy_hash.cache_clear()


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped form definitions."""
    folder = tmp_path / "forms"
    shutil.copytree(BUILTIN_FORMS_DIR, folder)
    return folder


@pytest.fixture
def make_settings(tmp_path: Path, forms_dir: Path) -> Callable[..., OpsSettings]:
    def make(**overrides: Any) -> OpsSettings:
        values: dict[str, Any] = {
            "home": tmp_path,
            "app_db": f"sqlite:///{tmp_path / 'app.db'}",
            "forms_dir": forms_dir,
            "environment": "development",
            "seed_demo_users": True,
            "secret_key": "test-secret-key-that-is-long-enough-0123456789",
            "scheduler_interval_seconds": 0,  # tests tick the scheduler themselves
            "rules_dir": tmp_path / "no-rules",
            **overrides,
        }
        return OpsSettings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., OpsSettings]) -> OpsSettings:
    return make_settings()


@pytest.fixture
def client(settings: OpsSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def get_token(client: TestClient, username: str = "admin", password: str | None = None) -> str:
    response = client.post(
        "/api/v1/auth/token", data={"username": username, "password": password or username}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def auth_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client, 'operator')}"}


def submit(
    client: TestClient,
    headers: dict[str, str],
    data: dict[str, Any],
    form: str = "stock_adjustment",
) -> Any:
    return client.post(f"/api/v1/forms/{form}/records", headers=headers, json={"data": data})


def web_login(client: TestClient, username: str = "operator") -> None:
    response = client.post(
        "/login", data={"username": username, "password": username}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


# engines ------------------------------------------------------------------------------------

PG_ADMIN_URLS = [
    os.environ.get("OPSLAKE_TEST_PG_ADMIN_URL", ""),
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
]


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    psycopg = pytest.importorskip("psycopg")
    problems = []
    for url in filter(None, PG_ADMIN_URLS):
        try:
            psycopg.connect(url, autocommit=True, connect_timeout=3).close()
            return url
        except psycopg.Error as exc:
            problems.append(f"{url}: {str(exc).strip().splitlines()[0]}")
    reason = "PostgreSQL not reachable; tried " + "; ".join(problems)
    print(reason)
    pytest.skip(reason)


def fresh_pg_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"opslake_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The app store URL, once on SQLite and once on PostgreSQL (skipped if unreachable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'engines.db'}"
    else:
        yield from fresh_pg_database(request.getfixturevalue("pg_admin_url"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
def ops_app(make_settings: Callable[..., OpsSettings], clock: ManualClock, db_url: str):
    """An app (both databases) with a manual clock and the demo organisation."""
    with TestClient(create_app(make_settings(app_db=db_url), clock=clock)) as test_client:
        yield test_client


def headers_for(client: TestClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client, username)}"}


def purchase(amount: str, **extra: Any) -> dict[str, Any]:
    """A purchase request with one line item worth ``amount``."""
    return {
        "title": "办公电脑 Office PCs",
        "urgency": "normal",
        "items": [{"item": "PC", "quantity": 1, "unit_price": amount}],
        **extra,
    }


def tick(client: TestClient) -> Any:
    from apps.ops.scheduler import tick as run_tick

    app = client.app
    return run_tick(app.state.sessionmaker, app.state.ops, app.state.smtp)  # type: ignore[attr-defined]
