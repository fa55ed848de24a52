# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""DingTalk against the fake server: tokens that expire, errcode 88, hasMore offset paging."""

from __future__ import annotations

from datetime import datetime

from ingest.core import run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, DemoServer
from ingest.sources.dingtalk import DingTalkAttendanceStream, DingTalkSnapshotStream
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    CST,
    Demo,
    api,
    demo,
    replay_three_times,
    run_recording,
    server,
)
from warehouse.lake import Lake


def test_attendance_lands_the_truth_through_token_expiry_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    user = "0000000001000003"
    server.state.add_records(
        "attendance",
        datetime(2025, 4, 2, 9, tzinfo=CST),
        [{"userId": user, "workDate": 1743555600000}, {"id": 1, "userId": user, "workDate": "x"}],
        key=user,
    )
    server.state.inject("token_expired", count=2, prefix="/dingtalk/attendance")
    server.state.inject("busy", count=1, prefix="/dingtalk/attendance")
    s = DingTalkAttendanceStream(api(server.url + "/dingtalk"), APP_KEY, APP_SECRET)
    result, batches = run_recording(lake, s)
    assert result.rows_quarantined == 2
    hr = demo.truth["hr"]
    with lake.reading() as con:
        total, ids = con.sql(
            "SELECT count(*), count(DISTINCT record_id) FROM raw.dingtalk_attendance"
        ).fetchone()
        by_result = dict(
            con.sql(
                "SELECT time_result, count(*) FROM raw.dingtalk_attendance GROUP BY 1"
            ).fetchall()
        )
        reasons = sorted(r[0] for r in con.sql("SELECT reason FROM raw._quarantine").fetchall())
    assert total == ids == hr["attendance_records"]
    assert by_result == hr["attendance_time_results"]
    assert reasons == ["missing id", "workDate 'x' is not a time in milliseconds"]
    assert not server.state.faults
    replay_three_times(lake, s, batches)
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.dingtalk_attendance").fetchone()[0] == total


def test_users_and_departments_snapshots_land_once_while_unchanged(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    for kind in ("users", "departments"):
        s = DingTalkSnapshotStream(api(server.url + "/dingtalk"), APP_KEY, APP_SECRET, kind)
        assert run_stream(lake, s).rows_landed == demo.truth["hr"][kind]
        assert run_stream(lake, s).rows_landed == 0
    with lake.reading() as con:
        root = con.sql(
            "SELECT name, parent_id FROM raw.dingtalk_departments WHERE department_id = '1'"
        ).fetchone()
    assert root == ("OpsLake家居", None)
