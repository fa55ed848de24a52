"""What the API connectors share: where the API is, time windows, batches with cursors.

An API stream walks modified-time windows from its cursor to a few minutes ago. Windows
lie on a grid (``origin + k * window``); a batch closes after the window that reaches or
crosses a span boundary (``origin + k * span``), when it holds ``rows_per_batch`` rows,
or at the end. The batch id is (stream, first
window start, last window end), and the cursor after it is that window end, so a
replay from any landed cursor (or from the beginning) rebuilds the same batches and
adds nothing.

Servers treat both window ends as inclusive (TOP does); a record stamped exactly on a
boundary comes back twice and is kept only in the window it starts: windows are
half-open ``[start, end)`` here.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pyarrow as pa

from ingest.core import batch_id
from ingest.http import ApiClient, RetryPolicy
from warehouse.loader import Batch, Rejected
from warehouse.settings import Settings

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
T = TypeVar("T")
S = TypeVar("S")
Endpoint = Callable[[], contextlib.AbstractContextManager[str]]

ORDER_SCHEMA = pa.schema(
    [
        ("channel", pa.string()),
        ("order_id", pa.string()),
        ("modified_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("payload", pa.string()),
    ]
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_text(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def fixed(url: str) -> Endpoint:
    """An endpoint that is simply there (tests, real platforms)."""
    return lambda: contextlib.nullcontext(url.rstrip("/"))


def _serves(base: str, demo_dir: Path) -> bool:
    try:
        info = httpx.get(f"{base}/_demo/info", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(info, dict) and info.get("demo_dir") == str(demo_dir)


@contextlib.contextmanager
def _demo_endpoint(settings: Settings, suffix: str) -> Iterator[str]:
    base = settings.api_url.rstrip("/")
    demo_dir = Path(settings.demo_dir or "")
    if not settings.api_demo_autostart or _serves(base, demo_dir) or not demo_dir.is_dir():
        yield base + suffix
        return
    from ingest.demo.servers import DemoServer

    with DemoServer(demo_dir) as server:
        yield server.url + suffix


def endpoint(settings: Settings, explicit: str | None, suffix: str) -> Endpoint:
    """The configured URL, else the demo server's ``api_url + suffix`` (started if needed)."""
    if explicit:
        return fixed(explicit)
    return lambda: _demo_endpoint(settings, suffix)


@dataclass(frozen=True)
class ApiConfig:
    endpoint: Endpoint
    start: datetime  # first instant a first run asks for (aware)
    timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    until: Callable[[], datetime] = utcnow

    @classmethod
    def from_settings(cls, settings: Settings, explicit: str | None, suffix: str) -> ApiConfig:
        return cls(
            endpoint=endpoint(settings, explicit, suffix),
            start=datetime.combine(settings.api_start, time(), CST),
            timeout=settings.api_timeout,
            policy=RetryPolicy(attempts=settings.api_attempts),
        )

    def client(self, source: str, **kw: object) -> ApiClient:
        return ApiClient(source, timeout=self.timeout, policy=self.policy, **kw)  # type: ignore[arg-type]


def cst(dt: datetime) -> str:
    """'yyyy-MM-dd HH:mm:ss' in GMT+8, the TOP/JD/DingTalk request format."""
    return dt.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def from_cst(text: str) -> datetime:
    """'yyyy-MM-dd HH:mm:ss' (GMT+8) → aware UTC datetime; ValueError when unparseable."""
    if not isinstance(text, str) or len(text) != 19:
        raise ValueError(f"{text!r} is not a 'yyyy-MM-dd HH:mm:ss' time")
    return datetime.fromisoformat(text).replace(tzinfo=CST).astimezone(UTC)


def grid_windows(
    start: datetime, end: datetime, size: timedelta, origin: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """[a, b) windows covering [start, end) whose ends lie on ``origin + k * size``."""
    a = start
    while a < end:
        k = (a - origin) // size + 1
        b = min(origin + k * size, end)
        yield a, b
        a = b


def floor_grid(t: datetime, size: timedelta, origin: datetime) -> datetime:
    return origin + ((t - origin) // size) * size


_DONE = object()


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Run ``items`` in a worker thread, ``depth`` ahead of the consumer.

    Fetching (network, JSON) then overlaps with landing (DuckDB, which releases the GIL).
    An error in the worker is raised in the consumer after the items before it; closing
    the consumer stops the worker at its next item.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            put(_Failure(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=work, daemon=True, name="api-prefetch")
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join(timeout=30)


def ordered(fn: Callable[[S], T], items: list[S], workers: int) -> Iterator[T]:
    """``map(fn, items)`` run by ``workers`` threads, at most ``2 * workers`` items ahead,
    results in the order of ``items``.

    An error is raised when its item's turn comes, after the results before it; closing
    the consumer cancels what has not started and waits for what has.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="api-window")
    ahead: deque[Future[T]] = deque()
    rest = iter(items)
    try:
        for item in itertools.islice(rest, 2 * workers):
            ahead.append(pool.submit(fn, item))
        while ahead:
            result = ahead.popleft().result()
            for item in itertools.islice(rest, 1):
                ahead.append(pool.submit(fn, item))
            yield result
    finally:
        for future in ahead:
            future.cancel()
        pool.shutdown(wait=True)


def pages_from_the_back(
    total: int,
    size: int,
    page: Callable[[int], list],
    key: Callable[[dict], object],
    first: int = 1,
) -> Iterator[list]:
    """The pages of a window of ``total`` records, last page first, without echoes.

    Page-numbered APIs sort a window by modified time. A record modified while we page
    leaves the window and every record after it moves up one place: paging forward skips
    the one that slides onto a page already read. Paging backward, a shift can only bring
    back a record already read (the same ``key``, i.e. id and modified time, on another
    page), which is dropped. ``page(no)`` returns the records of page ``no``.
    """
    seen: dict[object, int] = {}
    for no in range(first + -(-total // size) - 1, first - 1, -1):
        records = page(no)
        yield [r for r in records if not isinstance(r, dict) or seen.setdefault(key(r), no) == no]


@dataclass
class _Failure:
    exc: BaseException


class Malformed(ValueError):
    """A record that cannot become a raw row; the message is the quarantine reason."""


@dataclass
class Pending:
    start: datetime
    rows: list[tuple] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class WindowedStream:
    """Base of the API streams: subclasses set the class attributes and implement
    ``session`` (auth for a run), ``fetch`` (pages of one window) and ``convert``."""

    name: str
    source: str
    schema: pa.Schema = ORDER_SCHEMA
    primary_key: tuple[str, ...] = ("channel", "order_id", "modified_at")
    cursor_field: str | None = "modified_at"
    window: timedelta = timedelta(days=1)
    span: timedelta = timedelta(days=183)  # a commit costs ~0.1-0.2 s: batches are big
    rows_per_batch: int = 20_000
    settle: timedelta = timedelta(minutes=5)
    # windows read at once, each on its own connection; their results are used in order, so
    # batches, ids and cursors do not depend on it (1 = one window after the other)
    fetchers: int = 1
    api: ApiConfig

    # --- hooks --------------------------------------------------------------------------
    def session(self, client: ApiClient, base: str) -> None:
        """Prepare a run (tokens); called once with the base URL."""

    def fetch(
        self, client: ApiClient, base: str, start: datetime, end: datetime
    ) -> Iterator[list[dict]]:
        raise NotImplementedError

    def convert(self, rec: dict) -> tuple[datetime, tuple]:
        """(the record's window time, its raw row in schema order); Malformed if unusable."""
        raise NotImplementedError

    def make_client(self) -> ApiClient:
        return self.api.client(self.source)

    # --- the walk -----------------------------------------------------------------------
    def read(self, cursor: str | None, landed_parts: set[str]) -> Iterator[Batch]:
        """Batches from the cursor on; the next batch is fetched while one is landing."""
        return prefetched(self._walk(cursor))

    def _walk(self, cursor: str | None) -> Iterator[Batch]:
        origin = self.api.start
        start = datetime.fromisoformat(cursor) if cursor else origin
        # up to a few minutes ago: a record being written now may carry an earlier stamp
        end = floor_grid(self.api.until() - self.settle, timedelta(minutes=1), origin)
        if end <= start:
            return
        with self.api.endpoint() as base, self.make_client() as client:
            self.session(client, base)
            windows = list(grid_windows(start, end, self.window, origin))
            pending = Pending(start)
            read = partial(self._window, client, base)
            for (a, b), (rows, rejected) in zip(
                windows, ordered(read, windows, self.fetchers), strict=True
            ):
                pending.rows.extend(rows)
                pending.rejected.extend(rejected)
                crossed = (b - origin) // self.span != (a - origin) // self.span
                if crossed or len(pending.rows) >= self.rows_per_batch or b == end:
                    yield self._batch(pending, b)
                    pending = Pending(b)

    def _window(
        self, client: ApiClient, base: str, window: tuple[datetime, datetime]
    ) -> tuple[list[tuple], list[Rejected]]:
        """Every page of one window, converted: (raw rows, rejected records)."""
        a, b = window
        pending = Pending(a)
        for page_no, records in enumerate(self.fetch(client, base, a, b), 1):
            self._take(pending, records, a, b, page_no)
        return pending.rows, pending.rejected

    def _take(
        self, pending: Pending, records: list[dict], a: datetime, b: datetime, page_no: int
    ) -> None:
        convert, rows = self.convert, pending.rows
        for i, rec in enumerate(records):
            try:
                if not isinstance(rec, dict):
                    raise Malformed("record is not a JSON object")
                t, row = convert(rec)
            except (Malformed, KeyError, TypeError, ValueError) as exc:
                reason = str(exc) if isinstance(exc, Malformed) else f"{type(exc).__name__}: {exc}"
                where = f"{self.name} {a.isoformat()}..{b.isoformat()} page {page_no} #{i + 1}"
                pending.rejected.append(Rejected(where, reason, rec))
                continue
            if a <= t < b:
                rows.append(row)

    def _batch(self, pending: Pending, end: datetime) -> Batch:
        columns = list(zip(*pending.rows, strict=True)) if pending.rows else None
        arrays = [_array(columns[i] if columns else [], f.type) for i, f in enumerate(self.schema)]
        return Batch(
            stream=self.name,
            batch_id=batch_id(self.name, utc_text(pending.start), utc_text(end)),
            source=self.source,
            rows=pa.Table.from_arrays(arrays, schema=self.schema),
            rejected=pending.rejected,
            cursor=utc_text(end),
        )


def _array(values: tuple | list, typ: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(typ):  # aware datetimes convert far faster as epoch micros
        micros = [None if v is None else round(v.timestamp() * 1_000_000) for v in values]
        return pa.array(micros, pa.int64()).cast(typ)
    return pa.array(values, type=typ)


def json_body(response: httpx.Response) -> Any:
    """The response body parsed with orjson (several times faster than ``response.json()``)."""
    return orjson.loads(response.content)


def payload(rec: dict) -> str:
    """The native record as compact JSON text (ids > 2^53 stay exact)."""
    return orjson.dumps(rec).decode()


def text_id(rec: dict, *keys: str) -> str:
    """The first present, non-empty id among ``keys``, as a string; Malformed if none."""
    for key in keys:
        value = rec.get(key)
        if value not in (None, "", 0):
            return str(value)
    raise Malformed(f"missing {keys[0]}")
