"""The ops app (FastAPI): ``uvicorn apps.ops.main:app`` or ``create_app(settings)``.

On startup it migrates the app store, loads the form definitions (a changed file becomes a
new version) and, in development, creates the demo users admin/admin and operator/operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from apps.ops.api.main import api_router
from apps.ops.context import OpsContext, typed_values
from apps.ops.core.clock import Clock, SystemClock
from apps.ops.core.config import OpsSettings, as_ops_settings
from apps.ops.core.db import locked_transaction, make_engine, make_sessionmaker, migrate
from apps.ops.core.ratelimit import LoginLimiter
from apps.ops.crud import ensure_demo_users
from apps.ops.flows.loader import read_flows
from apps.ops.forms.loader import load_definitions
from apps.ops.forms.providers import load_providers
from apps.ops.handlers import register_exception_handlers
from apps.ops.org.seed import ensure_system_user, seed_org
from apps.ops.rules.channels import SmtpConfig
from apps.ops.rules.engine import RuleEngine
from apps.ops.rules.loader import read_rules
from apps.ops.scheduler import run_forever
from apps.ops.web.routes import router as web_router
from warehouse.settings import Settings

log = logging.getLogger(__name__)


def bootstrap(engine: Engine, settings: OpsSettings) -> None:
    """Migrate, load form definitions, seed demo users. Idempotent; safe across workers."""
    migrate(engine)
    with locked_transaction(engine) as conn, Session(bind=conn) as session:
        for result in load_definitions(session, settings.forms_dir):
            if result.created:
                log.info("form %s: stored version %d", result.name, result.version)
        if settings.seed_demo_users:
            for username in ensure_demo_users(session=session):
                log.warning("created demo user %r (password = username)", username)
            seed_org(session)
        # before the scheduler's first poll: a rule-created record needs its actor's manager
        ensure_system_user(session)
        session.flush()


def build_context(settings: OpsSettings, clock: Clock | None = None) -> OpsContext:
    """Read flows, rules and providers (all configuration) into the engines' context."""
    clock = clock or SystemClock()
    ctx = OpsContext(
        clock=clock,
        flows=read_flows(settings.flows_dir),
        providers=load_providers(settings.providers_file),
    )

    def lake_reader() -> object:
        from warehouse.lake import Lake

        return Lake.from_settings(settings).reader()

    ctx.rules = RuleEngine(read_rules(settings.rules_dir), clock.now, lake_reader)
    ctx.rules.typed_values = typed_values
    return ctx


def smtp_config(settings: OpsSettings) -> SmtpConfig:
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_sender)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = as_ops_settings(settings)
    settings.check_secrets()
    engine = make_engine(settings.app_db)
    ctx = build_context(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bootstrap(engine, settings)
        task = None
        if settings.scheduler_interval_seconds > 0:
            task = asyncio.create_task(
                run_forever(
                    app.state.sessionmaker,
                    ctx,
                    smtp_config(settings),
                    settings.scheduler_interval_seconds,
                )
            )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        engine.dispose()

    app = FastAPI(
        title="OpsLake ops",
        summary="Forms, flows and rules of the OpsLake app layer",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.ops = ctx
    app.state.login_limiter = LoginLimiter(
        settings.login_max_failures, settings.login_window_seconds
    )
    app.state.smtp = smtp_config(settings)
    register_exception_handlers(app)

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> JSONResponse:
        """Liveness and app-database check."""
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.exception("health check: app database not reachable")
            body = {"status": "error", "detail": "The app database is not reachable."}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok"})

    app.include_router(api_router)
    app.include_router(web_router)
    return app


app = create_app()
