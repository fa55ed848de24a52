"""An operator submits a purchase request of 6,000; the department manager approves it in
her inbox, then the finance director; the requester is notified. Then the write-back job
(app-store ingest + build, through Dagster) brings the request into the operations mart,
and the operations dashboard in Superset shows it. Screenshots (zh-CN and English pages,
the dashboard) go to test-artifacts/purchase_journey/.

The app runs on the demo company's own app store (the session's demo lake), so the
pipeline and the session's Superset see what the browser did."""

from __future__ import annotations

import time

from rich.console import Console

from tests.bi.conftest import shared_demo_superset
from tests.browser.journey import (
    approve_from_inbox,
    log_in,
    open_dashboard_showing,
    save,
    submit_purchase_request,
    superset_login,
)

TITLE = "Two servers for the new warehouse"


def test_purchase_request_of_6000_is_approved_twice_told_and_reaches_the_dashboard(
    browser, demo_live_app, demo_lake, artifacts, request, monkeypatch
):
    shots = artifacts / "purchase_journey"
    shots.mkdir(exist_ok=True)
    base = demo_live_app.base_url

    operator = log_in(browser, base, "operator")
    result = submit_purchase_request(operator, base, shots)
    assert result.record_id > 0
    assert operator.inner_text("#record-status") == "In approval"
    assert "6000.00" in operator.inner_text("#record")
    save(result, shots)

    manager = log_in(browser, base, "pm_li", lang="zh-CN")
    assert manager.locator(f"#inbox a[href*='/records/{result.record_id}']").count() == 1
    manager.screenshot(path=str(shots / "3-manager-inbox-zh.png"), full_page=True)
    approve_from_inbox(
        manager, base, result.record_id, "同意，请尽快采购。", shots / "4-manager-approves-zh.png"
    )
    assert manager.inner_text("#record-status") == "审批中"  # ≥ 5000: on to finance

    director = log_in(browser, base, "fd_chen")
    approve_from_inbox(
        director, base, result.record_id, "Budget OK.", shots / "5-director-approves.png"
    )
    assert director.inner_text("#record-status") == "Approved"
    trail = director.inner_text("#trail")
    assert "同意，请尽快采购。" in trail and "Budget OK." in trail

    operator.goto(f"{base}/?lang=en")
    notices = operator.inner_text("#notifications")
    assert f"#{result.record_id}" in notices and "approved" in notices
    operator.screenshot(path=str(shots / "6-requester-notified.png"), full_page=True)
    operator.goto(result.record_url + "?lang=zh-CN")
    assert operator.inner_text("#record-status") == "已通过"
    operator.screenshot(path=str(shots / "7-record-approved-zh.png"), full_page=True)

    # the pipeline: the write-back job ingests the app store and builds the operations marts
    # (the app-store streams leave rows changed in the last seconds for the next run)
    from ingest.sources.app_db import AppTableStream
    from orchestration.run import run_job

    time.sleep(AppTableStream.settle_seconds + 1)

    settings = demo_lake.settings
    monkeypatch.setenv("OPSLAKE_HOME", str(settings.home))
    monkeypatch.setenv("OPSLAKE_EXTENSION_DIR", str(settings.extension_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    assert run_job("writeback_loop", Console(stderr=True)), "the write-back job failed"
    with demo_lake.lake.reading() as con:
        flow = con.execute(
            "SELECT record_title, started_by, flow_status, record_amount, cycle_time_hours "
            "FROM marts.fct_flow_instances WHERE record_id = ?",
            [result.record_id],
        ).fetchall()
        decisions = con.execute(
            "SELECT node_id, acted_by, decision FROM marts.fct_approval_tasks "
            "WHERE record_id = ? ORDER BY task_id",
            [result.record_id],
        ).fetchall()
    [(title, requester, status, amount, hours)] = flow
    assert (title, requester, status, float(amount)) == (TITLE, "operator", "approved", 6000.0)
    assert hours is not None and hours >= 0
    assert decisions == [("manager", "pm_li", "approved"), ("finance", "fd_chen", "approved")]

    # … and the operations dashboard shows it
    superset = shared_demo_superset(request)
    page = superset_login(browser, superset.base_url)
    table = open_dashboard_showing(page, superset.base_url, "operations", TITLE)
    row = table.locator("tr", has_text=TITLE)
    assert str(result.record_id) in row.first.inner_text()
    assert "approved" in row.first.inner_text()
    page.wait_for_timeout(1500)  # let the other charts finish drawing for the screenshot
    page.screenshot(path=str(shots / "8-operations-dashboard.png"), full_page=True)
    table.screenshot(path=str(shots / "9-request-on-the-dashboard.png"))
