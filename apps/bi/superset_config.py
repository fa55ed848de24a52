"""Superset configuration of OpsLake (loaded via SUPERSET_CONFIG_PATH).

Runs in Superset's own venv (.venv-superset), so it imports nothing of OpsLake:
every value comes from the same ``OPSLAKE_*`` environment variables the main
settings read (see warehouse/settings.py), with the same defaults.

Lean on purpose (ARCHITECTURE, "Superset"): SQLite metadata, a file cache shared by the
workers (Redis only if configured), no Celery, gunicorn 2 workers x 4 threads, nothing that
reaches the internet.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import re
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine.url import URL
from sqlalchemy.pool import NullPool

logger = logging.getLogger("opslake.superset")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


OPSLAKE_HOME = Path(_env("OPSLAKE_HOME", "var")).absolute()
SUPERSET_HOME = OPSLAKE_HOME / "superset"
SUPERSET_HOME.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("SUPERSET_HOME", str(SUPERSET_HOME))

# ---------------------------------------------------------------------------
# Metadata store, secrets, identity
# ---------------------------------------------------------------------------
SQLALCHEMY_DATABASE_URI = _env("OPSLAKE_SUPERSET_DB", f"sqlite:///{SUPERSET_HOME / 'superset.db'}")
if SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
    # 2 workers x 4 threads share one SQLite file (WAL is switched on by
    # `provision.py init`): wait for a lock instead of failing at once.
    SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30, "check_same_thread": False}}

# Derived from the one OpsLake secret: Superset gets its own key (a leak of one
# app's key is not the other's), 64 characters as JWT HS256 wants (>= 32 bytes).
# Changing OPSLAKE_SECRET_KEY means `superset re-encrypt-secrets` (DB passwords).
SECRET_KEY = hashlib.sha256(
    b"opslake-superset:" + _env("OPSLAKE_SECRET_KEY", "opslake-dev-secret-change-me").encode()
).hexdigest()
APP_NAME = "OpsLake BI"

# ---------------------------------------------------------------------------
# Caches. Query results are shared by both gunicorn workers, so a chart computed by one
# is a hit on the other (a per-worker SimpleCache missed half the time): Redis when
# OPSLAKE_SUPERSET_REDIS_URL is set, otherwise files under $OPSLAKE_HOME/superset/cache
# (no extra service). Dashboard filter state and explore form data stay in the metastore
# (Superset's default) for the same reason.
# ---------------------------------------------------------------------------
_DATA_TTL = int(_env("OPSLAKE_SUPERSET_CACHE_TIMEOUT", "300"))
_REDIS_URL = os.environ.get("OPSLAKE_SUPERSET_REDIS_URL", "")
CACHE_DEFAULT_TIMEOUT = _DATA_TTL


def _shared_cache(prefix: str, timeout: int) -> dict[str, Any]:
    if _REDIS_URL:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": _REDIS_URL,
            "CACHE_KEY_PREFIX": prefix,
            "CACHE_DEFAULT_TIMEOUT": timeout,
        }
    return {
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": str(SUPERSET_HOME / "cache" / prefix.rstrip("_")),
        "CACHE_KEY_PREFIX": prefix,
        "CACHE_DEFAULT_TIMEOUT": timeout,
        "CACHE_THRESHOLD": 5000,
    }


CACHE_CONFIG = _shared_cache("opslake_meta_", int(timedelta(days=1).total_seconds()))
# Query results: short TTL so a dashboard shows a new lake snapshot within
# minutes (pass force=true / "Force refresh" to bypass it).
DATA_CACHE_CONFIG = _shared_cache("opslake_data_", _DATA_TTL)
THUMBNAIL_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# No Celery: no async queries, reports, alerts or thumbnails.
CELERY_CONFIG = None
RESULTS_BACKEND = None

# ---------------------------------------------------------------------------
# Features and locale
# ---------------------------------------------------------------------------
# Native filters and cross filters are GA in Superset 6 (their flags were
# removed: DASHBOARD_NATIVE_FILTERS, DASHBOARD_CROSS_FILTERS); we keep the
# names here only so a reader looking for them finds this note.
FEATURE_FLAGS = {
    "DRILL_TO_DETAIL": True,
    "DRILL_BY": True,
    "DASHBOARD_VIRTUALIZATION": True,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "GLOBAL_ASYNC_QUERIES": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "EMBEDDED_SUPERSET": False,
}

BABEL_DEFAULT_LOCALE = _env("OPSLAKE_SUPERSET_LOCALE", "zh")
LANGUAGES = {
    "en": {"flag": "us", "name": "English"},
    "zh": {"flag": "cn", "name": "中文"},
}
if BABEL_DEFAULT_LOCALE.startswith("zh"):
    # Chart axes and number formats in zh-CN (d3's own zh-CN locale), ¥ for "$" formats.
    D3_FORMAT = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}
    D3_TIME_FORMAT = {
        "dateTime": "%x %A %X",
        "date": "%Y年%-m月%-d日",
        "time": "%H:%M:%S",
        "periods": ["上午", "下午"],
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": [
            "一月",
            "二月",
            "三月",
            "四月",
            "五月",
            "六月",
            "七月",
            "八月",
            "九月",
            "十月",
            "十一月",
            "十二月",
        ],
        "shortMonths": [f"{m}月" for m in range(1, 13)],
    }

# Charts draw at once, without ECharts' entry animation: an animation redraws every canvas
# ~60 times a second for about a second, which on a dashboard of a dozen charts cost the
# browser more CPU than everything else together (measured: docs/decisions/0051).
# The theme keeps Superset's own defaults (read from the module loading us), plus the override.
_superset_defaults = sys.modules.get("superset.config")
if _env("OPSLAKE_SUPERSET_CHART_ANIMATION", "0").lower() in {"0", "false", "no"}:
    for _name in ("THEME_DEFAULT", "THEME_DARK"):
        _base = getattr(_superset_defaults, _name, None)
        if _base is None and _name == "THEME_DARK":
            continue
        _theme = copy.deepcopy(_base or {"token": {}, "algorithm": "default"})
        _token = _theme.setdefault("token", {})
        _token["brandAppName"] = APP_NAME
        _token["echartsOptionsOverrides"] = _token.get("echartsOptionsOverrides", {}) | {
            "animation": False
        }
        globals()[_name] = _theme

# ---------------------------------------------------------------------------
# Nothing may reach the internet (offline customer networks)
# ---------------------------------------------------------------------------
MAPBOX_API_KEY = ""
# Example data / dataset `data:` URLs would be downloaded: allow none.
DATASET_IMPORT_ALLOWED_DATA_URLS: list[str] = []
# The prebuilt frontend renders a Scarf telemetry pixel on every page; this CSP
# has no third-party origins, so the browser drops it without any DNS lookup.
# Same for map tiles (mapbox/OSM/carto) and third-party images.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False

# SQL Lab on DuckDB: refuse the obvious local-file readers (defence in depth;
# the lake URI is read-only, and only analysts get SQL Lab).
DISALLOWED_SQL_FUNCTIONS = {
    "duckdb": {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_text",
        "read_blob",
        "glob",
        "sniff_csv",
        "getenv",
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "postgres_attach",
        "duckdb_settings",
        "duckdb_extensions",
    },
}


def SQL_QUERY_MUTATOR(
    sql: str, security_manager: Any = None, database: Any = None, **_: Any
) -> str:
    """On DuckDB databases run queries only: no COPY, ATTACH, INSTALL/LOAD, SET, PRAGMA...

    The sandbox below confines DuckDB's own file access, but the sqlite extension
    opens files through SQLite, so `ATTACH '<any>.db' (TYPE sqlite)` would still
    read e.g. Superset's metadata DB. Charts only send SELECTs; SQL Lab gets
    SELECT/WITH/UNION, PIVOT, SUMMARIZE, DESCRIBE, SHOW and EXPLAIN <query>.
    """
    if database is None or getattr(database.db_engine_spec, "engine", None) != "duckdb":
        return sql
    import sqlglot
    from sqlglot import exp
    from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
    from superset.exceptions import SupersetSecurityException

    def allowed(node: exp.Expression | None) -> bool:
        queries = (exp.Query, exp.Pivot, exp.Summarize, exp.Describe, exp.Show)
        if node is None or isinstance(node, queries):
            return True
        if isinstance(node, exp.Command) and node.name.upper() == "EXPLAIN":
            text = node.expression.name if node.expression is not None else ""
            rest = re.sub(r"(?is)^\s*(analyze\s+)?", "", text)
            try:
                return all(allowed(n) for n in sqlglot.parse(rest, read="duckdb"))
            except sqlglot.errors.ParseError:
                return False
        return False

    try:
        ok = all(allowed(node) for node in sqlglot.parse(sql, read="duckdb"))
    except sqlglot.errors.ParseError:
        ok = False
    if not ok:
        raise SupersetSecurityException(
            SupersetError(
                message="Only queries (SELECT, WITH, PIVOT, SUMMARIZE, DESCRIBE, SHOW, EXPLAIN) "
                "may run on the lake.",
                error_type=SupersetErrorType.DML_NOT_ALLOWED_ERROR,
                level=ErrorLevel.ERROR,
            )
        )
    return sql


ROW_LIMIT = 50000
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120
LOG_LEVEL = logging.INFO

# ---------------------------------------------------------------------------
# Event log (decision 0053): Superset writes a row into its metadata DB for every API call
# and every batch of frontend events, a SQLite INSERT + commit per request. A warm cockpit
# load makes ~25 such requests; without the DB writes Superset spends ~25 % less CPU per load
# (0.63 -> 0.47 s, demo lake), CPU the browser shares on a small machine. The events go to
# the log file instead (run/superset.log, one JSON line each, logger opslake.superset.events).
# OPSLAKE_SUPERSET_EVENT_LOG=db brings Superset's own (Settings → Action log) back; off drops
# them.
# ---------------------------------------------------------------------------
_EVENT_LOG = _env("OPSLAKE_SUPERSET_EVENT_LOG", "file").lower()
if _EVENT_LOG in {"file", "off"}:
    from superset.utils.log import AbstractEventLogger

    class _OpsLakeEventLogger(AbstractEventLogger):
        """Superset's events as JSON lines in the log file, or nowhere."""

        _events = logging.getLogger("opslake.superset.events")

        def log(  # noqa: PLR0913 - Superset's signature
            self,
            user_id: int | None,
            action: str,
            dashboard_id: int | None,
            duration_ms: int | None,
            slice_id: int | None,
            referrer: str | None,
            *args: Any,
            **kwargs: Any,
        ) -> None:
            if _EVENT_LOG == "off":
                return
            record = {
                "user_id": user_id,
                "action": action,
                "dashboard_id": dashboard_id,
                "slice_id": slice_id,
                "duration_ms": duration_ms,
                "referrer": referrer,
                "records": kwargs.get("records") or [],
            }
            self._events.info("%s", json.dumps(record, default=str, ensure_ascii=False))

    EVENT_LOGGER = _OpsLakeEventLogger()

# ---------------------------------------------------------------------------
# DuckDB: keep ONE connection per worker per lake URI open
# ---------------------------------------------------------------------------
# Superset forces NullPool and builds an engine per query, so every chart would
# pay connect + LOAD ducklake + ATTACH (~250-300 ms). DuckDB caches a database
# instance per path for as long as one connection to it is open; holding one
# connection with exactly Superset's URI and config makes every later connect a
# cheap new connection to the already attached lake. Each query still starts
# its own transaction, so it sees the newest DuckLake snapshot.
#
# DuckDB refuses a second connection to the same path with a different config,
# and Superset's config carries a user agent, so we pin that to one value.
#
# Sandbox: the kept connection also locks the DuckDB instance down, once, before
# any query runs: file access only under the lake's data path and our temp dir
# (`enable_external_access=false` + `allowed_directories`), and
# `lock_configuration`. DuckDB's read_only mode does not stop `COPY ... TO`,
# `read_csv('/etc/passwd')` or `FROM 'file.csv'` from SQL Lab, and Superset's
# DML check does not treat COPY as DML; this does (measured: lake queries and
# new snapshots still work). OPSLAKE_SUPERSET_DUCKDB_SANDBOX=0 turns it off.

_DUCKDB_USER_AGENT = "opslake-superset"
# OPSLAKE_SUPERSET_DUCKDB_KEEPALIVE=0 turns the keep-alive off (to measure or debug).
_KEEPALIVE_ON = _env("OPSLAKE_SUPERSET_DUCKDB_KEEPALIVE", "1").lower() not in {"0", "false", "no"}
_SANDBOX_ON = _env("OPSLAKE_SUPERSET_DUCKDB_SANDBOX", "1").lower() not in {"0", "false", "no"}
# DuckDB derives its spill directory from the database path, which for
# "ducklake:sqlite:..." is not a usable directory: give it a real one when the URI has none
# (the provisioned lake URI names <lake>/spill, as the other lake connections).
DUCKDB_TEMP_DIR = SUPERSET_HOME / "duckdb_tmp"
_keepalive_lock = threading.Lock()
_keepalive: dict[str, tuple[str, Any]] = {}  # database path -> (config key, raw connection)
_keepalive_pid = os.getpid()


def _config_key(uri: URL, connect_args: dict[str, Any]) -> str:
    return json.dumps([str(uri), connect_args], sort_keys=True, default=str)


def _keep_duckdb_open(uri: URL, connect_args: dict[str, Any]) -> None:
    global _keepalive_pid
    key = _config_key(uri, connect_args)
    path = uri.database or ""
    held = _keepalive.get(path)
    if held and held[0] == key and _keepalive_pid == os.getpid():
        return
    with _keepalive_lock:
        if _keepalive_pid != os.getpid():  # forked: connections of the parent are not ours
            _keepalive.clear()
            _keepalive_pid = os.getpid()
        held = _keepalive.get(path)
        if held and held[0] == key:
            return
        if held:  # the database's URI or options changed: let the old instance go
            _keepalive.pop(path, None)
            with contextlib.suppress(Exception):
                held[1].close()
        try:
            engine = create_engine(
                uri, poolclass=NullPool, connect_args=copy.deepcopy(connect_args)
            )
            raw = engine.raw_connection()
        except Exception as exc:  # noqa: BLE001 - the query itself will report it
            logger.warning("could not open a DuckDB keep-alive connection to %s: %s", path, exc)
            return
        try:
            if _SANDBOX_ON:
                _sandbox(raw, path)
        except Exception:
            raw.close()
            logger.exception("could not sandbox DuckDB for %s", path)
            raise
        _keepalive[path] = (key, raw)
        logger.info("keeping a DuckDB connection open for %s (pid %s)", path, os.getpid())


def _sandbox(raw: Any, path: str) -> None:
    """Confine the whole DuckDB instance to the lake's files (see above)."""
    cursor = raw.cursor()
    allowed = [str(DUCKDB_TEMP_DIR) + "/"]
    cursor.execute("SELECT current_setting('temp_directory')")
    (spill,) = cursor.fetchone()
    if spill and spill.rstrip("/") != str(DUCKDB_TEMP_DIR):  # the URI's (the lake's spill/)
        allowed.append(spill.rstrip("/") + "/")
    if path.startswith("ducklake:"):
        cursor.execute("SELECT current_database()")
        (name,) = cursor.fetchone()
        cursor.execute("SELECT data_path FROM ducklake_settings(?)", [name])
        (data_path,) = cursor.fetchone()
        allowed.append(data_path if data_path.endswith("/") else data_path + "/")
    else:  # a plain DuckDB file
        allowed.append(str(Path(path).parent) + "/")
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in allowed)
    cursor.execute(f"SET allowed_directories = [{listed}]")
    cursor.execute("SET enable_external_access = false")
    cursor.execute("SET lock_configuration = true")
    cursor.close()


def DB_CONNECTION_MUTATOR(  # noqa: N802 - Superset's name
    uri: URL,
    params: dict[str, Any],
    username: str | None,
    security_manager: Any,
    source: Any,
) -> tuple[URL, dict[str, Any]]:
    database = uri.database or ""
    if uri.drivername != "duckdb" or database in ("", ":memory:") or database.startswith("md:"):
        return uri, params
    connect_args = params.setdefault("connect_args", {})
    config = connect_args.setdefault("config", {})
    config["custom_user_agent"] = _DUCKDB_USER_AGENT
    if "temp_directory" not in config and "temp_directory" not in uri.query:
        DUCKDB_TEMP_DIR.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(DUCKDB_TEMP_DIR)
    if _KEEPALIVE_ON:
        _keep_duckdb_open(uri, connect_args)
    return uri, params


def opslake_keepalive_paths() -> list[str]:
    """For tests and debugging: database paths this worker keeps open."""
    return sorted(_keepalive)
