"""The one fake-server app: a path prefix per platform, fault injection, a control API.

/tmall/router/rest                          TOP  (taobao.trades.sold.increment.get)
/jd/routerjson                              JOS  (jingdong.pop.order.search)
/douyin/order/searchList, /douyin/token/*   抖店
/shopify/admin/api/2024-10/orders.json      Shopify Admin REST
/dingtalk/gettoken, /dingtalk/…             DingTalk oapi
/wecom/cgi-bin/gettoken, /wecom/cgi-bin/…   WeCom (企业微信)
/_demo/info, /_demo/faults, /_demo/delay    control (tests, `make up`)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .state import ServerState

Handler = Callable[[Request], Awaitable[Response]]


def json_response(
    doc: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(doc), status, headers, media_type="application/json")


def raw_json(body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, 200, headers, media_type="application/json")


def guarded(state: ServerState, platform: str, handler: Handler) -> Handler:
    """Count the request, add the configured delay, then play any pending generic fault."""

    async def endpoint(request: Request) -> Response:
        path = request.url.path
        state.requests[platform] += 1
        for hook in list(state.hooks):
            hook(path)
        delay = state.delay_for(path)
        if delay:
            await asyncio.sleep(delay)
        fault = state.take(path, ("500", "timeout", "429"))
        if fault is not None:
            if fault.kind == "500":
                return JSONResponse({"error": "injected internal error"}, 500)
            if fault.kind == "429":
                return JSONResponse(
                    {"errors": "Exceeded 2 calls per second for api client. Reduce request rates."},
                    429,
                    {"Retry-After": f"{fault.seconds:g}"},
                )
            await asyncio.sleep(fault.seconds)  # the client should have given up by now
            return JSONResponse({"error": "injected gateway timeout"}, 504)
        return await handler(request)

    return endpoint


async def params_of(request: Request) -> dict[str, str]:
    """Query string and form body together (TOP and JD accept either)."""
    params = dict(request.query_params)
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):  # parse_qsl: several times cheaper than Starlette's multipart form parser
        params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    return params


def _control_routes(state: ServerState) -> list[Route]:
    async def info(request: Request) -> Response:
        return JSONResponse({"demo_dir": str(state.demo_dir), "requests": dict(state.requests)})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear()
            return JSONResponse({"ok": True})
        body = await request.json()
        state.inject(
            str(body["kind"]),
            int(body.get("count", 1)),
            str(body.get("prefix", "/")),
            float(body.get("seconds", 1.0)),
        )
        return JSONResponse({"ok": True})

    async def delay(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            state.delay[str(body.get("prefix", "/"))] = float(body["seconds"])
        return JSONResponse({"ok": True})

    return [
        Route("/_demo/info", info),
        Route("/_demo/faults", faults, methods=["POST", "DELETE"]),
        Route("/_demo/delay", delay, methods=["POST"]),
    ]


def create_app(demo_dir: Path | ServerState, token_ttl: float = 7200.0) -> Starlette:
    from . import dingtalk, douyin, jd, shopify, top, wecom

    state = demo_dir if isinstance(demo_dir, ServerState) else ServerState(demo_dir, token_ttl)
    routes = _control_routes(state)
    for module in (top, jd, douyin, shopify, dingtalk, wecom):
        for path, handler, methods in module.routes(state):
            routes.append(Route(path, guarded(state, module.PLATFORM, handler), methods=methods))
    app = Starlette(routes=routes)
    app.state.fake = state
    return app
