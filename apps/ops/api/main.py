"""All API routes under /api/v1."""

from fastapi import APIRouter, Depends

from apps.ops.api.deps import get_current_user
from apps.ops.api.routes import (
    admin,
    attachments,
    auth,
    flows,
    forms,
    imports,
    metrics,
    records,
    webhooks,
)
from apps.ops.api.routes.oms import router as oms_router
from apps.ops.schemas import ErrorPublic

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(auth.router)
api_router.include_router(webhooks.router)  # signed by the sender (HMAC), no user
# Everything but the token endpoint needs a logged-in user.
_authenticated = {
    "dependencies": [Depends(get_current_user)],
    "responses": {401: {"model": ErrorPublic, "description": "Not logged in"}},
}
api_router.include_router(forms.router, **_authenticated)
api_router.include_router(records.router, **_authenticated)
api_router.include_router(imports.router, **_authenticated)
api_router.include_router(attachments.router, **_authenticated)
api_router.include_router(flows.router, **_authenticated)
api_router.include_router(admin.router, **_authenticated)
api_router.include_router(oms_router, **_authenticated)
api_router.include_router(metrics.router, **_authenticated)
