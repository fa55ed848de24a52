"""Shopify Admin REST orders.json: header token, updated_at filters, Link-header cursors."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .app import json_response, raw_json
from .state import SESSION, ServerState

PLATFORM = "shopify"
PATH = "/shopify/admin/api/2024-10/orders.json"
BUCKET = 40


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def _decode(token: str) -> dict:
    return orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _is_open(line: bytes) -> bool:
    rec = orjson.loads(line)
    return rec.get("closed_at") is None and rec.get("cancelled_at") is None


def routes(state: ServerState) -> list[tuple[str, object, list[str]]]:
    async def orders(request: Request) -> Response:
        token = request.headers.get("X-Shopify-Access-Token")
        if token != SESSION or state.take(request.url.path, ("token_expired",)):
            return json_response(
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                    "password)"
                },
                401,
            )
        q = dict(request.query_params)
        try:
            limit = int(q.get("limit", 50))
        except ValueError:
            return json_response({"errors": {"limit": "must be a number"}}, 400)
        if not 1 <= limit <= 250:
            return json_response({"errors": {"limit": "must be between 1 and 250"}}, 400)
        if "page_info" in q:
            extra = set(q) - {"page_info", "limit", "fields"}
            if extra:
                return json_response(
                    {"errors": {"page_info": f"cannot be combined with {sorted(extra)}"}}, 400
                )
            try:
                cur = _decode(q["page_info"])
            except ValueError:
                return json_response({"errors": {"page_info": "Invalid value."}}, 400)
        else:
            try:
                lo_t = (
                    datetime.fromisoformat(q["updated_at_min"]).timestamp()
                    if ("updated_at_min" in q)
                    else 0.0
                )
                hi_t = (
                    datetime.fromisoformat(q["updated_at_max"]).timestamp()
                    if ("updated_at_max" in q)
                    else 4e9
                )
            except ValueError as exc:
                return json_response({"errors": {"updated_at": str(exc)}}, 400)
            cur = {"min": lo_t, "max": hi_t, "status": q.get("status", "open"), "pos": None}
        series = state.data(PLATFORM)
        lo, hi = series.between(cur["min"], cur["max"])
        pos = lo if cur["pos"] is None else cur["pos"]
        out: list[bytes] = []
        while pos < hi and len(out) < limit:
            line = series.lines[pos]
            if cur["status"] == "any" or _is_open(line):
                out.append(line)
            pos += 1
        base = str(request.url.replace(query=""))
        links = []
        if cur["pos"] is not None and cur["pos"] > lo:
            prev = cur | {"pos": max(lo, cur["pos"] - limit)}
            links.append(f'<{base}?limit={limit}&page_info={_encode(prev)}>; rel="previous"')
        if pos < hi:
            links.append(
                f'<{base}?limit={limit}&page_info={_encode(cur | {"pos": pos})}>; rel="next"'
            )
        headers = {"X-Shopify-Shop-Api-Call-Limit": f"1/{BUCKET}"}
        if links:
            headers["Link"] = ", ".join(links)
        return raw_json(b'{"orders":[' + b",".join(out) + b"]}", headers)

    return [(PATH, orders, ["GET"])]
