"""The Dagster definitions load, their jobs resolve and lineage reaches from sources to BI."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def test_jobs_resolve() -> None:
    for name in ("build_all", "ingest_all", "pos_files"):
        assert defs.resolve_job_def(name) is not None


def test_every_mart_has_an_upstream_connector_and_dashboards_read_marts() -> None:
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    # calendars and fixed lookups are the only marts built from no source
    static = {"metricflow_time_spine", "dim_channels"}
    marts = [k for k in keys if k.path[0] == "marts" and k.path[1] not in static]
    assert marts
    for mart in marts:
        upstream = (
            graph.upstream_key_iterator(mart) if hasattr(graph, "upstream_key_iterator") else None
        )
        ancestors = _ancestors(graph, mart)
        assert any(a.path[0] == "raw" for a in ancestors), (mart, ancestors, upstream)
    dashboards = [k for k in keys if k.path[0] == "superset"]
    assert dashboards
    for dash in dashboards:
        assert any(a.path[0] == "raw" for a in _ancestors(graph, dash))


def test_a_stream_landing_in_another_streams_table_is_upstream_of_it() -> None:
    # Shopify webhooks land in raw.shopify_orders, the table dbt's source reads
    graph = defs.resolve_asset_graph()
    webhooks = dg.AssetKey(["raw", "shopify_order_webhooks"])
    assert webhooks in graph.get(dg.AssetKey(["raw", "shopify_orders"])).parent_keys
    assert any(k.path[0] == "marts" for k in _descendants(graph, webhooks))


def _descendants(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    return _reachable(graph, key, "child_keys")


def test_lake_writing_steps_share_one_pool() -> None:
    job = defs.resolve_job_def("build_all")
    pools = {node.definition.pool for node in job.graph.node_dict.values()}
    assert pools == {"lake"}


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    return _reachable(graph, key, "parent_keys")


def _reachable(graph, key: dg.AssetKey, edges: str) -> set[dg.AssetKey]:
    """Every asset reachable from ``key`` along ``edges`` (parent_keys or child_keys)."""
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for other in getattr(graph.get(todo.pop()), edges):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def test_the_nightly_schedule_asks_dbt_for_a_full_refresh() -> None:
    schedule = defs.resolve_schedule_def("nightly_full_refresh")
    job = defs.resolve_job_def(schedule.job_name)
    run_config = (
        schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=None))
        .run_requests[0]
        .run_config
    )
    assert run_config["ops"]["opslake_dbt_assets"]["config"]["full_refresh"] is True
    assert job.name == "build_all"


def test_the_pos_sensor_starts_watching_from_now_then_fires_on_a_new_file(
    settings, tmp_path
) -> None:
    import os
    import time

    from orchestration.sensors import pos_inbox_sensor

    inbox = settings.pos_inbox
    inbox.mkdir(parents=True)
    (inbox / "old.csv").write_text("x")
    first = pos_inbox_sensor(dg.build_sensor_context(cursor=None))
    assert isinstance(first, dg.SkipReason)
    cursor = str(max(p.stat().st_mtime_ns for p in inbox.rglob("*.csv")))
    assert isinstance(pos_inbox_sensor(dg.build_sensor_context(cursor=cursor)), dg.SkipReason)
    new = inbox / "new.csv"
    new.write_text("y")
    later = time.time() + 5
    os.utime(new, (later, later))
    assert isinstance(pos_inbox_sensor(dg.build_sensor_context(cursor=cursor)), dg.RunRequest)
