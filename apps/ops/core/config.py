"""Settings of the ops app.

The project has one settings object (:class:`warehouse.settings.Settings`, ``OPSLAKE_`` env
prefix). :class:`OpsSettings` extends it with the few fields only the app layer needs; every
value is still set by ``OPSLAKE_*`` environment variables or ``.env``.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from warehouse.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_SECRET_KEY = "opslake-dev-secret-change-me"
BUILTIN_FORMS_DIR = Path(__file__).resolve().parent.parent / "forms" / "definitions"
BUILTIN_FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows" / "definitions"
BUILTIN_RULES_DIR = Path(__file__).resolve().parent.parent / "rules" / "definitions"
# Written by dbt (`opslake build` / `dbt parse`) in the repository's dbt project.
DEFAULT_SEMANTIC_MANIFEST = (
    Path(__file__).resolve().parents[3] / "models" / "target" / "semantic_manifest.json"
)


class OpsSettings(Settings):
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses the default secret key and sets Secure cookies",
    )
    access_token_expire_minutes: int = Field(default=8 * 60, ge=1)
    forms_dir: Path = Field(
        default=BUILTIN_FORMS_DIR, description="Folder of form definition YAML files"
    )
    flows_dir: Path = Field(
        default=BUILTIN_FLOWS_DIR, description="Folder of flow definition YAML files"
    )
    rules_dir: Path = Field(
        default=BUILTIN_RULES_DIR, description="Folder of rule definition YAML files"
    )
    providers_file: Path = Field(
        default=BUILTIN_FORMS_DIR.parent / "providers.yaml",
        description="Master-data providers of reference fields",
    )
    scheduler_interval_seconds: float = Field(
        default=5.0, ge=0, description="Poll timeouts, schedules and the outbox; 0 = off"
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server of e-mail actions")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = Field(default="opslake@localhost")
    login_max_failures: int = Field(default=5, ge=1, description="per user and address")
    login_window_seconds: int = Field(default=300, ge=1)
    semantic_manifest: Path = Field(
        default=DEFAULT_SEMANTIC_MANIFEST,
        description="dbt's semantic manifest: the metrics served by /api/v1/metrics",
    )
    metrics_roles: list[str] = Field(
        default=["admin", "analyst", "executive"],
        description="Roles that may list and query the metrics (KPIs) of the lake",
    )
    seed_demo_users: bool | None = Field(
        default=None,
        description="Create admin/admin and operator/operator (default: only in development)",
    )

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        self.forms_dir = self.forms_dir.absolute()
        if self.seed_demo_users is None:
            self.seed_demo_users = self.environment == "development"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def check_secrets(self) -> None:
        """Refuse the default secret key in production; warn about it in development."""
        if self.secret_key != DEFAULT_SECRET_KEY:
            return
        message = (
            "OPSLAKE_SECRET_KEY is the built-in default; set a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
        if self.is_production:
            raise ValueError(message)
        log.warning(message)


def as_ops_settings(settings: Settings | None) -> OpsSettings:
    """Accept the project settings object (or nothing) and return the app's view of it."""
    if settings is None:
        return get_ops_settings()
    if isinstance(settings, OpsSettings):
        return settings
    return OpsSettings(**settings.model_dump())


@lru_cache
def get_ops_settings() -> OpsSettings:
    return OpsSettings()
