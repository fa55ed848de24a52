"""An operator submits a purchase request of 6,000; the department manager approves it in
her inbox, then the finance director; the requester is notified. Screenshots (zh-CN and
English pages) go to test-artifacts/purchase_journey/."""

from __future__ import annotations

from tests.browser.journey import approve_from_inbox, log_in, save, submit_purchase_request


def test_purchase_request_of_6000_is_approved_twice_and_the_requester_told(
    browser, live_app, artifacts
):
    shots = artifacts / "purchase_journey"
    shots.mkdir(exist_ok=True)
    base = live_app.base_url

    operator = log_in(browser, base, "buyer_wang")
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
