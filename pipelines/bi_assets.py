"""Superset dashboards as assets, so lineage runs from each connector to each dashboard."""

from __future__ import annotations

import dagster as dg

from pipelines.constants import BI_GROUP

DASHBOARDS = {
    # slug: (title, marts it reads)
    "sales-overview": ("销售概览 / Sales overview", [["marts", "fct_pos_daily_sales"]]),
}

dashboard_specs = [
    dg.AssetSpec(
        key=dg.AssetKey(["superset", slug.replace("-", "_")]),
        description=title,
        deps=[dg.AssetKey(k) for k in marts],
        group_name=BI_GROUP,
        kinds={"superset"},
        metadata={"dashboard_slug": slug},
    )
    for slug, (title, marts) in DASHBOARDS.items()
]
