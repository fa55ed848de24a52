"""Fake marketplace/HR API servers over the demo company's files (see SOURCE_SHAPES.md).

One Starlette app (``create_app``) serves every platform under its own path prefix;
``DemoServer`` runs it with uvicorn in a thread on 127.0.0.1 (a free port by default) for
tests and for connectors in demo mode; ``python -m ingest.demo.servers`` runs it as a
service. Tests inject faults with ``server.state.inject(kind, count, prefix, seconds)``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from .app import create_app
from .state import APP_KEY, APP_SECRET, DOUYIN_SHOP_ID, REFRESH, SESSION, ServerState

__all__ = [
    "APP_KEY",
    "APP_SECRET",
    "DOUYIN_SHOP_ID",
    "REFRESH",
    "SESSION",
    "DemoServer",
    "ServerState",
    "create_app",
]


class DemoServer:
    """``with DemoServer(demo_dir) as server: server.url`` — started and stopped around a block."""

    def __init__(
        self, demo_dir: Path, port: int = 0, host: str = "127.0.0.1", token_ttl: float = 7200.0
    ) -> None:
        self.state = ServerState(demo_dir, token_ttl)
        self.host = host
        config = uvicorn.Config(
            create_app(self.state),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="demo-api")
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DemoServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the demo API server did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
