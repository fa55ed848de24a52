"""Browser tests: the ops app served by uvicorn in a thread on a free 127.0.0.1 port,
driven by Debian's Chromium through Playwright (never ``playwright install``)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from apps.ops.core.clock import SystemClock
from apps.ops.core.config import BUILTIN_RULES_DIR, OpsSettings
from apps.ops.main import create_app

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveApp:
    base_url: str
    settings: OpsSettings


def _app_settings(home: Path, app_db: str, rules: Path) -> OpsSettings:
    shutil.copytree(BUILTIN_RULES_DIR, rules)
    return OpsSettings(
        _env_file=None,
        home=home,
        app_db=app_db,
        environment="development",
        seed_demo_users=True,
        secret_key="browser-test-secret-key-that-is-long-enough-0123",
        scheduler_interval_seconds=0,
        rules_dir=rules,
        smtp_port=free_port(),  # nobody listens: e-mail actions are retried, not sent
    )


@contextmanager
def serving(settings: OpsSettings) -> Iterator[LiveApp]:
    """uvicorn in a thread on a free port until the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=SystemClock()),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    settings = _app_settings(tmp_path, f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "rules")
    with serving(settings) as app:
        yield app


@pytest.fixture
def demo_live_app(demo_lake, tmp_path: Path) -> Iterator[LiveApp]:
    """The ops app on the demo company's own app store: the one its pipeline ingests and
    whose marts the session's Superset shows."""
    home = demo_lake.settings.home
    settings = _app_settings(home, demo_lake.settings.app_db, tmp_path / "rules")
    with serving(settings) as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (make browser installs Debian's chromium)"
        print(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
