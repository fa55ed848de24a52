"""The one settings object of OpsLake.

Every value can be set by an environment variable with the ``OPSLAKE_`` prefix
(``OPSLAKE_HOME=/srv/opslake``, ``OPSLAKE_OPS_PORT=9000``) or in a ``.env`` file.
Defaults put all state under ``var/`` in the working directory, so a clean clone
runs without any configuration.
"""

from __future__ import annotations

from datetime import date
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
    docs_port: int = Field(default=8081, description="Static dbt docs server of `make up`")
    timezone: str = "Asia/Shanghai"
    duckdb_threads: int = 2
    # DuckDB's buffers; a dbt build peaks ~0.5 GiB above it (decision 0062)
    duckdb_memory_limit: str = "3GB"
    secret_key: str = "opslake-dev-secret-change-me"

    # --- API sources (issue #3): endpoints and credentials --------------------------------
    # Defaults serve the demo company through the fake servers (python -m ingest.demo.servers);
    # set a source's *_url (and its credentials) to read the real platform instead.
    api_url: str = Field(
        default="http://127.0.0.1:8900", description="Base URL of the demo API server"
    )
    api_demo_autostart: bool = Field(
        default=True,
        description="When a source's URL is unset and api_url does not serve <demo_dir>, "
        "serve <demo_dir> with the fake server on a free port for the run",
    )
    api_start: date = Field(
        default=date(2024, 11, 1), description="First day (GMT+8) a first run asks the APIs for"
    )
    api_timeout: float = Field(default=30.0, description="Seconds per HTTP request")
    api_attempts: int = Field(default=6, description="Attempts per call before failing")
    tmall_url: str | None = Field(default=None, description="TOP gateway (…/router/rest)")
    tmall_app_key: str = "opslake-demo-app"
    tmall_app_secret: str = "opslake-demo-secret"
    tmall_session: str = "opslake-demo-session"
    tmall_refresh_token: str = Field(
        default="opslake-demo-refresh", description="renews an expired session; empty: none"
    )
    jd_url: str | None = Field(default=None, description="JD JOS gateway (…/routerjson)")
    jd_app_key: str = "opslake-demo-app"
    jd_app_secret: str = "opslake-demo-secret"
    jd_access_token: str = "opslake-demo-session"
    jd_refresh_token: str = Field(
        default="opslake-demo-refresh", description="renews an expired token; empty: none"
    )
    jd_oauth_url: str | None = Field(
        default=None, description="https://open-oauth.jd.com/oauth2 (demo: beside routerjson)"
    )
    douyin_url: str | None = Field(default=None, description="Douyin open API base")
    douyin_app_key: str = "opslake-demo-app"
    douyin_app_secret: str = "opslake-demo-secret"
    douyin_shop_id: str = "88001"
    shopify_url: str | None = Field(
        default=None, description="Shopify Admin API base (https://{shop}/admin/api/2024-10)"
    )
    shopify_access_token: str = "opslake-demo-session"
    shopify_webhook_secret: str = Field(
        default="opslake-demo-secret",
        description="Shopify app client secret: verifies X-Shopify-Hmac-Sha256 of order webhooks",
    )
    dingtalk_url: str | None = Field(default=None, description="DingTalk oapi base")
    wecom_url: str | None = Field(
        default=None, description="WeCom API base (https://qyapi.weixin.qq.com/cgi-bin)"
    )
    wecom_corp_id: str = "opslake-demo-app"
    wecom_corp_secret: str = Field(
        default="opslake-demo-secret", description="the check-in (打卡) app's secret"
    )
    dingtalk_app_key: str = "opslake-demo-app"
    dingtalk_app_secret: str = "opslake-demo-secret"
    rest_config_dir: Path | None = Field(
        default=None, description="Extra folder of generic REST source YAML files"
    )
    # --- end of API sources ------------------------------------------------------------------

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
