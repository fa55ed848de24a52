from __future__ import annotations

from apps.ops.main import app, create_app


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Page not found."}


def test_module_level_app_exists_for_uvicorn():
    assert app.title == "OpsLake ops"
    assert any(getattr(route, "path", None) == "/healthz" for route in app.routes)


def test_create_app_accepts_the_project_settings_object(tmp_path):
    from fastapi.testclient import TestClient

    from warehouse.settings import Settings

    project = Settings(_env_file=None, home=tmp_path, app_db=f"sqlite:///{tmp_path / 'x.db'}")
    application = create_app(project)
    assert application.state.settings.app_db == project.app_db
    with TestClient(application) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
    assert (tmp_path / "x.db").exists()


def test_production_refuses_the_default_secret_key(make_settings):
    import pytest

    from apps.ops.core.config import DEFAULT_SECRET_KEY

    with pytest.raises(ValueError, match="OPSLAKE_SECRET_KEY"):
        create_app(make_settings(environment="production", secret_key=DEFAULT_SECRET_KEY))
    production = make_settings(environment="production", seed_demo_users=None)
    assert production.seed_demo_users is False
