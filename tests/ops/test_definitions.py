"""Form definitions in the database: idempotent loading and versions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from apps.ops.core.db import make_engine, make_sessionmaker, migrate
from apps.ops.forms.loader import load_definitions
from apps.ops.main import create_app
from apps.ops.models import FormDefinition, User
from tests.ops.conftest import VALID_DATA, get_token, submit


def count_versions(settings, name="stock_adjustment"):
    engine = make_engine(settings.app_db)
    try:
        with make_sessionmaker(engine)() as session:
            return session.scalar(
                select(func.count()).select_from(FormDefinition).where(FormDefinition.name == name)
            )
    finally:
        engine.dispose()


def test_loading_definitions_twice_stores_one_version(settings, forms_dir):
    migrate(settings.app_db)
    engine = make_engine(settings.app_db)
    try:
        for _ in range(2):
            with make_sessionmaker(engine)() as session:
                results = load_definitions(session, forms_dir)
                session.commit()
        shipped = sorted(p.stem for p in forms_dir.glob("*.yaml"))
        assert {"purchase_request", "stock_adjustment"} <= set(shipped)
        assert [(r.name, r.version, r.created) for r in results] == [
            (name, 1, False) for name in shipped
        ]
    finally:
        engine.dispose()
    assert count_versions(settings) == 1


def test_restarting_the_app_is_idempotent(settings):
    for _ in range(2):
        with TestClient(create_app(settings)) as client:
            assert client.get("/healthz").status_code == 200
    assert count_versions(settings) == 1
    engine = make_engine(settings.app_db)
    try:
        with make_sessionmaker(engine)() as session:
            names = session.scalars(select(User.username).order_by(User.username)).all()
            assert {"admin", "operator"} <= set(names)  # plus the demo organisation
            assert len(names) == len(set(names))
    finally:
        engine.dispose()


def test_changed_definition_becomes_version_2_and_old_records_keep_version_1(settings, forms_dir):
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {get_token(client)}"}
        old = submit(client, headers, VALID_DATA).json()
        assert old["form_version"] == 1

    # An administrator makes the note required and relabels it.
    path = forms_dir / "stock_adjustment.yaml"
    changed = (
        path.read_text(encoding="utf-8")
        .replace("    multiline: true\n", "    multiline: true\n    required: true\n")
        .replace("label: {zh-CN: 备注, en: Note}", "label: {zh-CN: 说明, en: Explanation}")
    )
    assert changed != path.read_text(encoding="utf-8")
    path.write_text(changed, encoding="utf-8")

    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {get_token(client)}"}
        listed = client.get("/api/v1/forms", headers=headers).json()["data"]
        assert {f["name"]: f["version"] for f in listed}["stock_adjustment"] == 2
        current = client.get("/api/v1/forms/stock_adjustment", headers=headers).json()
        assert current["version"] == 2
        first = client.get("/api/v1/forms/stock_adjustment?version=1", headers=headers).json()
        assert first["version"] == 1
        schema = client.get("/api/v1/forms/stock_adjustment/schema", headers=headers).json()
        assert "note" in schema["required"]
        assert schema["properties"]["note"]["title"] == "Explanation"

        missing_note = submit(client, headers, {**VALID_DATA, "note": ""})
        assert missing_note.status_code == 422
        assert missing_note.json()["errors"] == {"note": "Explanation is required."}
        new = submit(client, headers, VALID_DATA).json()
        assert new["form_version"] == 2

        records = client.get("/api/v1/forms/stock_adjustment/records", headers=headers).json()
        versions = {r["id"]: r["form_version"] for r in records["data"]}
        assert versions == {old["id"]: 1, new["id"]: 2}

    assert count_versions(settings) == 2
