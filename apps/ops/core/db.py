"""Database access of the ops app store (OLTP, separate from the lake).

SQLite by default (one file, WAL, foreign keys on), PostgreSQL by URL (``OPSLAKE_APP_DB``).
The schema is owned by the Alembic migrations in ``apps/ops/migrations``; :func:`migrate`
applies them and is safe to call from several processes at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from apps.ops.core.errors import StoreBusyError

_T = TypeVar("_T")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock up front.
SQLITE_BEGIN = "opslake_sqlite_begin"
# Key of the PostgreSQL advisory lock that serialises migrations and startup seeding.
BOOTSTRAP_LOCK_KEY = 0x0B5_1A4E
# Connections kept per process: as many as request threads (anyio's default is 40).
SQLITE_POOL_SIZE = 40
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 40
# Every SQLite connection of the app store (benchmarks/api_ops.py gives its baseline the same).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",  # WAL: a power cut may lose the last commits, no corruption
    "PRAGMA busy_timeout=30000",
)
# Seconds a write waits for the other writers of this process (as SQLite's busy timeout).
WRITE_LOCK_TIMEOUT = 30.0


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://``/``postgres://`` get the psycopg 3 driver."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _json_dumps(value: Any) -> str:
    # Keep Chinese text readable in the stored JSON (the lake connector reads it as text).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create the engine for the app store. SQLite gets WAL, foreign keys and real BEGINs."""
    parsed = normalize_url(url)
    # One connection per request thread (FastAPI runs sync routes on 40 threads): with
    # SQLAlchemy's default 5 + 10 the 16th concurrent request waited 30 s, then failed (500).
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", -1)  # a file connection is cheap
        engine = create_engine(
            parsed, connect_args=connect_args, json_serializer=_json_dumps, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
    return create_engine(parsed, json_serializer=_json_dumps, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (below) emit BEGIN itself: pysqlite's implicit transactions
        # otherwise skip DDL and SAVEPOINTs and cannot take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class SqliteWriteLock:
    """The write lock of one SQLite database file, for the threads of this process and the
    other processes using that file.

    SQLite allows one writer; a second one waits in SQLite's busy handler, which polls
    with sleeps growing to 100 ms, so a waiter often sleeps on while the database is free
    (measured: two app workers at 200 submits/s reached 147/s with a p95 above 1 s).
    Threads of one process queue on an in-process lock (woken as soon as it is free), and
    the one thread at the head of each process's queue takes an ``flock`` on
    ``<database>.writelock``, polled at a fine interval with a deadline; SQLite's own lock
    still protects the file from writers that do not use this lock (they wait in the busy
    handler as before). A process that dies releases its ``flock`` with its descriptors.
    """

    POLL_SECONDS = (0.0002, 0.0005, 0.001)  # waits between flock attempts, the last repeats

    def __init__(self, database: Path) -> None:
        self._thread_lock = threading.RLock()
        self._path = database.with_name(database.name + ".writelock")
        self._fd: int | None = None
        self._pid = 0  # a forked child must not share its parent's lock (one open file)
        self._depth = 0  # re-entries of the owning thread

    def acquire(self, timeout: float = -1) -> bool:
        deadline = None if timeout < 0 else time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            return False
        if self._depth == 0 and not self._lock_file(deadline):
            self._thread_lock.release()
            return False
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def __enter__(self) -> SqliteWriteLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def _lock_file(self, deadline: float | None) -> bool:
        if self._fd is None or self._pid != os.getpid():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        waits = iter(self.POLL_SECONDS)
        wait = next(waits)
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                time.sleep(wait)
                wait = next(waits, wait)


_WRITE_LOCKS: dict[str, SqliteWriteLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def sqlite_write_lock(bind: Engine | Connection) -> SqliteWriteLock | None:
    """The write lock of an SQLite database file (None for other databases)."""
    url = bind.engine.url
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database).absolute()
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(str(path), SqliteWriteLock(path))


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run a read-then-write unit of work in its own transaction, committed at the end.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: a concurrent writer makes us
    wait instead of failing with "database is locked", which is what a deferred transaction
    that read first and writes later gets; writers queue on :func:`sqlite_write_lock` before
    that. Whatever the session held before
    (reads for authentication, say) is committed first.
    """
    if session.in_transaction():
        session.commit()
    bind = session.get_bind()
    lock = sqlite_write_lock(bind) if isinstance(bind, Engine | Connection) else None
    if lock is not None and not lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
        raise StoreBusyError()
    try:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        if lock is not None:
            lock.release()


_CORE_KEY = "opslake.core_connection"


def core(session: Session) -> Connection:
    """The session's connection, for Core statements on the hot paths (an ORM flush of one
    object costs ~8× a prepared Core INSERT). Pending ORM changes are flushed first, so
    that Core reads see them and writes keep their order."""
    session.flush()
    # session.connection() walks the transaction state machine each time (~15 calls per
    # submit): remember the connection for the session's current root transaction.
    transaction = session.get_transaction()
    known = session.info.get(_CORE_KEY)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1]  # type: ignore[no-any-return]
    conn = session.connection()
    session.info[_CORE_KEY] = (session.get_transaction(), conn)
    return conn


def attach(session: Session, obj: _T) -> _T:
    """Make an object whose row was just written or read with Core (all columns set,
    primary key included) a persistent member of the session, as if it had been loaded.
    If the session already holds that row's object, that one is returned."""
    key = inspect(obj).mapper.identity_key_from_instance(obj)
    existing = session.identity_map.get(key)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _ensure_sqlite_dir(engine: Engine) -> None:
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def locked_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the bootstrap lock: only one process at a time gets here.

    SQLite: ``BEGIN IMMEDIATE`` (the database write lock). PostgreSQL: a transaction-scoped
    advisory lock. Used for migrations and startup seeding, which several app workers may
    run at the same moment.
    """
    _ensure_sqlite_dir(engine)
    with engine.connect() as conn:
        conn = conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOTSTRAP_LOCK_KEY}
                )
            yield conn


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration without an ini file (the migrations folder is in the package)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(url: str | URL | Engine, revision: str = "head") -> None:
    """Bring the app store schema up to ``revision`` (default: the newest). Idempotent."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with locked_transaction(engine) as conn:
            command.upgrade(alembic_config(conn), revision)
    finally:
        if engine is not url:
            engine.dispose()
