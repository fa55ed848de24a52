"""The flow engine on the shipped purchase-request example, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ops.conftest import headers_for, purchase, tick

FORM = "/api/v1/forms/purchase_request/records"


def submit_purchase(client, amount: str, user: str = "buyer_wang"):
    response = client.post(FORM, headers=headers_for(client, user), json={"data": purchase(amount)})
    assert response.status_code == 201, response.text
    record = response.json()
    instance = client.get(
        f"/api/v1/flow-instances?record_id={record['id']}", headers=headers_for(client, user)
    ).json()[0]
    return record, instance


def inbox(client, user: str) -> list[dict]:
    return client.get("/api/v1/inbox", headers=headers_for(client, user)).json()["data"]


def act(client, user: str, task_id: int, action: str, **extra):
    return client.post(
        f"/api/v1/tasks/{task_id}/actions",
        headers=headers_for(client, user),
        json={"action": action, **extra},
    )


def test_below_5000_needs_the_manager_only(ops_app):
    record, instance = submit_purchase(ops_app, "4999.00")
    assert record["data"]["amount"] == "4999.00"
    assert record["status"] == "in_approval"
    [task] = inbox(ops_app, "pm_li")  # head of 采购部, the submitter's department
    assert task["instance_id"] == instance["id"]
    done = act(ops_app, "pm_li", task["id"], "approve", comment="同意")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"
    assert inbox(ops_app, "fd_chen") == []
    got = ops_app.get(f"{FORM}/{record['id']}", headers=headers_for(ops_app, "buyer_wang"))
    assert got.json()["status"] == "approved"
    actions = [e["action"] for e in done.json()["trail"]]
    assert actions == ["start", "enter", "approve", "branch", "finish"]


def test_5000_and_above_needs_manager_then_finance_director(ops_app):
    record, instance = submit_purchase(ops_app, "5000.00")
    [task] = inbox(ops_app, "pm_li")
    after_manager = act(ops_app, "pm_li", task["id"], "approve").json()
    assert after_manager["status"] == "running"
    assert after_manager["current_node"] == "finance"
    [second] = inbox(ops_app, "fd_chen")
    final = act(ops_app, "fd_chen", second["id"], "approve").json()
    assert final["status"] == "approved"
    approvals = [e["actor"] for e in final["trail"] if e["action"] == "approve"]
    assert approvals == ["pm_li", "fd_chen"]
    # the cc node copied the purchasing head after the approvals
    assert any(t["kind"] == "cc" and t["assignee"] == "pm_li" for t in final["tasks"])


def test_reject_finishes_and_a_decided_task_cannot_be_decided_again(ops_app):
    _, instance = submit_purchase(ops_app, "100.00")
    [task] = inbox(ops_app, "pm_li")
    assert act(ops_app, "pm_li", task["id"], "reject", comment="不需要").json()["status"] == (
        "rejected"
    )
    again = act(ops_app, "pm_li", task["id"], "approve")
    assert again.status_code == 409
    assert "already been handled" in again.json()["detail"]
    # someone else's task: 403, and a plain message
    _, other = submit_purchase(ops_app, "100.00")
    [task2] = inbox(ops_app, "pm_li")
    assert act(ops_app, "fd_chen", task2["id"], "approve").status_code == 403


def test_transfer_and_return(ops_app):
    _, instance = submit_purchase(ops_app, "8000.00")
    [task] = inbox(ops_app, "pm_li")
    moved = act(ops_app, "pm_li", task["id"], "transfer", to_user="gm_zhao", comment="出差")
    assert moved.status_code == 200, moved.text
    assert inbox(ops_app, "pm_li") == []
    [transferred] = inbox(ops_app, "gm_zhao")
    act(ops_app, "gm_zhao", transferred["id"], "approve")
    [finance] = inbox(ops_app, "fd_chen")
    # the finance director sends it back to the manager step: a new round there
    bad = act(ops_app, "fd_chen", finance["id"], "return", to_node="nowhere")
    assert bad.status_code == 409
    back = act(ops_app, "fd_chen", finance["id"], "return", to_node="manager", comment="补充报价")
    assert back.status_code == 200, back.text
    assert back.json()["current_node"] == "manager"
    [again] = inbox(ops_app, "pm_li")
    assert again["round"] == 2
    act(ops_app, "pm_li", again["id"], "approve")
    [finance2] = inbox(ops_app, "fd_chen")
    assert act(ops_app, "fd_chen", finance2["id"], "approve").json()["status"] == "approved"


def test_withdraw_and_comment(ops_app):
    _, instance = submit_purchase(ops_app, "300.00")
    url = f"/api/v1/flow-instances/{instance['id']}"
    assert ops_app.post(f"{url}/withdraw", headers=headers_for(ops_app, "pm_li")).status_code == 403
    said = ops_app.post(
        f"{url}/comments", headers=headers_for(ops_app, "pm_li"), json={"comment": "请补充型号"}
    )
    assert said.json()["trail"][-1]["comment"] == "请补充型号"
    gone = ops_app.post(f"{url}/withdraw", headers=headers_for(ops_app, "buyer_wang"))
    assert gone.json()["status"] == "withdrawn"
    assert inbox(ops_app, "pm_li") == []


def test_timeout_escalates_after_the_clock_passes(ops_app, clock):
    _, instance = submit_purchase(ops_app, "200.00")
    [task] = inbox(ops_app, "pm_li")
    clock.advance(timedelta(hours=23))
    assert tick(ops_app).timeouts == 0
    clock.advance(timedelta(hours=2))  # the manager step allows 24 h
    assert tick(ops_app).timeouts == 1
    assert tick(ops_app).timeouts == 0  # handled once
    assert inbox(ops_app, "pm_li") == []
    [escalated] = inbox(ops_app, "gm_zhao")
    assert escalated["node_id"] == "manager"
    trail = ops_app.get(
        f"/api/v1/flow-instances/{instance['id']}", headers=headers_for(ops_app, "buyer_wang")
    ).json()["trail"]
    assert "timeout.escalate" in [e["action"] for e in trail]


def test_timeouts_survive_a_restart(make_settings, clock, tmp_path):
    from fastapi.testclient import TestClient

    from apps.ops.main import create_app

    settings = make_settings()
    with TestClient(create_app(settings, clock=clock)) as client:
        submit_purchase(client, "200.00")
    clock.advance(timedelta(days=2))
    with TestClient(create_app(settings, clock=clock)) as client:  # a new process, same db
        assert tick(client).timeouts == 1
        assert len(inbox(client, "gm_zhao")) == 1


@pytest.mark.parametrize("amount", ["abc", "-5", "1.234"])
def test_bad_amounts_are_422_not_500(ops_app, amount):
    response = ops_app.post(
        FORM, headers=headers_for(ops_app, "buyer_wang"), json={"data": purchase(amount)}
    )
    assert response.status_code == 422
    assert "items[0].unit_price" in response.json()["errors"]
