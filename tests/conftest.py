"""Fixtures shared by every test: an isolated OPSLAKE_HOME and a lake in it."""

from __future__ import annotations

from pathlib import Path

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
