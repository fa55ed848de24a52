"""Every provisioned dashboard opens in Chromium, every chart renders, none shows an error.

Runs on a lake built by the real pipeline (`demo_lake`, scale 2000 through Dagster) with
Superset provisioned from apps/bi (tests/bi/conftest.py's `demo_superset`). Screenshots go
to test-artifacts/dashboards/<slug>.png. Skips (saying why) only if /usr/bin/chromium is
missing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.bi.conftest import ROOT, Superset, shared_demo_superset

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "dashboards"
HOLDER = '[data-test="dashboard-component-chart-holder"]'

# state of every chart holder: rendered (something drawn), loading, or an error message
_PROBE = """
(sel) => Array.from(document.querySelectorAll(sel)).map((h) => {
  const alert = h.querySelector('.ant-alert-error, [role="alert"], [data-test="error-tooltip"]');
  const loading = h.querySelector('[data-test="loading-indicator"], .loading');
  const drawn = h.querySelector('canvas, svg, table, .superset-legacy-chart-big-number, '
    + '.big_number, .header-line, [data-test="big-number"]');
  const text = (h.innerText || '').trim();
  return {
    title: (h.querySelector('[data-test="editable-title"], .header-title') || {}).innerText || '',
    error: alert ? (alert.innerText || 'error').slice(0, 300) : null,
    loading: !!loading,
    drawn: !!drawn || /\\d/.test(text),
  };
})
"""


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)


def login(page: Any, base_url: str, username: str = "admin", password: str = "admin") -> None:
    page.goto(f"{base_url}/login/", wait_until="domcontentloaded")
    page.fill('input[name="username"], #username', username)
    page.fill('input[name="password"], #password', password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)


def open_dashboard(page: Any, base_url: str, slug: str, expected: int, timeout: float = 60) -> dict:
    """Navigate and wait until all `expected` charts are drawn or errored; return timings."""
    start = time.perf_counter()
    page.goto(f"{base_url}/superset/dashboard/{slug}/?standalone=0", wait_until="domcontentloaded")
    deadline = time.monotonic() + timeout
    states: list[dict] = []
    while time.monotonic() < deadline:
        states = page.evaluate(_PROBE, HOLDER)
        done = [s for s in states if s["error"] or (s["drawn"] and not s["loading"])]
        if len(states) >= expected and len(done) == len(states):
            break
        page.wait_for_timeout(150)
    return {"seconds": time.perf_counter() - start, "states": states}


@pytest.fixture(scope="session")
def bi_superset(request: pytest.FixtureRequest) -> Superset:
    """The session's one Superset on the demo lake (shared with tests/bi)."""
    return shared_demo_superset(request)


def test_every_dashboard_renders_without_chart_errors(bi_superset: Superset) -> None:
    if not CHROMIUM.exists():
        print(f"\nSKIP: {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with bi_superset.client("admin", "admin") as http:
        dashboards = http.get("/api/v1/dashboard/?q=(page_size:100)").json()["result"]
        counts = {
            d["slug"]: len(http.get(f"/api/v1/dashboard/{d['id']}/charts").json()["result"])
            for d in dashboards
        }
    assert len(counts) >= 10, counts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 3200}, locale="zh-CN")
            login(page, bi_superset.base_url)
            for slug, expected in sorted(counts.items()):
                result = open_dashboard(page, bi_superset.base_url, slug, expected)
                page.screenshot(path=str(ARTIFACTS / f"{slug}.png"), full_page=True)
                states = result["states"]
                print(f"{slug}: {len(states)} charts in {result['seconds']:.1f}s")
                if len(states) < expected:
                    problems.append(f"{slug}: {len(states)} of {expected} charts on the page")
                for s in states:
                    if s["error"]:
                        problems.append(f"{slug}: {s['title']}: {s['error']}")
                    elif s["loading"] or not s["drawn"]:
                        problems.append(f"{slug}: {s['title']}: never rendered")
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
