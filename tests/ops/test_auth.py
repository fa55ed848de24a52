from __future__ import annotations

from datetime import timedelta

from apps.ops.core.security import SESSION, create_token
from tests.ops.conftest import VALID_DATA, get_token, submit


def test_token_with_good_password(client):
    response = client.post("/api/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 8 * 3600

    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"username": "admin", "display_name": "管理员 Admin", "roles": ["admin"]}


def test_token_with_bad_password_or_unknown_user(client):
    for username, password in [("admin", "wrong"), ("nobody", "admin"), ("admin", "")]:
        response = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code in (400, 422), response.text
        assert "access_token" not in response.json()
    wrong = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
    assert wrong.status_code == 400
    assert wrong.json() == {"detail": "Incorrect username or password."}


def test_token_without_fields_is_a_plain_422(client):
    response = client.post("/api/v1/auth/token", data={})
    assert response.status_code == 422
    body = response.json()
    assert set(body["errors"]) == {"username", "password"}
    assert body["errors"]["username"] == "This value is required."


def test_unauthenticated_is_401(client):
    response = submit(client, {}, VALID_DATA)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Log in first" in response.json()["detail"]

    for path in ["/api/v1/forms", "/api/v1/forms/stock_adjustment/records"]:
        assert client.get(path).status_code == 401


def test_invalid_or_foreign_tokens_are_401(client, settings):
    garbage = {"Authorization": "Bearer not-a-token"}
    response = submit(client, garbage, VALID_DATA)
    assert response.status_code == 401
    assert response.json()["detail"] == "Your login has expired or is not valid; log in again."

    # A web session cookie value is signed with another key: not an API token.
    session_token = create_token(
        secret_key=settings.secret_key, purpose=SESSION, subject="admin", expires=timedelta(1)
    )
    headers = {"Authorization": f"Bearer {session_token}"}
    assert submit(client, headers, VALID_DATA).status_code == 401


def test_tokens_of_another_secret_key_are_rejected(client, make_settings):
    from fastapi.testclient import TestClient

    from apps.ops.main import create_app

    token = get_token(client)
    other = make_settings(secret_key="another-secret-key-for-another-install-000000")
    with TestClient(create_app(other)) as other_client:
        response = other_client.get("/api/v1/forms", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
