from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from apps.ops import audit
from apps.ops.api.deps import AdminUser, SessionDep
from apps.ops.models import RuleFiring
from apps.ops.schemas import AuditVerifyPublic, ErrorPublic, RuleFiringPublic

router = APIRouter(tags=["admin"], responses={403: {"model": ErrorPublic}})


@router.get("/audit/verify")
def verify_audit(request: Request, user: AdminUser) -> AuditVerifyPublic:
    """Walk the audit log's hash chain (admins)."""
    result = audit.verify(request.app.state.engine)
    return AuditVerifyPublic(
        ok=result.ok,
        checked=result.checked,
        first_bad_id=result.first_bad_id,
        message=result.message,
    )


@router.get("/rule-firings")
def rule_firings(
    session: SessionDep, user: AdminUser, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[RuleFiringPublic]:
    """The newest firings with inputs and outcome (admins)."""
    rows = session.scalars(select(RuleFiring).order_by(RuleFiring.id.desc()).limit(limit))
    return [RuleFiringPublic.model_validate(r) for r in rows]
