"""The ops app (FastAPI): ``uvicorn apps.ops.main:app`` or ``create_app(settings)``.

On startup it migrates the app store, loads the form definitions (a changed file becomes a
new version) and, in development, creates the demo users admin/admin and operator/operator.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from apps.ops.api.main import api_router
from apps.ops.core.config import OpsSettings, as_ops_settings
from apps.ops.core.db import locked_transaction, make_engine, make_sessionmaker, migrate
from apps.ops.crud import ensure_demo_users
from apps.ops.forms.loader import load_definitions
from apps.ops.handlers import register_exception_handlers
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
        session.flush()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = as_ops_settings(settings)
    settings.check_secrets()
    engine = make_engine(settings.app_db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bootstrap(engine, settings)
        yield
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
