"""Resources per deployment, same keys everywhere; OPSLAKE_DEPLOYMENT picks one."""

from __future__ import annotations

import os

from dagster_dbt import DbtCliResource

from pipelines.constants import DBT_EXECUTABLE, DBT_PROJECT_DIR
from pipelines.resources import LakeResource


def _local() -> dict[str, object]:
    return {
        "lake": LakeResource(),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            dbt_executable=DBT_EXECUTABLE,
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
