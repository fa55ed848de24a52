"""Fixtures for the Superset tests: a tiny lake and one Superset server on it.

The tests run in the main venv and drive Superset (its own venv) only through
`make -f apps/bi/superset.mk ...` and HTTP, exactly as a user would.

If .venv-superset is missing they skip, saying so; with OPSLAKE_REQUIRE_SUPERSET=1
or CI=true (`make test` builds the venv first through `setup`) they fail instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BI_DIR = ROOT / "apps" / "bi"
MAKEFILE = BI_DIR / "superset.mk"
SUPERSET_VENV = Path(os.environ.get("OPSLAKE_SUPERSET_VENV") or ROOT / ".venv-superset")

STORES = [("S001", "上海南京路店"), ("S002", "北京王府井店"), ("S003", "深圳万象城店")]
CHANNELS = ["pos", "mini_program"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "superset: starts Superset from .venv-superset (slow, ~1 min)"
    )


def load_provision() -> ModuleType:
    """apps/bi/provision.py as a module (its top level needs only stdlib + PyYAML)."""
    spec = importlib.util.spec_from_file_location("opslake_bi_provision", BI_DIR / "provision.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _require_venv() -> None:
    if (SUPERSET_VENV / "bin" / "superset").exists() and shutil.which("make"):
        return
    reason = f"Superset venv missing at {SUPERSET_VENV}: run `make superset-venv`"
    for var in ("OPSLAKE_REQUIRE_SUPERSET", "CI"):
        if os.environ.get(var, "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason} ({var} is set, so this must not be skipped)")
    print(f"\nSKIP: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# The lake
# ---------------------------------------------------------------------------
@dataclass
class TinyLake:
    home: Path

    @property
    def lake(self):  # noqa: ANN201 - warehouse.lake.Lake
        from warehouse.lake import Lake

        return Lake(
            self.home / "lake" / "catalog.sqlite",
            self.home / "lake" / "data",
            self.home / "duckdb_ext",
        )

    def totals(self) -> dict[str, float]:
        """net_sales per store name, straight from the lake."""
        with self.lake.reading() as con:
            rows = con.execute(
                "select store_name, sum(net_sales) from marts.fct_pos_daily_sales group by 1"
            ).fetchall()
        return {name: float(total) for name, total in rows}


def build_tiny_lake(home: Path) -> TinyLake:
    tiny = TinyLake(home)
    lake = tiny.lake
    lake.init()
    stores = ", ".join(f"('{code}', '{name}')" for code, name in STORES)
    channels = ", ".join(f"('{c}')" for c in CHANNELS)
    with lake.writing() as con:
        con.execute("create schema if not exists marts")
        con.execute(
            f"""
            create table marts.fct_pos_daily_sales as
            select
                d::date as sales_date,
                s.store_code,
                s.store_name,
                c.channel,
                (5 + (i * 7 + si * 3 + ci) % 40)::bigint as order_count,
                (9 + (i * 5 + si * 11 + ci) % 70)::bigint as line_count,
                (12 + (i * 3 + si * 13 + ci) % 90)::bigint as quantity,
                (800 + ((i * 37 + si * 101 + ci * 53) % 997) * 3.17)::decimal(18, 2) as net_sales
            from (select date '2025-01-01' + i::int as d, i from range(59) t(i)) days
            cross join (
                select *, row_number() over () as si
                from (values {stores}) v(store_code, store_name)
            ) s
            cross join (
                select *, row_number() over () as ci from (values {channels}) v(channel)
            ) c
            """
        )
    return tiny


@pytest.fixture(scope="session")
def tiny_lake(tmp_path_factory: pytest.TempPathFactory) -> TinyLake:
    return build_tiny_lake(tmp_path_factory.mktemp("opslake-home"))


# ---------------------------------------------------------------------------
# Superset
# ---------------------------------------------------------------------------
@dataclass
class Superset:
    home: Path
    base_url: str
    env: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def make(self, target: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        overrides = [
            f"{k}={self.env[k]}" for k in ("OPSLAKE_HOME", "OPSLAKE_HOST", "OPSLAKE_SUPERSET_PORT")
        ]
        proc = subprocess.run(
            ["make", "--no-print-directory", "-f", str(MAKEFILE), target, *overrides],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"make {target} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    @contextmanager
    def client(self, username: str, password: str) -> Iterator[httpx.Client]:
        """An httpx client logged in through /api/v1/security/login, with a CSRF token."""
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            self._login(http, username, password)
            yield http

    def _login(self, http: httpx.Client, username: str, password: str) -> None:
        resp = http.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
        )
        assert resp.status_code == 200, resp.text
        http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        csrf = http.get("/api/v1/security/csrf_token/")
        assert csrf.status_code == 200, csrf.text
        http.headers["X-CSRFToken"] = csrf.json()["result"]
        http.headers["Referer"] = self.base_url

    def pid(self) -> int | None:
        try:
            return int((self.home / "run" / "superset.pid").read_text())
        except (OSError, ValueError):
            return None


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@contextmanager
def running_superset(
    home: Path, extra_env: dict[str, str] | None = None, provisions: int = 1
) -> Iterator[Superset]:
    """Provision (init + import) Superset on the lake of `home`, start it, stop it after."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPSLAKE_", "SUPERSET_", "MAKE")) and k not in {"MFLAGS"}
    }
    env |= {
        "OPSLAKE_HOME": str(home),
        "OPSLAKE_HOST": "127.0.0.1",
        "OPSLAKE_SUPERSET_PORT": str(port),
        "OPSLAKE_SUPERSET_VENV": str(SUPERSET_VENV),
    } | (extra_env or {})
    server = Superset(home, f"http://127.0.0.1:{port}", env)

    t0 = time.perf_counter()
    server.make("superset-provision")  # init (db upgrade, roles, users) + first import
    server.timings["init_and_provision_s"] = time.perf_counter() - t0
    if provisions > 1:
        t0 = time.perf_counter()
        server.make("superset-provision")  # again: must change nothing
        server.timings["second_provision_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        server.make("superset-start")
        server.timings["start_s"] = time.perf_counter() - t0
        pid = server.pid()
        assert pid, "superset-start wrote no PID file"
        yield server
    finally:
        pid = server.pid()
        server.make("superset-stop")
        if pid:
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not _alive(pid), f"gunicorn master {pid} still alive after superset-stop"
            leftovers = _group_members(pid)
            assert not leftovers, f"processes left in group {pid}: {leftovers}"


@pytest.fixture(scope="session")
def superset(request: pytest.FixtureRequest) -> Iterator[Superset]:
    _require_venv()  # before building the lake: a skip should cost nothing
    tiny_lake: TinyLake = request.getfixturevalue("tiny_lake")
    with running_superset(tiny_lake.home, provisions=2) as server:
        yield server


def ensure_semantic_manifest() -> Path:
    """models/target/semantic_manifest.json (dbt parse if it is missing or older than a YAML
    file of the project: the Superset metrics are exported from it)."""
    manifest = ROOT / "models" / "target" / "semantic_manifest.json"
    newest_yaml = max(p.stat().st_mtime for p in (ROOT / "models").rglob("*.yml"))
    if not manifest.exists() or manifest.stat().st_mtime < newest_yaml:
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse"],
            cwd=ROOT / "models",
            env=os.environ | {"DBT_PROFILES_DIR": str(ROOT / "models")},
            check=True,
            capture_output=True,
            timeout=300,
        )
    return manifest


_SHARED: dict[str, Superset] = {}


def shared_demo_superset(request: pytest.FixtureRequest) -> Superset:
    """One Superset on the demo lake per test session, whichever test package asks first.

    (A fixture imported into another package would be a second fixture and start a second
    server; this keeps one, stopped when the session ends.)
    """
    if "demo" not in _SHARED:
        _require_venv()
        demo = request.getfixturevalue("demo_lake")
        ensure_semantic_manifest()
        stack = ExitStack()
        extra = {"OPSLAKE_EXTENSION_DIR": str(demo.settings.extension_dir)}
        _SHARED["demo"] = stack.enter_context(running_superset(demo.settings.home, extra))
        request.config.add_cleanup(stack.close)
        request.config.add_cleanup(lambda: _SHARED.pop("demo", None))
    return _SHARED["demo"]


@pytest.fixture(scope="session")
def demo_superset(request: pytest.FixtureRequest) -> Superset:
    """Superset with every provisioned dashboard on the demo lake (real pipeline, scale 2000).

    The semantic layer's metrics are exported by `make superset-provision` (superset-metrics).
    """
    return shared_demo_superset(request)
