"""The purchase journey as steps a person takes in the browser, reusable by other tests
(the end-to-end test continues from ``JourneyResult``: the record reaches the lake)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORM = "purchase_request"


@dataclass(frozen=True)
class JourneyResult:
    form: str
    record_id: int
    record_url: str


def log_in(browser: Any, base_url: str, username: str, lang: str = "en") -> Any:
    """A new browser context (its own cookies) with ``username`` logged in; returns the page."""
    context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", username)  # demo users: password = username
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    return page


def submit_purchase_request(page: Any, base_url: str, shots: Path) -> JourneyResult:
    page.goto(f"{base_url}/forms/{FORM}/new?lang=en")
    page.fill("#field-title", "Two servers for the new warehouse")
    page.select_option("#field-urgency", "normal")
    page.fill("#field-items-0-item", "Server")
    page.fill("#field-items-0-quantity", "2")
    page.fill("#field-items-0-unit_price", "3000.00")
    page.screenshot(path=str(shots / "1-operator-fills-request.png"), full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/forms/{FORM}/records/\d+"))
    record_id = int(page.get_attribute("#record", "data-record-id") or 0)
    page.screenshot(path=str(shots / "2-request-submitted.png"), full_page=True)
    return JourneyResult(FORM, record_id, f"{base_url}/forms/{FORM}/records/{record_id}")


def approve_from_inbox(page: Any, base_url: str, record_id: int, comment: str, shot: Path) -> None:
    """Open the to-do from the home page's inbox and approve it with a comment."""
    page.goto(f"{base_url}/?lang={page.evaluate('document.documentElement.lang')}")
    page.click(f"#inbox a[href*='/records/{record_id}']")
    page.fill("section.decision textarea[name=comment]", comment)
    page.check("section.decision input[value=approve]")
    page.screenshot(path=str(shot), full_page=True)
    page.click("section.decision button[type=submit]")
    page.wait_for_url(re.compile(r"done=1"))


def save(result: JourneyResult, shots: Path) -> None:
    (shots / "purchase_journey.json").write_text(json.dumps(asdict(result)), encoding="utf-8")


def superset_login(browser: Any, base_url: str, username: str = "admin") -> Any:
    """A new browser context logged in to Superset (demo users: password = username)."""
    context = browser.new_context(locale="en", viewport={"width": 1440, "height": 1200})
    page = context.new_page()
    page.goto(f"{base_url}/login/", wait_until="domcontentloaded")
    page.fill('input[name="username"], #username', username)
    page.fill('input[name="password"], #password', username)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
    return page


def open_dashboard_showing(page: Any, base_url: str, slug: str, text: str) -> Any:
    """Open a dashboard with fresh chart data (``force``) and wait until ``text`` shows in
    one of its charts; returns that chart's holder."""
    page.goto(f"{base_url}/superset/dashboard/{slug}/?force=true", wait_until="domcontentloaded")
    holder = page.locator('[data-test="dashboard-component-chart-holder"]', has_text=text)
    holder.first.wait_for(state="visible", timeout=90_000)
    return holder.first
