"""Resources per deployment, same keys everywhere; OPSLAKE_DEPLOYMENT picks one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from pipelines.constants import DBT_PROJECT_DIR
from pipelines.resources import LakeResource


def _local() -> dict[str, object]:
    return {
        "lake": LakeResource(),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            # the dbt of this venv, whether or not the venv is on PATH
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
        ),
    }


RESOURCES_BY_DEPLOYMENT = {
    "local": _local,
    # a production deployment would swap the catalog to PostgreSQL and the data path to
    # object storage here, keeping the same keys
}


def resources() -> dict[str, object]:
    deployment = os.environ.get("OPSLAKE_DEPLOYMENT", "local")
    if deployment not in RESOURCES_BY_DEPLOYMENT:
        raise ValueError(
            f"OPSLAKE_DEPLOYMENT={deployment!r} is unknown; "
            f"choose one of {', '.join(RESOURCES_BY_DEPLOYMENT)}"
        )
    return RESOURCES_BY_DEPLOYMENT[deployment]()
