"""Notification channels: in-app rows, e-mail over SMTP (stdlib), webhooks (httpx).

The webhook body is the text-message shape DingTalk and WeCom group bots accept:
``{"msgtype": "text", "text": {"content": "..."}}``.
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy.orm import Session

from apps.ops.models import Notification, utcnow
from apps.ops.org.tree import members_of_role, user_by_name

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, names: dict[str, Any]) -> str:
    """Replace ``{name}`` by the value; no attribute access, no format specs, no code."""
    return _PLACEHOLDER.sub(lambda m: "" if names.get(m[1]) is None else str(names[m[1]]), template)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    timeout: float = 10.0


def usernames(session: Session, targets: list[str]) -> list[str]:
    names: list[str] = []
    for target in targets:
        if target.startswith("role:"):
            names.extend(members_of_role(session, target.removeprefix("role:")))
        elif "@" not in target:
            names.append(target)
    return list(dict.fromkeys(names))


def addresses(session: Session, targets: list[str]) -> list[str]:
    found: list[str] = [t for t in targets if "@" in t]
    for name in usernames(session, targets):
        user = user_by_name(session, name)
        if user is not None and user.email:
            found.append(user.email)
    return list(dict.fromkeys(found))


def in_app(session: Session, targets: list[str], title: str, body: str) -> int:
    names = usernames(session, targets)
    for name in names:
        session.add(Notification(username=name, title=title[:300], body=body, created_at=utcnow()))
    return len(names)


def send_email(config: SmtpConfig, to: list[str], subject: str, body: str) -> None:
    if not to:
        raise ValueError("no e-mail address to send to")
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body or subject)
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        smtp.send_message(message)


def post_webhook(url: str, title: str, body: str) -> None:
    content = f"{title}\n{body}".strip()
    response = httpx.post(url, json={"msgtype": "text", "text": {"content": content}}, timeout=10)
    response.raise_for_status()
    answer = response.json() if "json" in response.headers.get("content-type", "") else {}
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):  # DingTalk/WeCom
        raise RuntimeError(f"webhook answered errcode {answer.get('errcode')}: {answer}")
