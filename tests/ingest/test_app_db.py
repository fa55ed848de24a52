"""The ops app's database reaches the lake incrementally, every version once."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa

from apps.ops.core.config import OpsSettings
from apps.ops.main import create_app
from ingest.core import run_stream
from ingest.sources.app_db import AppRecordsStream
from warehouse.lake import Lake

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from fastapi.testclient import TestClient

RECORD = {"warehouse": "WH01", "sku": "OL-KIT-0001", "quantity": -2, "reason": "damage"}


@pytest.fixture
def app_client(tmp_path: Path):
    settings = OpsSettings(
        _env_file=None,
        home=tmp_path,
        app_db=f"sqlite:///{tmp_path / 'app.db'}",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "operator", "password": "operator"}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, settings.app_db


def _submit(client, n: int) -> None:
    for i in range(n):
        response = client.post(
            "/api/v1/forms/stock_adjustment/records", json={"data": RECORD | {"quantity": i + 1}}
        )
        assert response.status_code == 201, response.text


def test_records_land_incrementally_and_replays_add_nothing(lake: Lake, app_client) -> None:
    client, url = app_client
    stream = AppRecordsStream(url, page_size=2, settle_seconds=0)
    _submit(client, 3)
    first = run_stream(lake, stream)
    assert (first.rows_landed, first.batches) == (3, 2)
    for _ in range(3):
        assert run_stream(lake, stream).rows_landed == 0
    _submit(client, 1)
    # a new version of record 1 (as an edit would write it)
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql(
            "UPDATE form_records SET status = 'approved', "
            "updated_at = strftime('%Y-%m-%d %H:%M:%f000', 'now') WHERE id = 1"
        )
    second = run_stream(lake, stream)
    assert second.rows_landed == 2
    with lake.reading() as con:
        rows = con.sql(
            "SELECT id, status, json_extract(data, '$.quantity')::INT "
            "FROM raw.app_form_records ORDER BY _received_at, updated_at"
        ).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 1]
    assert rows[-1][1] == "approved" and rows[0][2] == 1


def test_records_younger_than_the_settle_window_wait_for_the_next_run(
    lake: Lake, app_client
) -> None:
    client, url = app_client
    _submit(client, 2)
    assert run_stream(lake, AppRecordsStream(url, settle_seconds=3600)).rows_landed == 0
    assert run_stream(lake, AppRecordsStream(url, settle_seconds=0)).rows_landed == 2
