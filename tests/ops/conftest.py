"""Fixtures of the ops app tests: an app per test on a fresh SQLite file, clients, tokens."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from apps.ops.core import security
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
