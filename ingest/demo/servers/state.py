"""What the fake servers share: the demo files indexed by time, tokens and injected faults."""

from __future__ import annotations

import bisect
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

CST = timezone(timedelta(hours=8))

# demo credentials (the defaults of warehouse.settings); the servers refuse anything else
APP_KEY = "opslake-demo-app"
APP_SECRET = "opslake-demo-secret"
SESSION = "opslake-demo-session"  # TOP session / JD access token / Shopify access token
REFRESH = "opslake-demo-refresh"  # TOP / JD refresh token (reusable, unlike Douyin's)
DOUYIN_SHOP_ID = "88001"


_CST_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def cst_seconds(text: str) -> float:
    """'yyyy-MM-dd HH:mm:ss' in GMT+8 → Unix seconds; ValueError for any other text.

    ``fromisoformat`` behind a strict pattern: ``strptime`` cost ~10 µs a call, three a
    TOP request and one a record when a demo file is indexed."""
    if not isinstance(text, str) or not _CST_TEXT.fullmatch(text):
        raise ValueError(f"{text!r} is not a 'yyyy-MM-dd HH:mm:ss' time")
    return datetime.fromisoformat(text).replace(tzinfo=CST).timestamp()


def cst_text(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, CST).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Series:
    """One API's records (exact JSON lines) sorted by the time the API filters on."""

    times: list[float] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # e.g. userId for attendance

    def between(self, start: float, end: float) -> tuple[int, int]:
        """Index range of records with start <= time <= end (both ends inclusive, like TOP)."""
        return bisect.bisect_left(self.times, start), bisect.bisect_right(self.times, end)

    def add(self, when: float, line: bytes, key: str = "") -> None:
        i = bisect.bisect_right(self.times, when)
        self.times.insert(i, when)
        self.lines.insert(i, line)
        self.keys.insert(i, key)


# channel -> (file below the demo dir, time of a record, key of a record or None)
SOURCES: dict[str, tuple[str, Callable[[dict], float], Callable[[dict], str] | None]] = {
    "tmall": ("marketplaces/tmall/trades.jsonl", lambda r: cst_seconds(r["modified"]), None),
    "jd": ("marketplaces/jd/orders.jsonl", lambda r: cst_seconds(r["modified"]), None),
    "douyin": ("marketplaces/douyin/orders.jsonl", lambda r: float(r["update_time"]), None),
    "shopify": (
        "shopify/orders.jsonl",
        lambda r: datetime.fromisoformat(r["updated_at"]).timestamp(),
        None,
    ),
    "attendance": (
        "hr/attendance.jsonl",
        lambda r: r["workDate"] / 1000,
        lambda r: r["userId"],
    ),
    # the same attendance as WeCom check-ins, filtered by the check-in time (seconds)
    "wecom_checkins": (
        "hr/attendance.jsonl",
        lambda r: (r.get("userCheckTime") or r.get("baseCheckTime") or 0) // 1000,
        lambda r: r["userId"],
    ),
}


@dataclass
class Fault:
    kind: str  # 500 | timeout | 429 | ban | token_expired | busy
    count: int
    prefix: str = "/"
    seconds: float = 1.0


class ServerState:
    """Thread-safe: tests change faults from their thread while the server runs in another."""

    def __init__(self, demo_dir: Path, token_ttl: float = 7200.0) -> None:
        self.demo_dir = Path(demo_dir).absolute()
        self.token_ttl = token_ttl
        self.lock = threading.Lock()
        self.series: dict[str, Series] = {}
        self.faults: list[Fault] = []
        self.delay: dict[str, float] = {}  # path prefix -> seconds added to every request
        self.requests: Counter[str] = Counter()  # platform -> requests served
        # called with the path of every request before it is answered (tests change the
        # data between pages with it, as a real shop does while a connector pages)
        self.hooks: list[Callable[[str], None]] = []
        self.tokens: dict[str, float] = {}  # access token -> expiry (Unix seconds)
        self.refresh_tokens: set[str] = set()
        # calls one access token may make before the platform answers "expired" (None: no
        # limit); ``SESSION`` counts too, so a run must refresh to get past it
        self.calls_per_token: int | None = None
        self.token_calls: Counter[str] = Counter()

    # --- data ---------------------------------------------------------------------------
    def data(self, channel: str) -> Series:
        with self.lock:
            if channel not in self.series:
                self.series[channel] = self._load(channel)
            return self.series[channel]

    def _load(self, channel: str) -> Series:
        rel, when, key = SOURCES[channel]
        path = self.demo_dir / rel
        rows: list[tuple[float, bytes, str]] = []
        if path.exists():
            with open(path, "rb") as f:
                for line in f:
                    line = line.rstrip(b"\n")
                    if line:
                        rec = orjson.loads(line)
                        rows.append((when(rec), line, key(rec) if key else ""))
        rows.sort(key=lambda r: r[0])
        return Series([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])

    def move(self, channel: str, index: int, to: float, line: bytes) -> None:
        """Re-stamp the record at ``index`` (time order): it leaves its place, as a record
        modified again leaves its modified-time window."""
        series = self.data(channel)
        with self.lock:
            del series.times[index], series.lines[index]
            key = series.keys.pop(index)
        with self.lock:
            series.add(to, line, key)

    def add_records(self, channel: str, at: datetime, records: list[dict], key: str = "") -> None:
        """Serve extra (e.g. malformed) records as if modified at ``at``."""
        series = self.data(channel)
        with self.lock:
            for rec in records:
                series.add(at.timestamp(), orjson.dumps(rec), key)

    def json_file(self, rel: str) -> dict:
        return orjson.loads((self.demo_dir / rel).read_bytes())

    # --- faults -------------------------------------------------------------------------
    def inject(self, kind: str, count: int = 1, prefix: str = "/", seconds: float = 1.0) -> None:
        with self.lock:
            self.faults.append(Fault(kind, count, prefix, seconds))

    def take(self, path: str, kinds: tuple[str, ...]) -> Fault | None:
        """Consume one pending fault of one of ``kinds`` whose prefix matches ``path``."""
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and path.startswith(fault.prefix) and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.delay.clear()

    def delay_for(self, path: str) -> float:
        with self.lock:
            return sum(s for p, s in self.delay.items() if path.startswith(p))

    # --- tokens -------------------------------------------------------------------------
    def issue_token(self) -> tuple[str, str, int]:
        token, refresh = secrets.token_hex(16), secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = time.time() + self.token_ttl
            self.refresh_tokens.add(refresh)
        return token, refresh, int(self.token_ttl)

    def token_valid(self, token: str | None) -> bool:
        """An issued token, before its expiry and within its call budget (counts a call)."""
        with self.lock:
            if token is None or self.tokens.get(token, 0) <= time.time():
                return False
            return self._spend(token)

    def _spend(self, token: str) -> bool:
        if self.calls_per_token is None:
            return True
        if self.token_calls[token] >= self.calls_per_token:
            return False
        self.token_calls[token] += 1
        return True

    def use_refresh_token(self, refresh: str | None) -> bool:
        with self.lock:
            if refresh in self.refresh_tokens:
                self.refresh_tokens.discard(refresh)
                return True
            return False

    def session_valid(self, token: str | None) -> bool:
        """TOP/JD: the demo token or an issued one, within its call budget (counts a call)."""
        with self.lock:
            known = token == SESSION or self.tokens.get(token or "", 0) > time.time()
            return known and self._spend(token or "")

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()
