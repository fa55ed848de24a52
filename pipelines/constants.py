"""Names shared by the asset modules."""

import sys
from pathlib import Path

INGEST_GROUP = "ingest"
BI_GROUP = "bi"
# every step that writes the lake runs in this pool; its limit is 1 (orchestration/dagster.yaml)
LAKE_POOL = "lake"

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "models"
# the dbt of this venv, whether or not the venv is on PATH
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
# the write-back loop's app-side steps (lake-condition rules)
WRITEBACK_GROUP = "writeback"
