"""Create departments and users from an organisation YAML file (idempotent; development
and tests). Format::

    departments:
      - {name: 采购部 Purchasing, head: pm_li, parent: 总经办 Management}
    users:
      - {username: buyer_wang, display_name: 王采购, roles: [buyer], department: 采购部 Purchasing,
         email: wang@example.com}
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from apps.ops.core.security import hash_password
from apps.ops.models import Department, User
from apps.ops.org.tree import department_by_name, user_by_name

DEMO_ORG = Path(__file__).resolve().parent / "demo.yaml"
# the actor of rule actions (apps/ops/rules/outbox.py SYSTEM); rule-created purchase requests
# are "submitted" by it, so the head of its department (purchasing) approves first
SYSTEM_USER = "rules"
SYSTEM_DEPARTMENT = "采购部 Purchasing"


def seed_org(session: Session, path: Path = DEMO_ORG) -> list[str]:
    """Create what is missing; returns the usernames created (password = username)."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in raw.get("departments", []):
        department = department_by_name(session, item["name"])
        if department is None:
            department = Department(name=item["name"])
            session.add(department)
        parent = department_by_name(session, item["parent"]) if item.get("parent") else None
        department.parent_id = parent.id if parent else None
        department.head_username = item.get("head")
        session.flush()
    created = []
    for item in raw.get("users", []):
        department = (
            department_by_name(session, item["department"]) if item.get("department") else None
        )
        existing = user_by_name(session, item["username"])
        if existing is not None:
            # users made before the org (the app's own demo logins) join their department
            if existing.department_id is None and department is not None:
                existing.department_id = department.id
            continue
        session.add(
            User(
                username=item["username"],
                display_name=item.get("display_name", item["username"]),
                password_hash=hash_password(item.get("password", item["username"])),
                roles=list(item.get("roles", [])),
                department_id=department.id if department else None,
                email=item.get("email"),
            )
        )
        created.append(item["username"])
    session.flush()
    return created


def ensure_system_user(session: Session, department: str = SYSTEM_DEPARTMENT) -> User:
    """The actor of rule actions (``rules``): inactive (cannot log in), in ``department``."""
    user = user_by_name(session, SYSTEM_USER)
    dept = department_by_name(session, department)
    if user is None:
        user = User(
            username=SYSTEM_USER,
            display_name="规则引擎 Rules",
            password_hash=hash_password(secrets.token_urlsafe(32)),
            roles=[],
            is_active=False,
            department_id=dept.id if dept else None,
        )
        session.add(user)
    elif user.department_id is None and dept is not None:
        user.department_id = dept.id
    session.flush()
    return user
