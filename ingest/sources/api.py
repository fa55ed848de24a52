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
import gc
import itertools
import multiprocessing
import os
import pickle
import queue
import shutil
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from functools import lru_cache, partial
from pathlib import Path
from time import time as unix_now
from typing import Any, TypeVar

import httpx
import msgspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest.core import batch_id
from ingest.http import ApiClient, RetryPolicy
from ingest.tokens import Tokens, TokenStore
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


@lru_cache(maxsize=1024)  # a window's bounds go into each of its ~100 page requests
def cst(dt: datetime) -> str:
    """'yyyy-MM-dd HH:mm:ss' in GMT+8, the TOP/JD/DingTalk request format."""
    return dt.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


_NOW: tuple[int, str] = (0, "")


def cst_now() -> str:
    """``cst`` of the current second, formatted once a second (every signed call of a
    run carries it; ~5 µs a call otherwise)."""
    global _NOW
    second = int(unix_now())
    if _NOW[0] != second:
        _NOW = (second, datetime.fromtimestamp(second, CST).strftime("%Y-%m-%d %H:%M:%S"))
    return _NOW[1]


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
    try:
        yield from read_ahead(pool, fn, items, 2 * workers)
    finally:
        pool.shutdown(wait=True)


def read_ahead(pool: Executor, fn: Callable[[S], T], items: list[S], depth: int) -> Iterator[T]:
    """``fn`` over ``items`` on ``pool``, ``depth`` items ahead, results in item order; what
    has not started when the consumer stops is cancelled."""
    ahead: deque[Future[T]] = deque()
    rest = iter(items)
    try:
        for item in itertools.islice(rest, depth):
            ahead.append(pool.submit(fn, item))
        while ahead:
            result = ahead.popleft().result()
            for item in itertools.islice(rest, 1):
                ahead.append(pool.submit(fn, item))
            yield result
    finally:
        for future in ahead:
            future.cancel()


class RawPage:
    """One page of records as the server sent them, for streams that land the native JSON.

    ``raws`` holds each record's JSON text untouched (``msgspec.Raw``: a view into the
    response body, no copy, no re-encoding); ``heads`` each record's few fields the stream
    needs (a small ``msgspec.Struct`` decoded from that text, or None when the record is
    not a JSON object). Far fewer Python objects than a parsed page, and the payload
    column is the text received, not a re-serialisation of it.
    """

    __slots__ = ("heads", "raws")

    def __init__(self, raws: list[msgspec.Raw], heads: list[Any]) -> None:
        self.raws = raws
        self.heads = heads

    @classmethod
    def decode(cls, raws: list[msgspec.Raw], head: msgspec.json.Decoder) -> RawPage:
        """Decode each record's head with ``head`` (a Decoder of a Struct whose fields all
        have defaults and accept ``Any``); a record that is not an object gets None."""
        try:
            return cls(raws, [head.decode(r) for r in raws])
        except msgspec.DecodeError:  # one record is not an object (ValidationError) or bad
            return cls(raws, [_head_or_none(head, r) for r in raws])

    def __len__(self) -> int:
        return len(self.raws)

    def select(self, keep: list[int]) -> RawPage:
        if len(keep) == len(self.raws):
            return self
        return RawPage([self.raws[i] for i in keep], [self.heads[i] for i in keep])


def _head_or_none(head: msgspec.json.Decoder, raw: msgspec.Raw) -> Any:
    try:
        return head.decode(raw)
    except msgspec.DecodeError:
        return None


def pages_from_the_back(
    total: int,
    size: int,
    page: Callable[[int], list | RawPage],
    key: Callable[[Any], object],
    first: int = 1,
) -> Iterator[list | RawPage]:
    """The pages of a window of ``total`` records, last page first, without echoes.

    Page-numbered APIs sort a window by modified time. A record modified while we page
    leaves the window and every record after it moves up one place: paging forward skips
    the one that slides onto a page already read. Paging backward, a shift can only bring
    back a record already read (the same ``key``, i.e. id and modified time, on another
    page), which is dropped. ``page(no)`` returns the records of page ``no`` (dicts, or a
    ``RawPage`` whose heads ``key`` reads).
    """
    seen: dict[object, int] = {}
    for no in range(first + -(-total // size) - 1, first - 1, -1):
        records = page(no)
        if isinstance(records, RawPage):
            heads = records.heads
            yield records.select(
                [i for i, h in enumerate(heads) if h is None or seen.setdefault(key(h), no) == no]
            )
        else:
            yield [
                r for r in records if not isinstance(r, dict) or seen.setdefault(key(r), no) == no
            ]


@dataclass
class _Failure:
    exc: BaseException


class Malformed(ValueError):
    """A record that cannot become a raw row; the message is the quarantine reason."""


@dataclass
class Pending:
    start: datetime
    rows: list[tuple] = field(default_factory=list)  # records converted one by one
    tables: list[pa.Table] = field(default_factory=list)  # raw pages converted at once
    rejected: list[Rejected] = field(default_factory=list)
    # a window reader's tables, as Arrow IPC files for the run to map (``_mapped``)
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + sum(t.num_rows for t in self.tables)

    def extend(self, other: Pending) -> None:
        self.rows.extend(other.rows)
        self.tables.extend(other.tables)
        self.rejected.extend(other.rejected)


@dataclass
class _RawColumns:
    """Records of raw pages taken so far, by column, and where each came from."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # modified time, GMT+8 text
    statuses: list[str | None] = field(default_factory=list)
    raws: list[msgspec.Raw] = field(default_factory=list)
    where: list[tuple[int, int]] = field(default_factory=list)  # (page number, index)


_CST_OFFSET_S = 8 * 3600


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
    # windows read by this many forked processes instead of threads (0: threads). Fetching
    # and decoding a page is Python that holds the GIL; in processes it uses every core
    # while this process lands. Needs ``credentials``/``use_credentials`` when a token
    # refresh can change what a request carries (the readers share them).
    fetch_processes: int = 0
    api: ApiConfig
    # where a stream with a renewable token keeps the pair it renewed, for the next run;
    # the pair is ``credentials()`` (access, refresh)
    tokens: TokenStore | None = None

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

    def head_row(self, head: Any) -> tuple[str, str, str | None] | None:
        """For streams whose ``fetch`` yields ``RawPage``s (schema ``ORDER_SCHEMA``; the
        channel column is ``source``): the (order id, modified time as GMT+8
        'yyyy-MM-dd HH:mm:ss' text, status) of a regular record's head, or None to send the
        record through ``convert`` (which quarantines it with its reason or accepts it).
        What it accepts, ``convert`` must accept with the same values."""
        raise NotImplementedError

    def make_client(self) -> ApiClient:
        return self.api.client(self.source)

    def credentials(self) -> tuple:
        """What a token refresh changes (e.g. the session key and refresh token), shared
        by the window readers of ``fetch_processes``."""
        return ()

    def use_credentials(self, credentials: tuple) -> None:
        """Take ``credentials()`` as another process has them (a window reader the run's,
        the run those its readers renewed)."""

    def load_tokens(self) -> None:
        """Start from the (access, refresh) pair a previous run renewed, if ``tokens``
        holds one for the configured authorization (call it from ``session``)."""
        if self.tokens is not None and (saved := self.tokens.load()) is not None:
            self.use_credentials((saved.access, saved.refresh))

    def save_tokens(self) -> None:
        """Keep the pair just renewed (``credentials()``) for the next run: a refresh token
        may be single-use, and the configured one is then spent."""
        if self.tokens is not None:
            access, refresh = self.credentials()
            self.tokens.save(Tokens(access, refresh))

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
            if self.fetch_processes > 0 and _FORK in multiprocessing.get_all_start_methods():
                results = self._read_in_processes(client, base, windows)
            else:
                results = ordered(partial(self._window, client, base), windows, self.fetchers)
            for (a, b), taken in zip(windows, results, strict=True):
                pending.extend(taken)
                crossed = (b - origin) // self.span != (a - origin) // self.span
                if crossed or len(pending) >= self.rows_per_batch or b == end:
                    yield self._batch(pending, b)
                    pending = Pending(b)

    def _read_in_processes(
        self, client: ApiClient, base: str, windows: list[tuple[datetime, datetime]]
    ) -> Iterator[Pending]:
        """The windows read by ``fetch_processes`` forked readers, results in window order,
        at most 2 per reader ahead. The readers share the credentials: the first to meet an
        expired token renews it (a refresh token may be single-use), the others take the
        new one, as the threads of one ``ApiClient`` do."""
        ctx = multiprocessing.get_context(_FORK)
        shared = _SharedCredentials(ctx, self.credentials())
        root = _handoff_root()
        _sweep_handoffs(root)
        handoff = tempfile.mkdtemp(prefix=f"{_HANDOFF}{os.getpid()}-", dir=root)
        # fork: the readers inherit this stream as it is (its endpoint and clock are
        # lambdas, which could not be pickled); only windows and results travel
        pool = ProcessPoolExecutor(
            self.fetch_processes,
            mp_context=ctx,
            initializer=_start_reader,
            initargs=(self, base, client.refresh is not None, shared, os.getpid(), handoff),
        )
        # as Python's docs advise before a fork: what exists now leaves the collector's
        # generations, so neither the readers' collections (copy-on-write of every object
        # they visit) nor this process's full ones walk it while the readers run
        gc.freeze()
        try:
            for pending in read_ahead(pool, _read_window, windows, 2 * self.fetch_processes):
                yield _mapped(pending)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(handoff, ignore_errors=True)
            gc.unfreeze()
            self.use_credentials(shared.get()[1])  # what the readers renewed, for this run

    def _window(self, client: ApiClient, base: str, window: tuple[datetime, datetime]) -> Pending:
        """Every page of one window, converted: raw rows and rejected records."""
        a, b = window
        pending = Pending(a)
        cols = _RawColumns()  # the records of raw pages, converted at the window's end
        for page_no, records in enumerate(self.fetch(client, base, a, b), 1):
            if isinstance(records, RawPage):
                self._collect_raw(pending, cols, records, a, b, page_no)
            else:
                self._take(pending, records, a, b, page_no)
        self._convert_raw(pending, cols, a, b)
        return pending

    def _convert_one(
        self, pending: Pending, rec: object, a: datetime, b: datetime, page_no: int, i: int
    ) -> tuple[datetime, tuple] | None:
        """``convert`` of one record, or None after quarantining it with its reason."""
        try:
            if not isinstance(rec, dict):
                raise Malformed("record is not a JSON object")
            return self.convert(rec)
        except (Malformed, KeyError, TypeError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, Malformed) else f"{type(exc).__name__}: {exc}"
            where = f"{self.name} {a.isoformat()}..{b.isoformat()} page {page_no} #{i + 1}"
            pending.rejected.append(Rejected(where, reason, rec))
            return None

    def _take(
        self, pending: Pending, records: list[dict], a: datetime, b: datetime, page_no: int
    ) -> None:
        rows = pending.rows
        for i, rec in enumerate(records):
            converted = self._convert_one(pending, rec, a, b, page_no, i)
            if converted is not None and a <= converted[0] < b:
                rows.append(converted[1])

    def _slow_raw(
        self, pending: Pending, raw: msgspec.Raw, a: datetime, b: datetime, page_no: int, i: int
    ) -> tuple[str, str, str | None] | None:
        """A record the head check did not pass, through ``convert``: (id, GMT+8 time text,
        status) when it is usable, None once quarantined."""
        try:
            rec = orjson.loads(bytes(raw))
        except ValueError as exc:  # the page parsed, so only bad UTF-8 can get here
            where = f"{self.name} {a.isoformat()}..{b.isoformat()} page {page_no} #{i + 1}"
            text = bytes(raw).decode(errors="replace")
            pending.rejected.append(Rejected(where, f"not JSON: {exc}", text))
            return None
        converted = self._convert_one(pending, rec, a, b, page_no, i)
        if converted is None:
            return None
        t, row = converted
        return row[1], cst(t), row[3]

    def _collect_raw(
        self,
        pending: Pending,
        cols: _RawColumns,
        page: RawPage,
        a: datetime,
        b: datetime,
        page_no: int,
    ) -> None:
        """A page's records into ``cols``: ids and statuses from the heads; a record whose
        head ``head_row`` refuses goes through ``convert`` (kept, or quarantined)."""
        head_row = self.head_row
        rows = [head_row(h) if h is not None else None for h in page.heads]
        if rows and None not in rows:  # every head regular (the usual page): columns at once
            # (five appends a record, as in the loop below, cost ~0.3 µs a trade)
            ids, texts, statuses = zip(*rows, strict=True)
            cols.ids.extend(ids)
            cols.texts.extend(texts)
            cols.statuses.extend(statuses)
            cols.raws.extend(page.raws)
            cols.where.extend((page_no, i) for i in range(len(rows)))
            return
        for i, (raw, got) in enumerate(zip(page.raws, rows, strict=True)):
            if got is None and (got := self._slow_raw(pending, raw, a, b, page_no, i)) is None:
                continue
            cols.ids.append(got[0])
            cols.texts.append(got[1])
            cols.statuses.append(got[2])
            cols.raws.append(raw)
            cols.where.append((page_no, i))

    def _convert_raw(self, pending: Pending, cols: _RawColumns, a: datetime, b: datetime) -> None:
        """Collected records as one table: times parsed and shifted to UTC in Arrow, the
        payload the records' JSON text as received; what Arrow refuses goes through
        ``convert``. Done once a window, not once a page: the dozen Arrow calls cost
        ~1.5 µs a trade when made for every page of 100."""
        ids, texts, statuses, raws = cols.ids, cols.texts, cols.statuses, cols.raws
        if not ids:
            return
        try:
            payloads = _texts(raws)
        except pa.ArrowInvalid:  # a record that is not UTF-8 (the page parsed as JSON)
            payloads = None
        seconds = _cst_seconds(texts)
        if payloads is None or seconds.null_count:
            # what Arrow's time parser or UTF-8 check refuses goes through ``convert``
            bad = set(_bad_texts(raws)) if payloads is None else set()
            bad.update(k for k, ok in enumerate(seconds.is_valid().to_pylist()) if not ok)
            keep = []
            for k in range(len(ids)):
                if k in bad:
                    page_no, i = cols.where[k]
                    got = self._slow_raw(pending, raws[k], a, b, page_no, i)
                    if got is None:
                        continue
                    ids[k], texts[k], statuses[k] = got
                keep.append(k)
            if not keep:
                return
            ids, texts, statuses, raws = (
                [ids[k] for k in keep],
                [texts[k] for k in keep],
                [statuses[k] for k in keep],
                [raws[k] for k in keep],
            )
            payloads = _texts(raws)
            seconds = _cst_seconds(texts)
        micros = pc.multiply(seconds, 1_000_000)
        table = pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(self.source, pa.string()), len(ids)),
                pa.array(ids, pa.string()),
                micros.cast(self.schema.field(2).type),
                pa.array(statuses, pa.string()),
                payloads,
            ],
            schema=self.schema,
        )
        inside = pc.and_(pc.greater_equal(micros, _micros(a)), pc.less(micros, _micros(b)))
        if not pc.all(inside).as_py():
            table = table.filter(inside)
        if table.num_rows:
            pending.tables.append(table)

    def _batch(self, pending: Pending, end: datetime) -> Batch:
        tables = list(pending.tables)
        if pending.rows or not tables:
            columns = list(zip(*pending.rows, strict=True)) if pending.rows else None
            arrays = [
                _array(columns[i] if columns else [], f.type) for i, f in enumerate(self.schema)
            ]
            tables.insert(0, pa.Table.from_arrays(arrays, schema=self.schema))
        rows = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        return Batch(
            stream=self.name,
            batch_id=batch_id(self.name, utc_text(pending.start), utc_text(end)),
            source=self.source,
            rows=rows,
            rejected=pending.rejected,
            cursor=utc_text(end),
        )


_FORK = "fork"


class _SharedCredentials:
    """A stream's ``credentials()`` and their generation, in memory shared by the forked
    window readers, with a lock across processes."""

    def __init__(self, ctx: Any, credentials: tuple) -> None:
        self.lock = ctx.RLock()
        self._generation = ctx.Value("q", 0, lock=False)
        self._size = ctx.Value("q", 0, lock=False)
        self._data = ctx.Array("c", 8192, lock=False)
        self.put(credentials, 0)

    def put(self, credentials: tuple, generation: int) -> None:
        data = pickle.dumps(credentials)
        if len(data) > len(self._data):
            raise ValueError(f"credentials of {len(data)} bytes do not fit in shared memory")
        self._data[: len(data)] = data
        self._size.value = len(data)
        self._generation.value = generation

    def get(self) -> tuple[int, tuple]:
        return self._generation.value, pickle.loads(self._data[: self._size.value])


@dataclass
class _Reader:
    """A forked window reader: the stream (its copy), the base URL, its own client, the
    shared credentials and the generation of those it uses."""

    stream: WindowedStream
    base: str
    client: ApiClient
    shared: _SharedCredentials
    handoff: str  # the folder where results are left as Arrow IPC files
    generation: int = 0

    def take_credentials(self) -> None:
        with self.shared.lock:  # not half of what another reader is writing
            self.generation, credentials = self.shared.get()
        self.stream.use_credentials(credentials)

    def refresh(self, renew: Callable[[], None]) -> None:
        """Renew the token unless another reader did since ours was taken."""
        with self.shared.lock:
            if self.shared.get()[0] == self.generation:
                renew()
                self.shared.put(self.stream.credentials(), self.generation + 1)
            self.take_credentials()


_reader: _Reader | None = None  # this process's, when it is a window reader


def _start_reader(
    stream: WindowedStream,
    base: str,
    refreshable: bool,
    shared: _SharedCredentials,
    parent: int,
    handoff: str,
) -> None:
    """Initialise a forked window reader: its own client (connections are not shared with
    the parent), refreshes through the shared credentials, and a watch that ends it if the
    parent dies (a SIGKILLed run)."""
    global _reader
    # what this process inherited (the run's lake connection among it) is never collected,
    # nor finalised, here: it belongs to the parent (frozen there before the fork)
    gc.freeze()
    client = stream.make_client()
    reader = _Reader(stream, base, client, shared, handoff)
    if refreshable:
        stream.session(client, base)  # sets ``client.refresh`` to the stream's renewal
        renew = client.refresh
        assert renew is not None
        client.refresh = partial(reader.refresh, renew)
    reader.take_credentials()
    _reader = reader
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()


def _orphan_watch(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(0.5)
    os._exit(1)


def _read_window(window: tuple[datetime, datetime]) -> Pending:
    reader = _reader
    assert reader is not None, "not a window reader"
    if reader.shared.get()[0] != reader.generation:  # another reader renewed the token
        reader.take_credentials()
    pending = reader.stream._window(reader.client, reader.base, window)
    if pending.tables:
        # one table a window, left as an Arrow IPC file (on tmpfs where there is one) that
        # the run maps: a pickled table travelled through a pipe in 64 KB reads, was
        # copied three times and faulted in fresh memory on both sides (decision 0065)
        table = pa.concat_tables(pending.tables)
        path = os.path.join(reader.handoff, f"{uuid.uuid4().hex}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        pending.tables, pending.files = [], [path]
    return pending


def _mapped(pending: Pending) -> Pending:
    """A reader's result with its files mapped as tables (no copy) and unlinked (the
    mapping keeps the data until the tables are gone)."""
    for path in pending.files:
        with pa.memory_map(path) as source:
            pending.tables.append(pa.ipc.open_file(source).read_all())
        os.unlink(path)
    pending.files = []
    return pending


_HANDOFF = "opslake-windows-"  # + the run's pid + a random part


def _sweep_handoffs(root: str | None) -> None:
    """Remove what killed runs left of their readers' files (a SIGKILL skips ``finally``)."""
    for folder in Path(root or tempfile.gettempdir()).glob(f"{_HANDOFF}*-*"):
        pid = folder.name[len(_HANDOFF) :].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def _handoff_root() -> str | None:
    """tmpfs for the readers' results where the machine has it (memory, never a disk)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _cst_seconds(texts: list[str]) -> pa.Array:
    """GMT+8 'yyyy-MM-dd HH:mm:ss' texts → UTC Unix seconds (int64); null where Arrow's
    ISO parser refuses the text (then ``from_cst`` decides). Where it accepts one, it reads
    it as ``datetime.fromisoformat`` does; year 0, which Python refuses, is made null."""
    array = pa.array(texts, pa.string())
    try:
        seconds = array.cast(pa.timestamp("s")).cast(pa.int64())
    except pa.ArrowInvalid:
        seconds = pa.array([_arrow_seconds(t) for t in texts], pa.int64())
    if pc.min(seconds).as_py() < _YEAR_1:
        seconds = pc.if_else(pc.less(seconds, _YEAR_1), pa.scalar(None, pa.int64()), seconds)
    return pc.subtract(seconds, _CST_OFFSET_S)


def _arrow_seconds(text: str) -> int | None:
    try:
        return pa.array([text]).cast(pa.timestamp("s")).cast(pa.int64())[0].as_py()
    except pa.ArrowInvalid:
        return None


_YEAR_1 = -62135596800  # 0001-01-01T00:00:00 in Unix seconds


def _micros(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _texts(raws: list[msgspec.Raw]) -> pa.Array:
    """The records' JSON texts as one string array: one copy, UTF-8 checked (ArrowInvalid)."""
    offsets = pa.array(itertools.accumulate(map(len, raws), initial=0), pa.int32())
    data = pa.py_buffer(b"".join(raws))
    texts = pa.StringArray.from_buffers(len(raws), offsets.buffers()[1], data)
    texts.validate(full=True)
    return texts


def _bad_texts(raws: list[msgspec.Raw]) -> Iterator[int]:
    for k, raw in enumerate(raws):
        try:
            bytes(raw).decode()
        except UnicodeDecodeError:
            yield k


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
