"""The one settings object of OpsLake.

Every value can be set by an environment variable with the ``OPSLAKE_`` prefix
(``OPSLAKE_HOME=/srv/opslake``, ``OPSLAKE_OPS_PORT=9000``) or in a ``.env`` file.
Defaults put all state under ``var/`` in the working directory, so a clean clone
runs without any configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPSLAKE_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Root of all local state")
    lake_dir: Path | None = Field(default=None, description="Lake folder (default <home>/lake)")
    extension_dir: Path | None = Field(
        default=None,
        description="DuckDB extensions installed from wheels (default <home>/duckdb_ext)",
    )
    demo_dir: Path | None = Field(
        default=None, description="Source-side demo company data (default <home>/demo)"
    )
    pos_inbox: Path | None = Field(
        default=None, description="Folder POS stores drop daily CSV files in (default <demo>/pos)"
    )
    app_db: str | None = Field(
        default=None, description="SQLAlchemy URL of the ops app store (default SQLite in <home>)"
    )
    host: str = "127.0.0.1"
    dagster_port: int = 3000
    ops_port: int = 8000
    superset_port: int = 8088
    timezone: str = "Asia/Shanghai"
    duckdb_threads: int = 2
    duckdb_memory_limit: str = "4GB"
    secret_key: str = "opslake-dev-secret-change-me"

    def model_post_init(self, __context: object) -> None:
        self.home = self.home.absolute()
        self.lake_dir = (self.lake_dir or self.home / "lake").absolute()
        self.extension_dir = (self.extension_dir or self.home / "duckdb_ext").absolute()
        self.demo_dir = (self.demo_dir or self.home / "demo").absolute()
        self.pos_inbox = (self.pos_inbox or self.demo_dir / "pos").absolute()
        if self.app_db is None:
            self.app_db = f"sqlite:///{self.home / 'app.db'}"

    @property
    def catalog_path(self) -> Path:
        return self.lake_dir / "catalog.sqlite"

    @property
    def data_path(self) -> Path:
        return self.lake_dir / "data"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def run_dir(self) -> Path:
        """PID files and logs of the services ``make up`` starts."""
        return self.home / "run"


@lru_cache
def get_settings() -> Settings:
    return Settings()
