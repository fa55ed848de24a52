"""Shopify order webhooks (``orders/create``, ``orders/updated``), verified and stored raw.

Shopify signs the raw body: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(app client
secret, body)). A wrong or missing signature is a 401 and nothing is stored. A verified
delivery is stored as received, once per ``X-Shopify-Webhook-Id`` (Shopify retries until
it gets a 2xx, so a repeat is answered 200 and not stored again). The lake connector
``ingest/sources/shopify_webhooks.py`` lands the stored orders in ``raw.shopify_orders``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.ops.api.deps import SessionDep, SettingsDep
from apps.ops.models import ShopifyWebhook
from apps.ops.schemas import ErrorPublic

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

ORDER_TOPICS = ("orders/create", "orders/updated")


def shopify_hmac(body: bytes, secret: str) -> str:
    """The value Shopify sends in ``X-Shopify-Hmac-Sha256`` for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status)


@router.post(
    "/shopify/orders",
    summary="Receive a Shopify order webhook",
    responses={
        400: {"model": ErrorPublic, "description": "Not an order webhook"},
        401: {"model": ErrorPublic, "description": "Signature missing or wrong"},
    },
)
async def shopify_orders(
    request: Request, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    body = await request.body()  # the raw bytes: the signature is over exactly these
    given = request.headers.get("X-Shopify-Hmac-Sha256", "")
    if not given:
        return _error(401, "X-Shopify-Hmac-Sha256 header missing: the webhook is not signed")
    if not hmac.compare_digest(
        given.encode(), shopify_hmac(body, settings.shopify_webhook_secret).encode()
    ):
        return _error(
            401,
            "X-Shopify-Hmac-Sha256 does not match the body: wrong shared secret "
            "(OPSLAKE_SHOPIFY_WEBHOOK_SECRET) or a body changed in transit",
        )
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in ORDER_TOPICS:
        return _error(400, f"topic {topic!r} is not taken here; send {' or '.join(ORDER_TOPICS)}")
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not webhook_id or len(webhook_id) > 100:
        return _error(400, "X-Shopify-Webhook-Id header missing or longer than 100 characters")
    try:
        text = body.decode("utf-8")
        order = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return _error(400, f"the body is not UTF-8 JSON: {exc}")
    if not isinstance(order, dict) or order.get("id") in (None, ""):
        return _error(400, "the body is not an order: a JSON object with an 'id' is expected")
    headers = request.headers
    row = ShopifyWebhook(
        webhook_id=webhook_id,
        topic=topic,
        shop_domain=headers.get("X-Shopify-Shop-Domain"),
        api_version=headers.get("X-Shopify-API-Version"),
        body=text,
    )
    return await run_in_threadpool(_store, session, row)  # the store is synchronous


def _store(session: Session, row: ShopifyWebhook) -> JSONResponse:
    answer = {"webhook_id": row.webhook_id}
    seen = select(ShopifyWebhook.id).where(ShopifyWebhook.webhook_id == row.webhook_id)
    if session.scalar(seen) is not None:
        return JSONResponse({**answer, "stored": False, "duplicate": True})
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same delivery, stored by a concurrent request
        session.rollback()
        return JSONResponse({**answer, "stored": False, "duplicate": True})
    return JSONResponse({**answer, "stored": True, "duplicate": False})
