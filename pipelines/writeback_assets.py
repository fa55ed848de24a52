"""The write-back loop's last step: the ops app evaluates its lake-condition rules.

The rules read the marts (read-only) and write to the app store: a safety-stock breach
becomes a purchase request routed for approval, slow-moving stock a notice to the buyers.
The pipeline never imports the app (pipelines/ sits below apps/ops in the layering): the
asset runs the app's own command, ``python -m apps.ops.oms lake-rules``, in a subprocess,
the way dagster-dbt runs ``dbt`` — see docs/decisions/0041-writeback-loop-as-one-job.md.
"""

import json
import os
import subprocess
import sys

import dagster as dg

from pipelines.constants import REPO_ROOT, WRITEBACK_GROUP
from pipelines.resources import LakeResource

LAKE_RULES_KEY = dg.AssetKey(["ops", "lake_rules"])
LAKE_RULES_COMMAND = [sys.executable, "-m", "apps.ops.oms", "lake-rules"]
# the marts the shipped lake rules read (apps/ops/rules/definitions/*.yaml; a test checks
# that this list covers every table their SQL names)
RULE_INPUTS = (
    "fct_safety_stock_breaches",
    "fct_inventory_daily",
    "fct_inventory_turnover",
    "fct_form_submissions",
)
TIMEOUT_SECONDS = 1800


class LakeRulesFailed(Exception):
    """The ops app's command failed or reported rules that could not run."""


@dg.asset(
    key=LAKE_RULES_KEY,
    group_name=WRITEBACK_GROUP,
    deps=[dg.AssetKey(["marts", mart]) for mart in RULE_INPUTS],
    kinds={"python", "fastapi"},
    description=(
        "Lake-condition rules of the ops app evaluated on the fresh marts: a safety-stock "
        "breach → one purchase request routed for approval; slow-moving stock → notice."
    ),
)
def lake_rules(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    env = dict(os.environ)
    if lake.home:
        env["OPSLAKE_HOME"] = lake.home
    proc = subprocess.run(
        LAKE_RULES_COMMAND,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    for line in proc.stderr.splitlines()[-50:]:
        context.log.info(line)
    report = _report(proc.stdout)
    if proc.returncode != 0:
        errors = report.get("errors") or proc.stderr.strip()[-2000:]
        raise LakeRulesFailed(f"lake rules failed (exit {proc.returncode}): {errors}")
    return dg.MaterializeResult(
        metadata={
            "rules": ", ".join(report.get("rules", [])),
            "firings": report.get("firings", 0),
            "actions_delivered": len(report.get("delivered", [])),
            "actions_failed": len(report.get("failed", [])),
        }
    )


def _report(stdout: str) -> dict:
    """The JSON object the command prints last (log lines may come before it)."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


writeback_assets = [lake_rules]
