"""Ops API under load: form submit + flow start + rule evaluation (one POST of a purchase
request) vs a bare FastAPI endpoint inserting one row, both served by uvicorn (one worker,
SQLite WAL) in a second process, driven at a fixed rate from this process on 127.0.0.1.

Figure: achieved requests/s subject/baseline (goal >= 0.5); the p95 latencies (goal
< 50 ms for the subject at 200 req/s) are in ``scale``.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.harness import Figure, alternate

RATE = 200  # requests per second
SECONDS = 2.0
RULE = """
name: bench_big_purchase
trigger: {event: record_created, form: purchase_request}
condition: "amount >= 1000000"
actions:
  - notify: {channel: in_app, to: ["role:finance_director"], title: "big #{record_id}"}
"""
BODY = {
    "data": {
        "title": "bench",
        "urgency": "normal",
        "items": [{"item": "PC", "quantity": 2, "unit_price": "1200.00"}],
    }
}


def bare_app():  # noqa: ANN201 - uvicorn factory
    """The baseline: FastAPI inserting one row into SQLite (WAL), nothing else."""
    import sqlite3

    from fastapi import FastAPI

    path = os.environ["BENCH_BARE_DB"]
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data TEXT)")
    local = threading.local()
    app = FastAPI()

    @app.post("/rows", status_code=201)
    def insert(body: dict) -> dict:
        con = getattr(local, "con", None)
        if con is None:
            con = local.con = sqlite3.connect(path, timeout=30)
        with con:
            cur = con.execute("INSERT INTO t (data) VALUES (?)", (str(body),))
        return {"id": cur.lastrowid}

    return app


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(target: str, env: dict[str, str], factory: bool) -> tuple[subprocess.Popen, str]:
    port = _port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        args.append("--factory")
    proc = subprocess.Popen(args, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/docs", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


def _drive(send: Callable[[httpx.Client], int], rate: int, seconds: float) -> tuple[float, float]:
    """Send ``rate`` req/s for ``seconds`` (open loop); returns (completed req/s, p95 s)."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = time.perf_counter()
    workers = 32
    local = threading.local()

    def worker(index: int) -> None:
        nonlocal errors
        client = local.client = httpx.Client(timeout=30)
        for n in range(index, total, workers):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t0 = time.perf_counter()
            code = send(client)
            with lock:
                latencies.append(time.perf_counter() - t0)
                errors += code >= 400
        client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    # failed requests do not count as done
    return (total - errors) / elapsed, statistics.quantiles(latencies, n=20)[-1]


def run(scale: int | None, ext_dir: Path) -> Figure:
    rate = scale or RATE
    work = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    (work / "rules").mkdir()
    (work / "rules" / "bench_big_purchase.yaml").write_text(RULE, encoding="utf-8")
    ops_env = {
        "OPSLAKE_HOME": str(work),
        "OPSLAKE_APP_DB": f"sqlite:///{work / 'app.db'}",
        "OPSLAKE_RULES_DIR": str(work / "rules"),
        "OPSLAKE_SCHEDULER_INTERVAL_SECONDS": "0",
        "OPSLAKE_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "OPSLAKE_LOGIN_MAX_FAILURES": "1000",
    }
    subject_proc, subject_url = _serve("apps.ops.main:app", ops_env, factory=False)
    base_proc, base_url = _serve(
        "benchmarks.api_ops:bare_app", {"BENCH_BARE_DB": str(work / "bare.db")}, factory=True
    )
    try:
        token = httpx.post(
            subject_url + "/api/v1/auth/token",
            data={"username": "buyer_wang", "password": "buyer_wang"},
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        p95: dict[str, list[float]] = {"subject": [], "baseline": []}

        def subject() -> float:
            rps, q = _drive(
                lambda c: (
                    c.post(
                        subject_url + "/api/v1/forms/purchase_request/records",
                        headers=headers,
                        json=BODY,
                    ).status_code
                ),
                rate,
                SECONDS,
            )
            p95["subject"].append(q)
            return rps

        def baseline() -> float:
            rps, q = _drive(
                lambda c: c.post(base_url + "/rows", json=BODY).status_code, rate, SECONDS
            )
            p95["baseline"].append(q)
            return rps

        subj, base = alternate(subject, baseline, repeats=2, warmup=1)
        return Figure(
            "api_ops_rps",
            "req/s",
            subj,
            base,
            goal=">= 0.5",
            scale={
                "rate": rate,
                "seconds_per_run": SECONDS,
                "subject_p95_ms": round(statistics.median(p95["subject"][1:]) * 1000, 1),
                "baseline_p95_ms": round(statistics.median(p95["baseline"][1:]) * 1000, 1),
                "p95_goal_ms": 50,
            },
            higher_is_better=True,
        )
    finally:
        for proc in (subject_proc, base_proc):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
