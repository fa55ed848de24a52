"""Countersign, and two approvals of one task at the same moment (real threads, both
databases): exactly one transition."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from apps.ops.core.config import BUILTIN_FLOWS_DIR
from apps.ops.core.db import write_transaction
from apps.ops.core.errors import TaskNotPendingError
from apps.ops.main import create_app
from apps.ops.models import FlowEvent, FlowTask
from tests.ops.conftest import headers_for, purchase
from tests.ops.test_flows import act, inbox, submit_purchase

EXPENSE_FORM = """
name: expense
title: Expense
flow: expense_countersign
fields:
  - {name: purpose, type: text, required: true, label: Purpose}
  - {name: amount, type: money, required: true, label: Amount}
"""
COUNTERSIGN_FLOW = """
name: expense_countersign
title: Expense countersign
form: expense
start: finance
nodes:
  - {id: finance, type: countersign, assignees: [{role: finance}], next: end}
"""


def test_countersign_needs_every_approver(make_settings, forms_dir: Path, tmp_path: Path, clock):
    (forms_dir / "expense.yaml").write_text(EXPENSE_FORM, encoding="utf-8")
    flows = tmp_path / "flows"
    shutil.copytree(BUILTIN_FLOWS_DIR, flows)
    (flows / "expense_countersign.yaml").write_text(COUNTERSIGN_FLOW, encoding="utf-8")
    with TestClient(create_app(make_settings(flows_dir=flows), clock=clock)) as client:
        created = client.post(
            "/api/v1/forms/expense/records",
            headers=headers_for(client, "buyer_wang"),
            json={"data": {"purpose": "培训", "amount": "800"}},
        )
        assert created.status_code == 201, created.text
        [first] = inbox(client, "fd_chen")
        [second] = inbox(client, "fin_liu")
        partial = act(client, "fd_chen", first["id"], "approve").json()
        assert partial["status"] == "running"  # fin_liu has not approved yet
        final = act(client, "fin_liu", second["id"], "approve").json()
        assert final["status"] == "approved"


def test_two_concurrent_approvals_make_exactly_one_transition(ops_app):
    _, instance = submit_purchase(ops_app, "6000.00")
    [task] = inbox(ops_app, "pm_li")
    app = ops_app.app
    ctx = app.state.ops
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve() -> None:
        with app.state.sessionmaker() as session:
            barrier.wait()
            try:
                with write_transaction(session):
                    ctx.engine.act(session, task["id"], "pm_li", "approve")
                outcomes.append("ok")
            except TaskNotPendingError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "ok"]
    with app.state.sessionmaker() as session:
        approvals = session.scalar(
            select(func.count())
            .select_from(FlowEvent)
            .where(FlowEvent.instance_id == instance["id"], FlowEvent.action == "approve")
        )
        finance_tasks = session.scalar(
            select(func.count())
            .select_from(FlowTask)
            .where(FlowTask.instance_id == instance["id"], FlowTask.node_id == "finance")
        )
    assert approvals == 1
    assert finance_tasks == 1  # the flow moved on once


def test_concurrent_http_approvals(ops_app):
    """The same race through the API: one 200, one 409."""
    _, instance = submit_purchase(ops_app, "100.00")
    [task] = inbox(ops_app, "pm_li")
    headers = headers_for(ops_app, "pm_li")
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def post() -> None:
        barrier.wait()
        response = ops_app.post(
            f"/api/v1/tasks/{task['id']}/actions", headers=headers, json={"action": "approve"}
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [200, 409]
    assert purchase  # keep the helper import used
