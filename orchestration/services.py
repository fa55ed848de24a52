"""Start and stop the long-running services `make up` brings up, by recorded PIDs.

The services: the Dagster webserver and daemon, the ops app, and a static server of the
dbt docs (``generate_docs`` writes them; the stdlib's http.server serves the one file).

Each service runs in its own process group with its PID in ``var/run/<name>.pid`` and
its log in ``var/run/<name>.log``. Starting a running service does nothing; stopping
sends the signal the service honours (Dagster: SIGINT) to its whole group, then
SIGKILL to what is left after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from warehouse.settings import Settings

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    port: int | None
    stop_signal: int = signal.SIGTERM


def services(s: Settings) -> list[Service]:
    module = ["-m", "orchestration.definitions"]
    return [
        Service(
            "dagster-webserver",
            [str(BIN / "dagster-webserver"), "-h", s.host, "-p", str(s.dagster_port), *module],
            s.dagster_port,
            signal.SIGINT,
        ),
        Service(
            "dagster-daemon", [str(BIN / "dagster-daemon"), "run", *module], None, signal.SIGINT
        ),
        Service(
            "ops",
            [
                str(BIN / "uvicorn"),
                "apps.ops.main:app",
                "--host",
                s.host,
                "--port",
                str(s.ops_port),
            ],
            s.ops_port,
        ),
        Service(
            "docs",
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                s.host,
                "--directory",
                str(docs_dir(s)),
                str(s.docs_port),
            ],
            s.docs_port,
        ),
    ]


def docs_dir(s: Settings) -> Path:
    """Where the static dbt docs site lives (``index.html``)."""
    return s.home / "docs"


def generate_docs(s: Settings) -> Path:
    """`dbt docs generate --static` against the lake, into ``docs_dir(s)/index.html``.

    The static page embeds the manifest and the catalog (columns, types and row counts read
    from the lake), so a plain file server is enough and nothing is fetched at view time.
    """
    from pipelines.constants import DBT_EXECUTABLE, DBT_PROJECT_DIR
    from pipelines.resources import LakeResource

    target = s.home / "dbt-docs-target"
    env = os.environ | LakeResource(home=str(s.home)).dbt_env()
    env |= {"DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(
        [DBT_EXECUTABLE, "docs", "generate", "--static", "--quiet", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    page = target / "static_index.html"
    if proc.returncode or not page.exists():
        raise RuntimeError(f"dbt docs generate failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    out = docs_dir(s)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(page, out / "index.html.tmp")
    (out / "index.html.tmp").replace(out / "index.html")  # a reader never sees half a page
    return out / "index.html"


def _pid_file(s: Settings, name: str) -> Path:
    return s.run_dir / f"{name}.pid"


def running_pid(s: Settings, name: str) -> int | None:
    path = _pid_file(s, name)
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start(s: Settings, svc: Service, timeout: float = 120) -> str:
    if running_pid(s, svc.name):
        return "already running"
    if svc.port and port_open(s.host, svc.port):
        raise RuntimeError(
            f"port {svc.port} on {s.host} is taken by another program; stop it or set "
            f"a different port (see README, Configuration)"
        )
    s.run_dir.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"DAGSTER_HOME": str(s.dagster_home), "OPSLAKE_HOME": str(s.home)}
    log = (s.run_dir / f"{svc.name}.log").open("ab")
    proc = subprocess.Popen(
        svc.argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        # SIGINT must stay deliverable: shells start background jobs with it ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _pid_file(s, svc.name).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while svc.port and not port_open(s.host, svc.port):
        if proc.poll() is not None:
            raise RuntimeError(f"{svc.name} exited at start; see {s.run_dir / svc.name}.log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{svc.name} did not open port {svc.port} in {timeout:.0f}s")
        time.sleep(0.3)
    return "started"


def stop(s: Settings, svc_name: str, stop_signal: int, grace: float = 20) -> str:
    pid = running_pid(s, svc_name)
    _pid_file(s, svc_name).unlink(missing_ok=True)
    if pid is None:
        return "not running"
    try:
        os.killpg(pid, stop_signal)
    except ProcessLookupError:
        return "stopped"
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return "stopped"
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return "killed after grace period"


def up(s: Settings, only: list[str] | None = None) -> dict[str, str]:
    chosen = [svc for svc in services(s) if not only or svc.name in only]
    if only and len(chosen) != len(set(only)):
        known = ", ".join(svc.name for svc in services(s))
        raise RuntimeError(f"unknown service in {', '.join(only)}; known: {known}")
    placeholder = docs_dir(s) / "index.html"
    if not placeholder.exists():  # the server starts even before the first docs generate
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.write_text(
            "<p>The dbt docs are not generated yet: run <code>opslake services docs</code>.</p>",
            encoding="utf-8",
        )
    return {svc.name: start(s, svc) for svc in chosen}


def down(s: Settings) -> dict[str, str]:
    return {svc.name: stop(s, svc.name, svc.stop_signal) for svc in reversed(services(s))}
