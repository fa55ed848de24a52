"""Every shipped form template loads, renders in the web UI (both languages) and accepts a
valid submission made through the UI, with its line items, references and flow."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.ops.core.config import BUILTIN_FLOWS_DIR, BUILTIN_FORMS_DIR, OpsSettings
from apps.ops.flows.loader import read_flows
from apps.ops.forms.loader import read_definition_file
from apps.ops.forms.spec import FormSpec
from apps.ops.main import create_app
from apps.ops.web.fields import input_id
from tests.ops.conftest import csrf_of

TEMPLATES = sorted(p.stem for p in BUILTIN_FORMS_DIR.glob("*.yaml"))
USER = "buyer_wang"  # in 采购部 Purchasing: its manager pm_li approves
# A valid sample per pattern used by the templates (a new pattern needs a sample here).
PATTERN_SAMPLES = {
    "^[A-Z0-9]+(-[A-Z0-9]+)*$": "OL-KIT-0001",
    r"^\+?[0-9 -]{6,20}$": "13800138000",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "buyer@example.com",
    "^[0-9A-Z]{18}$": "91330000MA2B3C4D5E",
}
OVERRIDES = {"stock_transfer": {"to_warehouse": "WH02"}}
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module (the templates do not interfere), logged in as USER."""
    home = tmp_path_factory.mktemp("templates")
    settings = OpsSettings(
        _env_file=None,
        home=home,
        app_db=f"sqlite:///{home / 'app.db'}",
        environment="development",
        seed_demo_users=True,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        scheduler_interval_seconds=0,
        rules_dir=home / "no-rules",
    )
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/login", data={"username": USER, "password": USER}, follow_redirects=False
        )
        assert response.status_code == 303
        yield client


def sample(field: Any, form_name: str, client: TestClient, key: str) -> Any:
    """A valid value of one field, as the browser would post it."""
    kind = field.type
    if kind == "text":
        if field.pattern:
            assert field.pattern in PATTERN_SAMPLES, f"add a sample for {field.pattern!r}"
            return PATTERN_SAMPLES[field.pattern]
        return f"样例 Sample text {next(_serial)}"[: field.max_length]
    if kind == "number":
        low = field.min if field.min is not None and field.min > 0 else 1
        value = min(low, field.max) if field.max is not None else low
        return str(int(value)) if field.integer or float(value).is_integer() else str(value)
    if kind == "money":
        return "100.00" if field.max is None or field.max >= 100 else str(field.max)
    if kind in ("select", "multi_select"):
        return field.options[0].value
    if kind == "date":
        return "2026-03-02"
    if kind == "datetime":
        return "2026-03-02T09:30"
    if kind == "user":
        return USER
    if kind == "department":
        return "采购部 Purchasing"
    if kind == "reference":
        assert field.form, "provider references need the lake; no template uses one"
        return str(submit_valid(client, field.form))
    raise AssertionError(f"no sample for {kind} ({form_name}.{key})")


def valid_post(spec: FormSpec, client: TestClient) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in spec.fields:
        if field.type in ("formula", "attachment") or field.write_roles:
            continue
        if field.type == "table":
            for column in field.fields:
                if column.type not in ("formula", "attachment"):
                    key = f"{field.name}[0].{column.name}"
                    data[key] = sample(column, spec.name, client, key)
            continue
        data[field.name] = sample(field, spec.name, client, field.name)
    data.update(OVERRIDES.get(spec.name, {}))
    return data


def submit_valid(client: TestClient, name: str) -> int:
    spec = read_definition_file(BUILTIN_FORMS_DIR / f"{name}.yaml")
    page = client.get(f"/forms/{name}/new")
    assert page.status_code == 200, page.text
    data = {**valid_post(spec, client), "csrf_token": csrf_of(page.text)}
    response = client.post(f"/forms/{name}/new", data=data, follow_redirects=False)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]+)<', response.text)
    location = response.headers["location"]
    match = re.fullmatch(rf"/forms/{name}/records/(\d+)\?saved=1&lang=en", location)
    assert match, location
    return int(match.group(1))


def test_every_flow_of_a_template_names_a_shipped_form():
    flows = read_flows(BUILTIN_FLOWS_DIR)
    for path in BUILTIN_FORMS_DIR.glob("*.yaml"):
        spec = read_definition_file(path)
        if spec.flow:
            assert spec.flow in flows and flows[spec.flow].form == spec.name


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_loads_renders_and_accepts_a_valid_submission(ui: TestClient, name: str):
    spec = read_definition_file(BUILTIN_FORMS_DIR / f"{name}.yaml")  # loads (checked)
    assert {"zh-CN", "en"} <= set(spec.title)
    for field in spec.fields:
        assert {"zh-CN", "en"} <= set(field.label), f"{name}.{field.name} needs both labels"

    en = ui.get(f"/forms/{name}/new")
    zh = ui.get(f"/forms/{name}/new", params={"lang": "zh-CN"})
    assert en.status_code == zh.status_code == 200
    assert f"<h1>{spec.title['en']}</h1>" in en.text
    assert f"<h1>{spec.title['zh-CN']}</h1>" in zh.text
    for field in spec.fields:
        assert f'id="{input_id(field.name)}"' in en.text, field.name
        assert field.label["zh-CN"] in zh.text

    record_id = submit_valid(ui, name)
    page = ui.get(f"/forms/{name}/records/{record_id}")
    assert page.status_code == 200
    assert f'data-record-id="{record_id}"' in page.text
    if spec.flow:  # routed for approval: the trail shows who it went to
        assert "In approval" in page.text and 'id="trail"' in page.text
        assert "Sent to" in page.text


def test_shipped_templates_are_all_loaded_at_startup(ui: TestClient):
    forms = ui.get("/forms")
    assert forms.status_code == 200
    for name in TEMPLATES:
        assert f'href="/forms/{name}/new?lang=en"' in forms.text
    assert "Customers (CRM)" in forms.text and "Quality (QMS)" in forms.text
