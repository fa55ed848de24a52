"""Ops API under load: form submit + flow start + rule evaluation (one POST of a purchase
request) vs a bare FastAPI endpoint inserting one row, both served by uvicorn with the same
settings (``WORKERS`` processes, SQLite WAL) in child processes, driven at a fixed rate from
this process on 127.0.0.1.

The load is open-loop: request *n* is due at ``start + n / rate``; its latency is measured
from that due time (queueing included, no coordinated omission). The run is bounded: a fixed
number of requests (``rate * SECONDS``), at most ``MAX_IN_FLIGHT`` at once, each with a
timeout that counts as an error; a server that stops answering ends the run after
``SECONDS + TIMEOUT`` at the latest.

Figures: ``api_ops_rps``, completed requests/s subject/baseline (goal >= 0.5);
``api_ops_p95``, the subject's p95 latency per run against the issue's 50 ms (absolute, as
``bi_cockpit_load`` is against 3 s; goal ratio < 1), with the bare endpoint's p95 of the
same runs beside it in ``scale``. p50/p95 of both, CPU per request and error counts are in
each figure's ``scale``.

    .venv/bin/python -c "from benchmarks.api_ops import main; main()"
"""

from __future__ import annotations

import asyncio
import json
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httptools
import httpx
import uvloop

from benchmarks.harness import Figure, alternate

RATE = 200  # requests per second
SECONDS = 2.0  # per run; each run sends RATE * SECONDS requests
TIMEOUT = 5.0  # per request; a timeout is an error
MAX_IN_FLIGHT = 64  # open connections of the load generator
WORKERS = 2  # uvicorn worker processes, subject and baseline alike (2 cores here)
REPEATS = 3
P95_GOAL_MS = 50.0  # the goal for the subject at RATE
FORMS = ("purchase_request.yaml",)
FLOWS = ("purchase_approval.yaml",)
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

    from apps.ops.core.db import SQLITE_PRAGMAS

    path = os.environ["BENCH_BARE_DB"]
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data TEXT)")
    local = threading.local()
    app = FastAPI()

    def connection() -> sqlite3.Connection:
        con = getattr(local, "con", None)
        if con is None:
            con = local.con = sqlite3.connect(path, timeout=30)
            for pragma in SQLITE_PRAGMAS:  # the app store's settings (WAL, synchronous, …)
                con.execute(pragma)
        return con

    @app.post("/rows", status_code=201)
    def insert(body: dict) -> dict:
        con = connection()
        with con:
            cur = con.execute("INSERT INTO t (data) VALUES (?)", (json.dumps(body),))
        return {"id": cur.lastrowid}

    return app


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(
    target: str, env: dict[str, str], *, factory: bool, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
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
        "--workers",
        str(workers),
    ]
    if factory:
        args.append("--factory")
    proc = subprocess.Popen(args, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{target} exited with {proc.returncode} at startup")
        try:
            httpx.get(url + "/docs", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"{target} did not start within 60 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        own, parent = int(stat.parent.name), int(fields[1])
        if own == pid or parent == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def drain(url: str, limit: float = 3.0) -> None:
    """Wait until the server answers a probe within 50 ms (work queued by timed-out
    requests of the previous run is done), at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            httpx.get(url, timeout=5)
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        if time.perf_counter() - started < 0.05:
            return
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@dataclass
class RunResult:
    sent: int
    ok: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)  # of the successful requests
    errors: dict[str, int] = field(default_factory=dict)  # status code or exception name
    server_cpu: float = 0.0  # CPU seconds the server processes used during the run
    client_cpu: float = 0.0  # CPU seconds the load generator used

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / self.ok if self.ok else float("inf")

    @property
    def client_cpu_ms_per_request(self) -> float:
        return self.client_cpu * 1000 / self.sent if self.sent else 0.0

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Client:
    """Keep-alive HTTP/1.1 connections on asyncio streams, responses parsed by httptools
    (uvicorn's parser). The load generator shares the 2 cores with the servers, and
    httpx's AsyncClient cost ~1 ms of CPU per request; this costs a fraction of that, so
    the generator takes less of what the servers are measured on."""

    def __init__(self, url: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened: list[asyncio.StreamWriter] = []

    async def post(self) -> int:
        """Send the request once; the response's status code."""
        conn = self.idle.pop() if self.idle else await self._open()
        reader, writer = conn
        done = asyncio.Event()

        class Callbacks:
            def on_message_complete(self) -> None:
                done.set()

        parser = httptools.HttpResponseParser(Callbacks())
        try:
            writer.write(self.request)
            while not done.is_set():
                data = await reader.read(65536)
                if not data:
                    raise ConnectionError("server closed the connection")
                parser.feed_data(data)
        except BaseException:
            writer.close()
            raise
        if parser.should_keep_alive():
            self.idle.append(conn)
        else:
            writer.close()
        return parser.get_status_code()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened.append(writer)
        return reader, writer

    def close(self) -> None:
        for writer in self.opened:
            writer.close()


async def _drive_async(
    url: str, headers: dict[str, str], rate: int, seconds: float, timeout: float
) -> RunResult:
    total = int(rate * seconds)
    result = RunResult(sent=total, ok=0, elapsed=0.0)
    parts = urlsplit(url)
    client = _Client(url, parts.path, json.dumps(BODY).encode(), headers)
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    cpu_before = time.process_time()
    start = time.perf_counter()

    async def one(n: int) -> None:
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with slots:
            # the timeout counts from the due time: waiting for a slot is latency too
            left = due + timeout - time.perf_counter()
            try:
                if left <= 0:
                    raise TimeoutError
                status = await asyncio.wait_for(client.post(), left)
            except (TimeoutError, OSError, httptools.HttpParserError) as exc:
                key = type(exc).__name__
                result.errors[key] = result.errors.get(key, 0) + 1
                return
        if status >= 400:
            result.errors[str(status)] = result.errors.get(str(status), 0) + 1
            return
        result.ok += 1
        result.latencies.append(time.perf_counter() - due)

    try:
        await asyncio.gather(*(one(n) for n in range(total)))
    finally:
        client.close()
    result.elapsed = time.perf_counter() - start
    result.client_cpu = time.process_time() - cpu_before
    return result


def drive(
    url: str,
    headers: dict[str, str] | None = None,
    rate: int = RATE,
    seconds: float = SECONDS,
    timeout: float = TIMEOUT,
) -> RunResult:
    """Send ``rate * seconds`` POSTs of ``BODY`` at ``rate`` per second (open loop)."""
    return uvloop.run(_drive_async(url, headers or {}, rate, seconds, timeout))


def _workdir() -> Path:
    from apps.ops.core.config import BUILTIN_FLOWS_DIR, BUILTIN_FORMS_DIR

    work = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    for folder, names, source in (
        ("forms", FORMS, BUILTIN_FORMS_DIR),
        ("flows", FLOWS, BUILTIN_FLOWS_DIR),
    ):
        (work / folder).mkdir()
        for name in names:
            shutil.copy(source / name, work / folder / name)
    (work / "rules").mkdir()
    (work / "rules" / "bench_big_purchase.yaml").write_text(RULE, encoding="utf-8")
    return work


def run(
    scale: int | None = None,
    ext_dir: Path | None = None,
    *,
    workers: int = WORKERS,
    seconds: float = SECONDS,
    repeats: int = REPEATS,
    log: Callable[[str], None] | None = None,
) -> list[Figure]:
    """``scale`` is the request rate (default 200/s). Bounded: about
    ``(repeats + 1) * 2 * seconds`` of load plus start-up, under 2 minutes by default."""
    rate = scale or RATE
    work = _workdir()
    ops_env = {
        "OPSLAKE_HOME": str(work),
        "OPSLAKE_APP_DB": f"sqlite:///{work / 'app.db'}",
        "OPSLAKE_FORMS_DIR": str(work / "forms"),
        "OPSLAKE_FLOWS_DIR": str(work / "flows"),
        "OPSLAKE_RULES_DIR": str(work / "rules"),
        "OPSLAKE_SCHEDULER_INTERVAL_SECONDS": "0",
        "OPSLAKE_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "OPSLAKE_LOGIN_MAX_FAILURES": "1000",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subject_proc, subject_url = _serve(
            "apps.ops.main:app", ops_env, factory=False, workers=workers
        )
        procs.append(subject_proc)
        base_proc, base_url = _serve(
            "benchmarks.api_ops:bare_app",
            {"BENCH_BARE_DB": str(work / "bare.db")},
            factory=True,
            workers=workers,
        )
        procs.append(base_proc)
        token = httpx.post(
            subject_url + "/api/v1/auth/token",
            data={"username": "buyer_wang", "password": "buyer_wang"},
            timeout=30,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        runs: dict[str, list[RunResult]] = {"subject": [], "baseline": []}

        pids = {"subject": subject_proc.pid, "baseline": base_proc.pid}
        probes = {"subject": subject_url + "/healthz", "baseline": base_url + "/docs"}

        def measure(kind: str, url: str, hdrs: dict[str, str]) -> float:
            drain(probes[kind])
            cpu_before = cpu_seconds(pids[kind])
            result = drive(url, hdrs, rate, seconds)
            drain(probes[kind])
            result.server_cpu = cpu_seconds(pids[kind]) - cpu_before
            runs[kind].append(result)
            if log:
                log(
                    f"{kind}: {result.rps:.0f} req/s, p50 {result.quantile(0.5) * 1000:.1f} ms,"
                    f" p95 {result.quantile(0.95) * 1000:.1f} ms, server CPU"
                    f" {result.cpu_ms_per_request:.1f} ms/request, load generator CPU"
                    f" {result.client_cpu_ms_per_request:.2f} ms/request, errors {result.errors}"
                )
            return result.rps

        subj, base = alternate(
            lambda: measure(
                "subject", subject_url + "/api/v1/forms/purchase_request/records", headers
            ),
            lambda: measure("baseline", base_url + "/rows", {}),
            repeats=repeats,
            warmup=1,
        )
        measured = {kind: results[1:] for kind, results in runs.items()}  # without warm-up

        def ms(kind: str, q: float) -> float:
            return round(statistics.median(r.quantile(q) for r in measured[kind]) * 1000, 1)

        def errors(kind: str) -> int:
            return sum(sum(r.errors.values()) for r in measured[kind])

        def cpu_ms(kind: str) -> float:
            return round(statistics.median(r.cpu_ms_per_request for r in measured[kind]), 2)

        scale_info: dict[str, Any] = {
            "rate": rate,
            "seconds_per_run": seconds,
            "requests_per_run": int(rate * seconds),
            "workers": workers,
            "subject_p50_ms": ms("subject", 0.5),
            "subject_p95_ms": ms("subject", 0.95),
            "baseline_p50_ms": ms("baseline", 0.5),
            "baseline_p95_ms": ms("baseline", 0.95),
            "subject_cpu_ms_per_request": cpu_ms("subject"),
            "baseline_cpu_ms_per_request": cpu_ms("baseline"),
            "client_cpu_ms_per_request": round(
                statistics.median(
                    r.client_cpu_ms_per_request for rs in measured.values() for r in rs
                ),
                2,
            ),
            "subject_errors": errors("subject"),
            "baseline_errors": errors("baseline"),
            "p95_goal_ms": P95_GOAL_MS,
        }
        p95s = [r.quantile(0.95) * 1000 for r in measured["subject"]]
        return [
            Figure("api_ops_rps", "req/s", subj, base, ">= 0.5", scale_info, True),
            Figure("api_ops_p95", "ms", p95s, [P95_GOAL_MS] * len(p95s), "< 1", scale_info),
        ]
    finally:
        for proc in procs:
            _stop(proc)
        shutil.rmtree(work, ignore_errors=True)


def main(scale: int | None = None, **options: Any) -> None:
    """Run once and print the figures (``make bench`` registers :func:`run`)."""
    from benchmarks.harness import record

    started = time.perf_counter()
    figures = run(scale, log=print, **options)
    for fig in figures:
        doc: dict[str, Any] = record(fig)
        print(
            f"{fig.name}: subject {statistics.median(fig.subject):.1f} {fig.unit}, baseline "
            f"{statistics.median(fig.baseline):.1f} {fig.unit}, ratio "
            f"{doc['ratio_median']:.2f} ({doc['ratio_min']:.2f}-{doc['ratio_max']:.2f}), "
            f"goal {fig.goal}, met {fig.met}"
        )
    print(f"{figures[0].scale}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
