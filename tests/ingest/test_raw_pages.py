"""Pages kept as received (``api.RawPage``) give the raw rows and quarantine that parsing
every record into a dict gave: same ids, times, statuses, reasons; the payload is the
record's text as the server sent it."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import orjson
import pyarrow as pa

from ingest.sources.api import (
    CST,
    ApiConfig,
    Pending,
    RawPage,
    _RawColumns,
    fixed,
    pages_from_the_back,
)
from ingest.sources.tmall import _HEAD, TmallTradesStream, _version

A = datetime(2026, 3, 1, tzinfo=CST)
B = A + timedelta(days=1)


def take_raw(
    s: TmallTradesStream, pending: Pending, page: RawPage, a: datetime, b: datetime, no: int
) -> None:
    """One page taken as a window's pages are: collected, then converted."""
    cols = _RawColumns()
    s._collect_raw(pending, cols, page, a, b, no)
    s._convert_raw(pending, cols, a, b)


def stream() -> TmallTradesStream:
    return TmallTradesStream(ApiConfig(fixed("http://unused"), A), "k", "s", "x")


def trade(
    tid: int | None, modified: object, status: object = "TRADE_FINISHED", **kw: object
) -> dict:
    rec: dict = {"tid": tid, "tid_str": None if tid is None else str(tid), "modified": modified}
    if status is not None:
        rec["status"] = status
    return rec | kw


TRADES: list[object] = [
    trade(3300000000000000001, "2026-03-01 00:00:00"),  # on the window start: kept
    trade(3300000000000000002, "2026-03-02 00:00:00"),  # on the window end: not this window
    trade(3300000000000000003, "2026-02-28 23:59:59"),  # before the window
    trade(3300000000000000004, "2026-03-01 12:34:56", None),  # no status
    trade(3300000000000000005, "2026-03-01 12:34:56", title='中文 \u2028 \\ " é', n=1.5e-7),
    {"tid": 3300000000000000006, "modified": "2026-03-01 01:00:00", "status": "X"},  # no tid_str
    {"tid_str": "", "tid": 3300000000000000007, "modified": "2026-03-01 01:00:00"},
    {"tid_str": 0, "tid": "3300000000000000008", "modified": "2026-03-01 01:00:00"},
    {"status": "TRADE_FINISHED", "modified": "2026-03-01 01:00:00"},  # missing tid_str
    trade(3300000000000000010, "03/03/25"),
    trade(3300000000000000011, "2026-02-29 10:00:00"),  # not a calendar day
    trade(3300000000000000012, "2026-03-01T10:00:00"),  # Python reads it: kept as 10:00
    trade(3300000000000000013, "2026-03-01x10:00:00"),  # so does this
    trade(3300000000000000014, "2026-03-01 10:00+01"),  # the offset is replaced by GMT+8
    trade(3300000000000000015, "2026-03-01 24:00:00"),
    trade(3300000000000000016, "2026-03-01 10:00:60"),
    trade(3300000000000000017, " 2026-03-01 10:00:0"),
    trade(3300000000000000018, 1772323200),  # a number, not text
    trade(3300000000000000019, None),
    1,
    "a trade",
    None,
    [1, 2],
    {"tid": {"nested": 1}, "modified": "2026-03-01 01:00:00"},
]


def _both(records: list[object], body: bytes) -> tuple[Pending, Pending]:
    s = stream()
    parsed, raw = Pending(A), Pending(A)
    s._take(parsed, records, A, B, 3)  # type: ignore[arg-type]
    raws = msgspec.json.decode(body, type=list[msgspec.Raw])
    take_raw(s, raw, RawPage.decode(raws, _HEAD), A, B, 3)
    return parsed, raw


def _quarantined(p: Pending) -> list[tuple[int, str, str, object]]:
    return [(int(r.location.rsplit("#")[1]), r.location, r.reason, r.record) for r in p.rejected]


def _rows(p: Pending) -> list[dict]:
    return stream()._batch(p, B).rows.to_pylist()


def test_a_raw_page_lands_what_a_parsed_page_landed_and_quarantines_the_same() -> None:
    body = orjson.dumps(TRADES)
    parsed, raw = _both(TRADES, body)
    old, new = _rows(parsed), _rows(raw)
    assert len(new) == 10
    for o, n in zip(old, new, strict=True):
        assert {k: v for k, v in o.items() if k != "payload"} == {
            k: v for k, v in n.items() if k != "payload"
        }
        assert orjson.loads(n["payload"]) == orjson.loads(o["payload"])
    # the same records with the same reasons (those Arrow's time parser left to ``convert``
    # come after the others)
    assert sorted(_quarantined(raw)) == sorted(_quarantined(parsed))
    reasons = [r.reason for r in raw.rejected]
    assert "missing tid_str" in reasons and "record is not a JSON object" in reasons
    assert len(reasons) == len(TRADES) - 10 - 2  # two more fall outside the window


def test_the_payload_is_the_text_received_and_big_ids_stay_exact() -> None:
    texts = [
        b'{ "tid_str" : "3300000000000000001", "tid": 3300000000000000001,\n'
        b'  "modified": "2026-03-01 08:00:00", "status": "WAIT_SELLER_SEND_GOODS",'
        b' "title": "\\u4e2d\\u6587", "fee": 1.10 }',
        orjson.dumps(trade(3300000000000000002, "2026-03-01 09:00:00")),
    ]
    body = b"[" + b" ,\n ".join(texts) + b"]"
    records = orjson.loads(body)
    parsed, raw = _both(records, body)
    new = _rows(raw)
    assert [r["payload"].encode() for r in new] == texts
    assert [r["order_id"] for r in new] == ["3300000000000000001", "3300000000000000002"]
    assert new[0]["modified_at"] == datetime(2026, 3, 1, 8, 0, tzinfo=CST)
    assert [orjson.loads(r["payload"]) for r in new] == records
    assert _rows(parsed)[0]["status"] == new[0]["status"]


def test_a_record_that_is_not_utf8_is_quarantined_and_the_rest_of_its_page_lands() -> None:
    good = orjson.dumps(trade(3300000000000000001, "2026-03-01 08:00:00"))
    bad = b'{"tid_str":"3300000000000000002","modified":"2026-03-01 08:00:00","t":"\xff"}'
    raws = msgspec.json.decode(b"[" + good + b"," + bad + b"]", type=list[msgspec.Raw])
    pending = Pending(A)
    take_raw(stream(), pending, RawPage.decode(raws, _HEAD), A, B, 1)
    assert [r["order_id"] for r in _rows(pending)] == ["3300000000000000001"]
    assert len(pending.rejected) == 1
    assert pending.rejected[0].reason.startswith("not JSON")
    assert pending.rejected[0].location.endswith("page 1 #2")


def test_echoes_are_dropped_from_raw_pages_as_from_parsed_ones() -> None:
    one = [trade(1, "2026-03-01 08:00:00"), trade(2, "2026-03-01 07:00:00"), 5]
    two = [trade(2, "2026-03-01 07:00:00"), trade(3, "2026-03-01 06:00:00"), 5]
    pages = {2: one, 1: two}  # read from the back: page 2 first

    def raw(no: int) -> RawPage:
        raws = msgspec.json.decode(orjson.dumps(pages[no]), type=list[msgspec.Raw])
        return RawPage.decode(raws, _HEAD)

    parsed = list(pages_from_the_back(6, 3, lambda no: pages[no], _version))
    kept = list(pages_from_the_back(6, 3, raw, _version))
    assert [[orjson.loads(bytes(r)) for r in p.raws] for p in kept] == parsed
    assert [len(p) for p in kept] == [3, 2]


def test_batches_of_raw_pages_have_the_raw_schema() -> None:
    s = stream()
    pending = Pending(A)
    for hour in range(3):
        body = orjson.dumps([trade(10 + hour, f"2026-03-01 0{hour}:00:00")])
        raws = msgspec.json.decode(body, type=list[msgspec.Raw])
        take_raw(s, pending, RawPage.decode(raws, _HEAD), A, B, hour + 1)
    batch = s._batch(pending, B)
    assert batch.rows.schema == s.schema
    assert batch.rows.num_rows == len(pending) == 3
    assert isinstance(batch.rows.column("payload"), pa.ChunkedArray)
