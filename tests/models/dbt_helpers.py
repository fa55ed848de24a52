"""Run the dbt project against a given lake (tests and benchmarks)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
DBT = REPO / ".venv" / "bin" / "dbt"


def dbt(
    args: list[str],
    catalog: Path,
    ext_dir: Path,
    target_path: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "OPSLAKE_DBT_CATALOG": str(catalog),
        "OPSLAKE_DBT_SPILL_DIR": str(catalog.parent / "spill"),  # as Lake.spill_path
        "OPSLAKE_DBT_EXTENSION_DIR": str(ext_dir),
        "DBT_PROFILES_DIR": str(MODELS),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    extra = ["--target-path", str(target_path)] if target_path else []
    proc = subprocess.run(
        [str(DBT), *args, *extra], cwd=MODELS, env=env, capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        )
    return proc
