# ruff: noqa: F811 (pytest fixtures come from tests.ingest.apikit)
"""WeCom check-ins against the fake server: gettoken, errcode 42001/40014 renewals, windows."""

from __future__ import annotations

import pytest

from ingest.core import SourceError, run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, DemoServer
from ingest.sources.wecom import WeComCheckinStream
from tests.ingest.apikit import (  # noqa: F401 (fixtures)
    Demo,
    api,
    demo,
    replay_three_times,
    run_recording,
    server,
)
from warehouse.lake import Lake

MISSED = {"Absenteeism", "NotSigned"}  # DingTalk results WeCom reports as 未打卡


def stream(url: str, secret: str = APP_SECRET) -> WeComCheckinStream:
    return WeComCheckinStream(api(url + "/wecom/cgi-bin"), APP_KEY, secret)


def test_check_ins_land_once_each_through_token_expiry_and_replays_add_nothing(
    lake: Lake, demo: Demo, server: DemoServer
) -> None:
    server.state.inject("token_expired", count=2, prefix="/wecom/cgi-bin/checkin")
    server.state.inject("busy", count=1, prefix="/wecom/cgi-bin/checkin")
    s = stream(server.url)
    result, batches = run_recording(lake, s)
    assert result.rows_quarantined == 0
    hr = demo.truth["hr"]
    with lake.reading() as con:
        total, distinct = con.sql(
            "SELECT count(*), count(DISTINCT (user_id, checkin_time, checkin_type)) "
            "FROM raw.wecom_checkins"
        ).fetchone()
        missed = con.sql(
            "SELECT count(*) FROM raw.wecom_checkins WHERE exception_type = '未打卡'"
        ).fetchone()[0]
        kinds = {
            r[0] for r in con.sql("SELECT DISTINCT checkin_type FROM raw.wecom_checkins").fetchall()
        }
    assert total == distinct == hr["attendance_records"]
    assert missed == sum(n for k, n in hr["attendance_time_results"].items() if k in MISSED)
    assert kinds == {"上班打卡", "下班打卡"}
    assert not server.state.faults  # both expiries were renewed, the busy answer retried
    replay_three_times(lake, s, batches)
    with lake.reading() as con:
        assert con.sql("SELECT count(*) FROM raw.wecom_checkins").fetchone()[0] == total


def test_a_wrong_corp_secret_stops_the_run_with_wecoms_message(
    lake: Lake, server: DemoServer
) -> None:
    with pytest.raises(SourceError, match="wecom errcode 40001 .*check-in app's secret"):
        run_stream(lake, stream(server.url, secret="wrong"))
