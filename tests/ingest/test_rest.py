# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""The generic REST source: the shipped YAML example against the fake Shopify endpoint."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from ingest.core import run_stream
from ingest.demo.servers import DemoServer
from ingest.sources.rest import CONFIG_DIR, RestSpec, RestStream, specs
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    Demo,
    api,
    demo,
    replay_three_times,
    server,
)
from warehouse.lake import Lake

EXAMPLE = CONFIG_DIR / "shopify_orders.yaml"


def example(url: str, **changes: object) -> RestStream:
    spec = replace(RestSpec.load(EXAMPLE), **changes)
    return RestStream(spec, api(url + "/shopify/admin/api/2024-10"), "opslake-demo-session")


def test_the_worked_example_is_registered() -> None:
    assert [s.name for s in specs()] == ["rest_shopify_orders"]


def test_example_lands_the_truth_incrementally_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.add_records(
        "shopify",
        datetime(2025, 5, 5, 12, tzinfo=CST),
        [{"updated_at": "2025-05-05T12:00:00+08:00"}],
    )
    s = example(server.url, pages_per_batch=2)
    first = run_stream(lake, s)
    assert first.batches == 3 and first.rows_quarantined == 1
    truth = demo.truth["api_sources"]["shopify"]
    with lake.reading() as con:
        rows, orders = con.sql(
            "SELECT count(*), count(DISTINCT order_id) FROM raw.rest_shopify_orders"
        ).fetchone()
        reason = con.sql("SELECT reason FROM raw._quarantine").fetchone()[0]
    assert (rows, orders) == (truth["records_written"], truth["distinct_orders"])
    assert reason == "missing id"
    # the next run asks for updated_at >= the last cursor and drops what it already has
    assert run_stream(lake, s).rows_landed == 0
    replay_three_times(lake, s)
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.rest_shopify_orders").fetchone()[0] == rows


def test_a_spec_with_an_unknown_type_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("type: decimal", "type: money"))
    with pytest.raises(ValueError, match="unknown column type"):
        RestSpec.load(bad)
