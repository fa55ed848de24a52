#!/usr/bin/env python
"""Start/stop OpsLake's Superset (gunicorn) in the background. Standard library only.

    python apps/bi/service.py start    # no-op if already running; waits for /health
    python apps/bi/service.py stop
    python apps/bi/service.py status   # exit 0 when running

Settings (environment, same names as the main settings):
  OPSLAKE_HOME (var), OPSLAKE_HOST (127.0.0.1), OPSLAKE_SUPERSET_PORT (8088),
  OPSLAKE_SUPERSET_VENV (.venv-superset next to the repo root),
  OPSLAKE_SUPERSET_WORKERS (2), OPSLAKE_SUPERSET_THREADS (4).
PID file: $OPSLAKE_HOME/run/superset.pid; log: $OPSLAKE_HOME/run/superset.log.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BI_DIR = Path(__file__).resolve().parent
ROOT = BI_DIR.parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def home() -> Path:
    return Path(_env("OPSLAKE_HOME", "var")).absolute()


def run_dir() -> Path:
    return home() / "run"


def pid_file() -> Path:
    return run_dir() / "superset.pid"


def log_file() -> Path:
    return run_dir() / "superset.log"


def address() -> tuple[str, int]:
    return _env("OPSLAKE_HOST", "127.0.0.1"), int(_env("OPSLAKE_SUPERSET_PORT", "8088"))


def venv() -> Path:
    return Path(_env("OPSLAKE_SUPERSET_VENV", str(ROOT / ".venv-superset"))).absolute()


def url(path: str = "") -> str:
    host, port = address()
    return f"http://{host}:{port}{path}"


def running_pid() -> int | None:
    """PID of our gunicorn master if the PID file points at a live one."""
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid  # no /proc (macOS): trust the live PID
    return pid if "gunicorn" in cmdline else None


def healthy(timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url("/health"), timeout=timeout) as resp:  # noqa: S310
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(wait: float) -> int:
    pid = running_pid()
    if pid:
        print(f"superset already running (pid {pid}) at {url()}")
        return 0
    gunicorn = venv() / "bin" / "gunicorn"
    if not gunicorn.exists():
        print(f"no Superset venv at {venv()}: run `make superset-venv`", file=sys.stderr)
        return 1
    host, port = address()
    run_dir().mkdir(parents=True, exist_ok=True)
    env = os.environ.copy()
    env.setdefault("SUPERSET_CONFIG_PATH", str(BI_DIR / "superset_config.py"))
    env["OPSLAKE_HOME"] = str(home())
    env.setdefault("FLASK_APP", "superset")
    # fmt: off
    cmd = [
        str(gunicorn),
        "--bind", f"{host}:{port}",
        "--workers", _env("OPSLAKE_SUPERSET_WORKERS", "2"),
        "--threads", _env("OPSLAKE_SUPERSET_THREADS", "4"),
        "--worker-class", "gthread",
        "--timeout", "120",
        "--graceful-timeout", "10",
        "--limit-request-line", "0",
        "--limit-request-field_size", "0",
        "--no-control-socket",  # default socket is per user (~/.gunicorn): instances collide
        "--access-logfile", "-",
        "--error-logfile", "-",
        "superset.app:create_app()",
    ]
    # fmt: on
    with open(log_file(), "ab") as log:
        proc = subprocess.Popen(  # noqa: S603
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop kills workers too
        )
    pid_file().write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pid_file().unlink(missing_ok=True)
            print(f"superset exited with {proc.returncode}; last log lines:", file=sys.stderr)
            print(_tail(log_file()), file=sys.stderr)
            return 1
        if healthy():
            print(f"superset running (pid {proc.pid}) at {url()}, log {log_file()}")
            return 0
        time.sleep(0.5)
    print(f"superset not healthy after {wait:.0f}s; see {log_file()}", file=sys.stderr)
    stop()
    return 1


def stop(timeout: float = 20.0) -> int:
    pid = running_pid()
    if not pid:
        pid_file().unlink(missing_ok=True)
        print("superset not running")
        return 0
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        _signal_group(pid, signal.SIGKILL)
        time.sleep(0.5)
    pid_file().unlink(missing_ok=True)
    print(f"superset stopped (pid {pid})")
    return 0


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the group started by start(): master + workers
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    except OSError:
        return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def status() -> int:
    pid = running_pid()
    if pid:
        state = "healthy" if healthy() else "not answering"
        print(f"superset running (pid {pid}) at {url()}, {state}")
        return 0
    print("superset not running")
    return 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="OpsLake Superset service")
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for /health")
    args = parser.parse_args(argv)
    if args.action == "start":
        return start(args.wait)
    if args.action == "stop":
        return stop()
    return status()


if __name__ == "__main__":
    sys.exit(main())
