"""Fixtures shared by every test: an isolated OPSLAKE_HOME and a lake in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from warehouse.lake import Lake
from warehouse.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def extension_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Extensions installed once per session (from the wheels, never the network)."""
    from warehouse.extensions import ensure_extensions

    path = tmp_path_factory.mktemp("duckdb_ext")
    ensure_extensions(path)
    return path


@pytest.fixture
def home(tmp_path: Path, extension_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """OPSLAKE_HOME for this test; every Settings() made during the test points here."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("OPSLAKE_HOME", str(h))
    monkeypatch.setenv("OPSLAKE_EXTENSION_DIR", str(extension_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(h / "dagster"))
    return h


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings()


@pytest.fixture
def lake(settings: Settings) -> Lake:
    lk = Lake.from_settings(settings)
    lk.init()
    return lk


@dataclass(frozen=True)
class DemoLake:
    """A small demo company built through the real pipeline, shared by a test session."""

    settings: Settings
    lake: Lake
    truth: dict[str, Any]


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory, extension_dir: Path) -> DemoLake:
    """Generator (scale 2000) → connectors → raw → dbt build, all through Dagster."""
    from rich.console import Console

    from ingest.demo import generate
    from orchestration.run import run_job

    home = tmp_path_factory.mktemp("demo-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPSLAKE_HOME", str(home))
        mp.setenv("OPSLAKE_EXTENSION_DIR", str(extension_dir))
        mp.setenv("DAGSTER_HOME", str(home / "dagster"))
        settings = Settings()
        truth = generate(settings.demo_dir, scale=2000, seed=11)
        from apps.ops.core.db import migrate

        migrate(settings.app_db)
        from apps.ops.org.demo_activity import seed_demo_activity

        seed_demo_activity(settings)  # approvals and rule firings, as `make up` seeds them
        assert run_job("build_all", Console(stderr=True)), "the demo pipeline failed"
    return DemoLake(settings, Lake.from_settings(settings), truth)
