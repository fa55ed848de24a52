"""Superset dashboards as assets, so lineage runs from each connector to each dashboard.

The dashboards and the marts they read come from the BI spec (apps/bi/dashboards.py) plus the
hand-written sales overview; Superset reads the marts live, so these assets are observed,
not materialized, by the pipeline.
"""

from __future__ import annotations

import dagster as dg

from apps.bi.dashboards import DASHBOARDS as SPEC
from pipelines.constants import BI_GROUP

HAND_WRITTEN = {
    "sales-overview": ("销售概览 / Sales overview", {"fct_pos_daily_sales"}),
}


def _dashboards() -> dict[str, tuple[str, set[str]]]:
    found = dict(HAND_WRITTEN)
    for dash in SPEC:
        found[dash.slug] = (dash.title, {chart.dataset for chart in dash.charts})
    return found


dashboard_specs = [
    dg.AssetSpec(
        key=dg.AssetKey(["superset", slug.replace("-", "_")]),
        description=title,
        deps=[dg.AssetKey(["marts", mart]) for mart in sorted(marts)],
        group_name=BI_GROUP,
        kinds={"superset"},
        metadata={"dashboard_slug": slug},
    )
    for slug, (title, marts) in _dashboards().items()
]
