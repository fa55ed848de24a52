"""Who handles a node: users, roles, department heads, the submitter's manager."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from apps.ops.flows.spec import Assignee
from apps.ops.org.tree import active_among, head_of, manager_of, members_of_role


def resolve(
    session: Session, assignees: list[Assignee], *, submitter: str, data: dict[str, Any]
) -> list[str]:
    """Usernames in order, without repeats; unknown or inactive users are left out."""
    names: list[str] = []
    for rule in assignees:
        if rule.user:
            names.append(rule.user)
        elif rule.role:
            names.extend(members_of_role(session, rule.role))
        elif rule.department_head:
            names.append(head_of(session, rule.department_head) or "")
        elif rule.manager:
            names.append(manager_of(session, submitter) or "")
        elif rule.field:
            value = data.get(rule.field)
            names.append(value if isinstance(value, str) else "")
    wanted = list(dict.fromkeys(n for n in names if n))
    active = active_among(session, wanted)
    return [name for name in wanted if name in active]
