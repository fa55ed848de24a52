"""Guards of the submit path's cost (issue #6): parsed definitions are cached, one write
transaction per submit, no outbox work when nothing was queued, concurrent writers queue
instead of failing. Behaviour only; timings live in benchmarks/api_ops.py."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import event

from apps.ops.audit import verify
from apps.ops.core import db
from apps.ops.core.config import BUILTIN_FLOWS_DIR, BUILTIN_FORMS_DIR
from apps.ops.crud import create_record
from apps.ops.forms import store
from apps.ops.forms.spec import FormSpec
from tests.ops.conftest import VALID_DATA, headers_for, purchase, submit

FORM = "/api/v1/forms/purchase_request/records"


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    folder.mkdir()
    for name in ("purchase_request.yaml", "stock_adjustment.yaml"):
        shutil.copy(BUILTIN_FORMS_DIR / name, folder)
    return folder


@pytest.fixture
def settings(make_settings, tmp_path: Path):
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(BUILTIN_FLOWS_DIR / "purchase_approval.yaml", flows)
    return make_settings(flows_dir=flows)


def test_a_definition_is_parsed_once_per_version(client, monkeypatch):
    store.SPECS.clear()
    parsed: list[str] = []
    original = FormSpec.model_validate.__func__  # type: ignore[attr-defined]

    def counting(cls, obj, *args, **kwargs):
        parsed.append(obj.get("name", "?") if isinstance(obj, dict) else "?")
        return original(cls, obj, *args, **kwargs)

    monkeypatch.setattr(FormSpec, "model_validate", classmethod(counting))
    headers = headers_for(client, "buyer_wang")
    for _ in range(3):
        assert (
            client.post(FORM, headers=headers, json={"data": purchase("100.00")}).status_code == 201
        )
    assert parsed.count("purchase_request") == 1


def test_a_submit_is_one_write_transaction_of_few_prepared_statements(client):
    headers = headers_for(client, "buyer_wang")
    client.post(FORM, headers=headers, json={"data": purchase("100.00")})
    statements: list[str] = []
    compiled_anew: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.split()[0].upper())
        if context.compiled is not None and context.cache_hit != context.dialect.CACHE_HIT:
            compiled_anew.append(statement)

    engine = client.app.state.engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        response = client.post(FORM, headers=headers, json={"data": purchase("100.00")})
    finally:
        event.remove(engine, "after_cursor_execute", record)
    assert response.status_code == 201
    # submit + flow start (3 audit entries, task, notice, events) + rule evaluation
    assert statements.count("BEGIN") == 2  # the read of the user, then BEGIN IMMEDIATE
    assert len(statements) <= 22, statements
    # every statement came from SQLAlchemy's compiled cache (one that cannot be cached
    # costs ~1 ms of compiling per execution)
    assert compiled_anew == []


def test_a_verified_token_is_remembered_but_expiry_and_purpose_still_hold(monkeypatch):
    from datetime import timedelta

    from apps.ops.core import security

    key = "test-secret-key-that-is-long-enough-0123456789"
    token = security.create_token(
        secret_key=key, purpose=security.ACCESS, subject="alice", expires=timedelta(minutes=1)
    )
    decoded: list[str] = []
    original = security.jwt.decode
    monkeypatch.setattr(
        security.jwt, "decode", lambda *a, **k: decoded.append("x") or original(*a, **k)
    )
    for _ in range(3):
        assert security.read_token(token, secret_key=key, purpose=security.ACCESS) == "alice"
    assert len(decoded) == 1
    assert security.read_token(token, secret_key=key, purpose=security.SESSION) is None
    assert security.read_token(token, secret_key="another-key-" * 4, purpose="access") is None
    # two minutes later: the remembered token has expired and is verified again (refused)
    later = security.time.time() + 120

    def expired(*args: object, **kwargs: object) -> None:
        raise security.jwt.ExpiredSignatureError

    monkeypatch.setattr(security.time, "time", lambda: later)
    monkeypatch.setattr(security.jwt, "decode", expired)
    assert security.read_token(token, secret_key=key, purpose=security.ACCESS) is None


def test_no_outbox_delivery_when_the_request_queued_nothing(client, monkeypatch):
    from apps.ops.api.routes import records

    calls: list[object] = []
    monkeypatch.setattr(records, "deliver_outbox", lambda request: calls.append(request))
    response = submit(client, headers_for(client, "operator"), VALID_DATA)
    assert response.status_code == 201
    assert calls == []


def test_concurrent_submits_queue_and_all_succeed(client):
    """More threads than SQLAlchemy's default pool (15) and than SQLite tolerates without
    waiting: every submit succeeds and the audit chain stays intact."""
    app = client.app
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.state.sessionmaker() as session:
                create_record(
                    session=session,
                    form_name="purchase_request",
                    data=purchase("100.00"),
                    created_by="buyer_wang",
                    ctx=app.state.ops,
                )
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    result = verify(app.state.engine)
    assert result.ok and result.checked >= 24 * 3  # record, flow start, status


def test_a_writer_that_waits_too_long_gets_503(client, monkeypatch):
    headers = headers_for(client, "operator")
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT", 0.2)
    lock = db.sqlite_write_lock(client.app.state.engine)
    assert lock is not None
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(5)
        response = submit(client, headers, VALID_DATA)
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert "busy" in response.json()["detail"]
    assert submit(client, headers, VALID_DATA).status_code == 201


HOLD_IN_CHILD = """
import sys, time
from pathlib import Path
from apps.ops.core.db import SqliteWriteLock
lock = SqliteWriteLock(Path(sys.argv[1]))
assert lock.acquire(timeout=5)
print("held", flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
sys.stdin.readline()
"""


def test_the_write_lock_excludes_other_processes_and_hands_over(tmp_path: Path):
    """Two app workers are two processes: while one holds the write lock the other waits
    (here: times out), and gets it once the holder lets go, without SQLite's busy sleeps."""
    import subprocess
    import sys

    database = tmp_path / "app.db"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_CHILD, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout.readline().strip() == "held"
        lock = db.SqliteWriteLock(database)
        assert not lock.acquire(timeout=0.2)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
        assert lock.acquire(timeout=5)
        assert lock.acquire(timeout=0)  # re-entrant for its owner thread
        lock.release()
        lock.release()
    finally:
        child.stdin.close()
        child.wait(timeout=10)
