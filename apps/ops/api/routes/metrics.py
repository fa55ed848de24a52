"""The KPIs of the lake over the API: list them, query them (JSON, or CSV for spreadsheets).

Every number comes from the semantic layer (:class:`semantic.service.MetricService` over
dbt's semantic manifest) on a read-only lake connection, so the API, the CLI
(``opslake metrics query``) and Superset give the same number for the same KPI. Allowed
for the roles in ``OPSLAKE_METRICS_ROLES`` (default admin, analyst, executive).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from decimal import Decimal
from typing import Annotated, Any, Literal

import duckdb
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from apps.ops.api.deps import CurrentUser, SettingsDep
from apps.ops.core.config import OpsSettings
from apps.ops.core.errors import ForbiddenError, LakeUnavailableError, MetricQueryError
from apps.ops.models import User
from apps.ops.schemas import ErrorPublic
from semantic.errors import SemanticError
from semantic.query import Filter, MetricQuery
from semantic.service import MetricService

MAX_ROWS = 100_000
DEFAULT_ROWS = 10_000
CSV_TYPE = "text/csv"

router = APIRouter(prefix="/metrics", tags=["metrics"])
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorPublic, "description": "The user's roles may not read metrics"},
    422: {"model": ErrorPublic, "description": "Unknown metric or dimension (valid names listed)"},
    503: {"model": ErrorPublic, "description": "No lake or no semantic manifest yet"},
}


def may_read_metrics(user: CurrentUser, settings: SettingsDep) -> User:
    if not set(user.roles or []) & set(settings.metrics_roles):
        raise ForbiddenError()
    return user


MetricsReader = Annotated[User, Depends(may_read_metrics)]

_SERVICE_LOCK = threading.Lock()


def metric_service(request: Request) -> MetricService:
    """The app's one service: it keeps its read-only lake connection open (attaching the
    lake costs ~150 ms) and runs each query on its own cursor."""
    settings: OpsSettings = request.app.state.settings
    with _SERVICE_LOCK:
        service = getattr(request.app.state, "metrics", None)
        if service is None:
            if not settings.semantic_manifest.exists():
                raise LakeUnavailableError(
                    reason=f"{settings.semantic_manifest} is missing (run `opslake build`)"
                )
            from warehouse.lake import Lake

            lake = Lake.from_settings(settings)
            if not lake.exists():
                raise LakeUnavailableError(
                    reason=f"there is no lake at {lake.catalog_path.parent} yet (run `make up`)"
                )
            service = request.app.state.metrics = MetricService(
                settings.semantic_manifest, lake.reader
            )
    return service


class MetricPublic(BaseModel):
    name: str
    label: str | None = None
    description: str | None = None
    type: str


class MetricsPublic(BaseModel):
    data: list[MetricPublic]
    count: int


class FilterIn(BaseModel):
    dimension: str = Field(max_length=200, examples=["store_code"])
    op: Literal["=", "!=", "<>", "<", "<=", ">", ">=", "in", "between"] = "="
    value: str | int | float | bool | None = None
    values: list[str | int | float | bool | None] = Field(default_factory=list, max_length=1000)


class MetricQueryIn(BaseModel):
    """A metric query, as ``opslake metrics query`` takes it."""

    metrics: list[Annotated[str, Field(max_length=200)]] = Field(
        min_length=1, max_length=50, examples=[["pos_net_sales"]]
    )
    group_by: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, examples=[["metric_time__month"]]
    )
    where: list[FilterIn] = Field(default_factory=list, max_length=50)
    start: dt.date | None = Field(default=None, description="metric_time from (inclusive)")
    end: dt.date | None = Field(default=None, description="metric_time to (inclusive)")
    order_by: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="output columns; -name descending"
    )
    limit: int | None = Field(default=None, ge=0, le=MAX_ROWS)


class MetricResultPublic(BaseModel):
    columns: list[str]
    data: list[dict[str, Any]]
    count: int
    truncated: bool = Field(description="more rows exist than the limit returned")


@router.get("", responses=ERRORS)
def list_metrics(
    user: MetricsReader, service: Annotated[MetricService, Depends(metric_service)]
) -> MetricsPublic:
    """The KPIs defined in the semantic layer (name, label, description, type)."""
    metrics = [MetricPublic(**vars(m)) for m in _served(service.list_metrics)]
    return MetricsPublic(data=metrics, count=len(metrics))


@router.post("/query", responses=ERRORS)
def query_metrics(
    request: Request,
    user: MetricsReader,
    service: Annotated[MetricService, Depends(metric_service)],
    body: MetricQueryIn,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> MetricResultPublic:
    """Run a metric query on the lake (read-only). JSON by default; CSV with
    ``?format=csv`` or ``Accept: text/csv``."""
    return _answer(request, service, body, format)  # type: ignore[return-value]


@router.get("/query", responses=ERRORS)
def query_metrics_get(
    request: Request,
    user: MetricsReader,
    service: Annotated[MetricService, Depends(metric_service)],
    metrics: Annotated[list[str], Query(min_length=1, max_length=50)],
    group_by: Annotated[list[str] | None, Query(max_length=20)] = None,
    where: Annotated[
        list[str] | None, Query(max_length=50, description="DIMENSION=VALUE (repeatable)")
    ] = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    order_by: Annotated[list[str] | None, Query(max_length=20)] = None,
    limit: Annotated[int | None, Query(ge=0, le=MAX_ROWS)] = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> MetricResultPublic:
    """The same query as the POST, with query parameters (a link a spreadsheet can open)."""
    filters = []
    for item in where or []:
        dimension, sep, value = item.partition("=")
        if not sep or not dimension.strip():
            raise MetricQueryError(reason=f"where {item!r}: write DIMENSION=VALUE")
        filters.append(FilterIn(dimension=dimension.strip(), value=value.strip()))
    body = MetricQueryIn(
        metrics=metrics,
        group_by=group_by or [],
        where=filters,
        start=start,
        end=end,
        order_by=order_by or [],
        limit=limit,
    )
    return _answer(request, service, body, format)  # type: ignore[return-value]


def _served(call: Any, *args: Any) -> Any:
    """Semantic-layer errors become 422 (their message names the valid choices); a lake
    that cannot be opened becomes 503."""
    from warehouse.lake import LakeError

    try:
        return call(*args)
    except SemanticError as exc:
        raise MetricQueryError(reason=str(exc)) from None
    except duckdb.CatalogException as exc:  # a mart not built yet
        raise LakeUnavailableError(reason=_first_line(exc)) from None
    except (LakeError, OSError, duckdb.IOException) as exc:
        raise LakeUnavailableError(reason=_first_line(exc)) from None
    except duckdb.Error as exc:  # e.g. a filter value the column's type cannot take
        raise MetricQueryError(reason=_first_line(exc)) from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _answer(
    request: Request, service: MetricService, body: MetricQueryIn, format: str | None
) -> MetricResultPublic | Response:
    limit = DEFAULT_ROWS if body.limit is None else body.limit
    try:
        query = MetricQuery(
            metrics=body.metrics,
            group_by=body.group_by,
            where=[Filter(f.dimension, f.op, f.value, tuple(f.values)) for f in body.where],
            start=body.start,
            end=body.end,
            order_by=body.order_by,
            limit=limit + 1,  # one more tells whether there are more
        )
    except SemanticError as exc:
        raise MetricQueryError(reason=str(exc)) from None
    result = _served(service.query, query)
    rows = result.table.to_pylist()
    truncated = len(rows) > limit
    rows = rows[:limit]
    if _wants_csv(request, format):
        return Response(
            _csv(result.columns, rows),
            media_type=f"{CSV_TYPE}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="metrics.csv"'},
        )
    return MetricResultPublic(
        columns=result.columns,
        data=[{k: _json_value(v) for k, v in row.items()} for row in rows],
        count=len(rows),
        truncated=truncated,
    )


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return CSV_TYPE in request.headers.get("accept", "")


def _json_value(value: Any) -> Any:
    # Decimals as JSON numbers (exact KPIs are sums of money: float is what JSON has).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """RFC 4180 CSV with a header row; a BOM so that Excel reads UTF-8 (Chinese labels)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row[c]) for c in columns])
    return out.getvalue()
