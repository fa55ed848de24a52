"""`make up` / `make down` as a newcomer runs them, on its own home and ports.

The four URLs answer, Superset's chart shows the data that came through the pipeline,
`make down` leaves no process of ours, and `make up` again changes no row count.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from warehouse.lake import Lake
from warehouse.settings import Settings

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make(target: str, env: dict[str, str], timeout: float = 1500) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"make {target} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout


def _our_processes(home: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(home) in line and "ps -eo" not in line]


# bookkeeping that grows with every run by design (a batch record per cursor advance)
BOOKKEEPING = {"raw._batches", "raw._cursors", "raw._batch_parts"}


def _row_counts(home: Path, ext: Path) -> dict[str, int]:
    settings = Settings(home=home, extension_dir=ext)
    with Lake.from_settings(settings).reading() as con:
        tables = con.sql(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            t: con.sql(f"SELECT count(*) FROM {t}").fetchone()[0]
            for (t,) in tables
            if t not in BOOKKEEPING
        }


def _assert_dagster_lineage(dagster: str) -> None:
    """The Dagster UI's GraphQL lists every mart with connector assets upstream of it."""
    query = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
    nodes = httpx.post(f"{dagster}/graphql", json={"query": query}, timeout=60).json()
    parents = {
        tuple(n["assetKey"]["path"]): {tuple(d["path"]) for d in n["dependencyKeys"]}
        for n in nodes["data"]["assetNodes"]
    }

    def ancestors(key: tuple[str, ...]) -> set[tuple[str, ...]]:
        seen: set[tuple[str, ...]] = set()
        todo = [key]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    marts = [
        k
        for k in parents
        if k[0] == "marts" and k[1] not in ("metricflow_time_spine", "dim_channels")
    ]
    assert len(marts) > 20, marts
    for mart in marts:
        assert any(a[0] == "raw" for a in ancestors(mart)), mart
    assert any(k[0] == "superset" for k in parents)


def test_make_up_twice_then_down(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ports = {
        "OPSLAKE_DAGSTER_PORT": _free_port(),
        "OPSLAKE_OPS_PORT": _free_port(),
        "OPSLAKE_SUPERSET_PORT": _free_port(),
        "OPSLAKE_DOCS_PORT": _free_port(),
    }
    env = (
        os.environ
        | {k: str(v) for k, v in ports.items()}
        | {
            "OPSLAKE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "DEMO_SCALE": "3000",
        }
    )
    env.pop("OPSLAKE_EXTENSION_DIR", None)
    try:
        out = _make("up", env)
        base = "http://127.0.0.1"
        for name, port in ports.items():
            assert f"{base}:{port}/" in out, (name, out[-2000:])
        assert (
            httpx.get(f"{base}:{ports['OPSLAKE_OPS_PORT']}/healthz", timeout=10).status_code == 200
        )
        assert (
            httpx.get(f"{base}:{ports['OPSLAKE_DAGSTER_PORT']}/server_info", timeout=10).status_code
            == 200
        )
        _assert_dagster_lineage(f"{base}:{ports['OPSLAKE_DAGSTER_PORT']}")
        # the dbt docs page is generated (not the placeholder) and names a mart
        docs = httpx.get(f"{base}:{ports['OPSLAKE_DOCS_PORT']}/", timeout=10)
        assert docs.status_code == 200 and "fct_order_lines" in docs.text, docs.text[:300]
        superset = f"{base}:{ports['OPSLAKE_SUPERSET_PORT']}"
        assert httpx.get(f"{superset}/health", timeout=10).text == "OK"

        # the dashboard's chart shows what came through the pipeline
        counts = _row_counts(home, home / "duckdb_ext")
        truth = json.loads((home / "demo" / "truth.json").read_text())
        expected = sum(Decimal(str(s["net_sales"])) for s in truth["pos"]["stores"].values())
        token = httpx.post(
            f"{superset}/api/v1/security/login",
            json={"username": "admin", "password": "admin", "provider": "db", "refresh": False},
            timeout=30,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        charts = httpx.get(f"{superset}/api/v1/chart/", headers=headers, timeout=30).json()[
            "result"
        ]
        assert charts
        chart_id = charts[0]["id"]
        response = httpx.get(
            f"{superset}/api/v1/chart/{chart_id}/data/",
            params={"force": "true"},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        rows = response.json()["result"][0]["data"]
        assert rows
        total = sum(
            Decimal(str(v))
            for row in rows
            for k, v in row.items()
            if k != "sales_date" and isinstance(v, int | float)
        )
        assert abs(total - expected) < Decimal("0.05"), (total, expected)

        # a second `make up`: nothing duplicated, nothing started twice
        start = time.monotonic()
        out2 = _make("up", env)
        assert "already running" in out2
        assert _row_counts(home, home / "duckdb_ext") == counts
        print(f"second make up took {time.monotonic() - start:.0f}s")
    finally:
        _make("down", env, timeout=300)
    time.sleep(1)
    assert _our_processes(home) == []
    for port in ports.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
