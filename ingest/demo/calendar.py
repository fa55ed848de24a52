"""The demo company's calendar: the fixed two-year window, seasonality and time formatting.

All times are kept as integer *local* seconds (China Standard Time, GMT+8, no DST) counted
from 1970-01-01 00:00 local; ``utc_seconds`` converts for sources that send Unix time.
The window is fixed (not "today") so output is reproducible.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

START = date(2024, 11, 1)
END = date(2026, 10, 31)
DAYS = (END - START).days + 1  # 730
EPOCH = date(1970, 1, 1)
TZ_OFFSET = 8 * 3600
# days beyond END that formatting must cover (lifecycles are cut at END, but be safe)
_TAIL = 400

START_DAY = (START - EPOCH).days
START_TS = START_DAY * 86400
END_TS = START_TS + DAYS * 86400 - 1  # 2026-10-31 23:59:59 local

SPRING_FESTIVAL = {2025: date(2025, 1, 29), 2026: date(2026, 2, 17)}

# Statutory days off (approximate: the weekend swaps, 调休, are not modelled).
HOLIDAYS: frozenset[date] = frozenset(
    d
    for a, b in [
        ("2025-01-01", "2025-01-01"),
        ("2025-01-28", "2025-02-04"),
        ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"),
        ("2025-05-31", "2025-06-02"),
        ("2025-10-01", "2025-10-08"),
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-10-01", "2026-10-07"),
    ]
    for d in (
        date.fromisoformat(a) + timedelta(days=i)
        for i in range((date.fromisoformat(b) - date.fromisoformat(a)).days + 1)
    )
)

_DATES = [START + timedelta(days=i) for i in range(DAYS + _TAIL)]
_DATE_STR = [d.isoformat() for d in _DATES]
_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]


def day_date(i: int) -> date:
    """Date of day index ``i`` (0 = START)."""
    return _DATES[i]


def day_str(i: int) -> str:
    return _DATE_STR[i]


def day_of(ts: int) -> int:
    """Day index of a local timestamp."""
    return ts // 86400 - START_DAY


def month_of(ts: int) -> str:
    """'YYYY-MM' of a local timestamp."""
    return _DATE_STR[ts // 86400 - START_DAY][:7]


def fmt(ts: int) -> str:
    """'yyyy-MM-dd HH:mm:ss' (the TOP/JD style, GMT+8)."""
    return f"{_DATE_STR[ts // 86400 - START_DAY]} {_HMS[ts % 86400]}"


def fmt_iso(ts: int) -> str:
    """ISO 8601 with the +08:00 offset (the Shopify style)."""
    return f"{_DATE_STR[ts // 86400 - START_DAY]}T{_HMS[ts % 86400]}+08:00"


def hms(ts: int) -> str:
    return _HMS[ts % 86400]


def utc_seconds(ts: int) -> int:
    """Unix seconds of a local timestamp."""
    return ts - TZ_OFFSET


def utc_millis(ts: int) -> int:
    return (ts - TZ_OFFSET) * 1000


def months() -> list[str]:
    """The 24 months of the window, 'YYYY-MM'."""
    out: list[str] = []
    for s in _DATE_STR[:DAYS]:
        if not out or out[-1] != s[:7]:
            out.append(s[:7])
    return out


# ---------------------------------------------------------------- seasonality

# month-of-year shape of online demand (before events)
_MONTH_ONLINE = [0.95, 0.85, 1.0, 0.95, 1.0, 1.1, 0.9, 0.9, 1.0, 1.05, 1.15, 1.1]
_MONTH_POS = [1.05, 1.0, 0.9, 0.95, 1.05, 1.0, 1.05, 1.1, 0.95, 1.15, 0.95, 1.1]
# Monday..Sunday
_WEEKDAY = {
    "online": [1.0, 0.98, 0.98, 1.0, 0.95, 1.08, 1.12],
    "pos": [0.75, 0.75, 0.8, 0.85, 1.1, 1.55, 1.45],
    "b2b": [1.1, 1.15, 1.15, 1.1, 1.0, 0.12, 0.04],
}
# how strongly each event profile reacts to the shopping festivals: (11.11, 618, 12.12, 3.8)
_EVENT_STRENGTH = {
    "tmall": (1.0, 0.8, 1.0, 1.0),
    "jd": (0.8, 1.2, 0.6, 0.4),
    "douyin": (0.7, 0.6, 0.5, 0.8),
    "shopify": (0.35, 0.2, 0.2, 0.2),
    "pos": (0.05, 0.05, 0.0, 0.1),
    "manual": (0.0, 0.0, 0.0, 0.0),
}


def _growth(i: int) -> float:
    # +80 % over the two years (about +34 % a year), smooth
    return math.exp(math.log(1.8) * i / (DAYS - 1))


def _spring_festival(d: date, kind: str) -> float:
    sf = SPRING_FESTIVAL.get(d.year) or SPRING_FESTIVAL.get(d.year + 1)
    if sf is None:
        return 1.0
    k = (d - sf).days
    if kind == "online":
        # couriers stop: orders fall from ten days before, recover two weeks after
        if -10 <= k <= -4:
            return 1.0 - 0.1 * (k + 11)
        if -3 <= k <= 6:
            return 0.3
        if 7 <= k <= 13:
            return 0.3 + 0.1 * (k - 6)
        return 1.0
    if kind == "pos":
        if -14 <= k <= -2:
            return 1.45  # 年货 shopping
        if k == -1:
            return 0.35
        if 0 <= k <= 2:
            return 0.0  # stores closed
        if 3 <= k <= 7:
            return 0.7
        return 1.0
    # b2b: offices closed around the festival
    if -6 <= k <= 8:
        return 0.05
    return 1.0


def _events(d: date, profile: str) -> float:
    s11, s618, s12, s38 = _EVENT_STRENGTH[profile]
    m, dd = d.month, d.day
    f = 1.0
    if m == 10 and dd >= 20:
        f = 1.0 + 0.35 * s11  # pre-sale
    elif m == 11:
        if dd <= 10:
            f = 1.0 + 0.8 * s11
        elif dd == 11:
            f = 1.0 + 9.0 * s11
        elif dd == 12:
            f = 1.0 + 1.2 * s11
        elif dd <= 20:
            f = 1.0 - 0.25 * s11  # post-festival hangover
    elif m == 6:
        if dd <= 17:
            f = 1.0 + 0.6 * s618
        elif dd == 18:
            f = 1.0 + 5.5 * s618
        elif dd <= 25:
            f = 1.0 - 0.2 * s618
    elif m == 12 and dd == 12:
        f = 1.0 + 2.0 * s12
    elif m == 3 and dd == 8:
        f = 1.0 + 1.0 * s38
    if profile == "pos" and m == 10 and dd <= 7:
        f *= 1.6  # National Day holiday shopping
    elif profile != "pos" and m == 10 and dd <= 7:
        f *= 0.9
    return f


def day_weight(i: int, profile: str) -> float:
    """Relative demand of day ``i`` for a channel profile (tmall, jd, douyin, shopify,
    pos, manual): growth × month shape × weekday × Spring Festival × shopping festivals."""
    d = _DATES[i]
    if profile == "pos":
        kind = "pos"
        month = _MONTH_POS[d.month - 1]
    elif profile == "manual":
        kind = "b2b"
        month = 1.0 + (0.25 if d.month in (3, 6, 9, 12) and d.day >= 15 else 0.0)
    else:
        kind = "online"
        month = _MONTH_ONLINE[d.month - 1]
    weekday = _WEEKDAY[kind][d.weekday()]
    if kind == "b2b" and d in HOLIDAYS:
        weekday = 0.03
    return _growth(i) * month * weekday * _spring_festival(d, kind) * _events(d, profile)


# hour-of-day shapes (relative weights for hours 0..23)
HOURS_ONLINE = [
    2.2,
    1.2,
    0.6,
    0.35,
    0.25,
    0.25,
    0.45,
    0.9,
    1.6,
    2.5,
    3.1,
    3.4,
    3.2,
    3.0,
    3.2,
    3.3,
    3.2,
    3.0,
    3.1,
    4.0,
    5.0,
    5.8,
    5.2,
    3.6,
]
# 11.11 and 618: the midnight kick-off and the 20:00 second wave
HOURS_FESTIVAL = [
    16.0,
    6.0,
    2.0,
    0.8,
    0.4,
    0.3,
    0.5,
    0.9,
    1.6,
    2.5,
    3.0,
    3.2,
    3.0,
    2.8,
    3.0,
    3.0,
    3.0,
    2.9,
    3.0,
    4.5,
    8.0,
    7.0,
    6.0,
    5.0,
]
HOURS_POS = [0.0] * 10 + [3.0, 5.0, 6.5, 5.5, 4.0, 4.0, 4.2, 5.0, 6.5, 7.0, 6.0, 3.0] + [0.0, 0.0]
HOURS_B2B = [0.0] * 8 + [0.5, 4.0, 6.0, 5.5, 1.5, 3.0, 5.0, 5.0, 4.0, 2.0, 0.5] + [0.0] * 5


def cumulative(weights: list[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def is_festival_peak(i: int) -> bool:
    d = _DATES[i]
    return (d.month, d.day) in ((11, 11), (6, 18))
