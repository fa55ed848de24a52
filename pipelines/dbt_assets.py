"""The dbt project as Dagster assets, downstream of the raw-zone assets."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.constants import DBT_EXECUTABLE, DBT_PROJECT_DIR, LAKE_POOL
from pipelines.resources import LakeResource

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if not dbt_project.manifest_path.exists():
    # a fresh clone has no manifest yet; parsing needs no lake
    DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
    ).cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


class OpsLakeTranslator(DagsterDbtTranslator):
    """Models are keyed by layer (``marts/fct_x``); sources use their ``meta.dagster`` key."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props["fqn"]
        if len(fqn) > 3 and fqn[1] == "marts":
            return f"marts_{fqn[2]}"
        return fqn[1] if len(fqn) > 2 else "models"


class DbtBuildConfig(dg.Config):
    """`full_refresh` rebuilds incremental models from all of raw (the nightly run does)."""

    full_refresh: bool = False


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=OpsLakeTranslator(),
    pool=LAKE_POOL,
)
def opslake_dbt_assets(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    lake: LakeResource,
    config: DbtBuildConfig,
):
    os.environ.update(lake.dbt_env())
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    yield from dbt.cli(args, context=context).stream()
