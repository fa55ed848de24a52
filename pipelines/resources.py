"""Resources the assets use; which values they get is decided in orchestration/."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from warehouse.lake import Lake
from warehouse.settings import Settings


class LakeResource(dg.ConfigurableResource):
    """Where the lake and its sources are; empty fields fall back to the OPSLAKE_ settings."""

    home: str = ""

    def settings(self) -> Settings:
        return Settings(home=Path(self.home)) if self.home else Settings()

    def lake(self) -> Lake:
        return Lake.from_settings(self.settings())

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt's profile (models/profiles.yml) pointing at this lake."""
        s = self.settings()
        return {
            "OPSLAKE_DBT_CATALOG": str(s.catalog_path),
            "OPSLAKE_DBT_EXTENSION_DIR": str(s.extension_dir),
            "OPSLAKE_DBT_THREADS": str(s.duckdb_threads),
            "OPSLAKE_DBT_MEMORY_LIMIT": s.duckdb_memory_limit,
            "OPSLAKE_DBT_SPILL_DIR": str(self.lake().spill_path),
        }
