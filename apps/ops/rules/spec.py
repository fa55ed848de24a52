"""The rule definition format (``rules/definitions/<name>.yaml``)::

    name: big_purchase_alert
    trigger: {event: record_created, form: purchase_request}
    condition: "amount >= 20000"
    actions:
      - {notify: {channel: in_app, to: [fd_chen], title: "大额采购 {amount}"}}
      - {notify: {channel: email, to: [chen@example.com], title: "...", body: "..."}}

Triggers: ``record_created``, ``record_updated``, ``field_changed`` (``field``, optional
``from``/``to``), ``flow_finished`` (``flow``, optional ``outcome``), ``schedule``
(``every_minutes``), ``stale`` (records of ``form`` not updated for ``days``), ``lake``
(``sql`` on a read-only lake connection, ``key`` column, ``every_minutes``).
(``event`` rather than ``on``: YAML reads a bare ``on`` as true.)
Texts are templates: ``{field}`` is replaced by the value (``str.format_map``, no code).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from apps.ops.forms.spec import NAME_PATTERN, Expression, _Strict


class Trigger(_Strict):
    event: Literal[
        "record_created",
        "record_updated",
        "field_changed",
        "flow_finished",
        "schedule",
        "stale",
        "lake",
    ]
    form: str | None = None
    field: str | None = None
    from_: Any = Field(default=None, alias="from")
    to: Any = None
    flow: str | None = None
    outcome: str | None = None
    every_minutes: float | None = Field(default=None, gt=0)
    days: float | None = Field(default=None, gt=0)
    sql: str | None = None
    key: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Trigger:
        needs = {
            "record_created": ["form"],
            "record_updated": ["form"],
            "field_changed": ["form", "field"],
            "flow_finished": ["flow"],
            "schedule": ["every_minutes"],
            "stale": ["form", "days"],
            "lake": ["sql", "key"],
        }[self.event]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"trigger {self.event} needs {', '.join(missing)}")
        return self

    @property
    def polled(self) -> bool:
        return self.event in ("schedule", "stale", "lake")


class Notify(_Strict):
    channel: Literal["in_app", "email", "webhook"]
    to: list[str] = Field(default_factory=list, description="usernames, roles (role:x), addresses")
    url: str | None = None
    title: str = ""
    body: str = ""


class Action(_Strict):
    notify: Notify | None = None
    create_record: dict[str, Any] | None = Field(
        default=None, description="{form: name, data: {field: template}}"
    )
    update_record: dict[str, Any] | None = Field(
        default=None, description="{set: {field: template}} on the triggering record"
    )
    start_flow: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Action:
        given = [k for k, v in self.model_dump().items() if v is not None]
        if len(given) != 1:
            raise ValueError(
                "an action is exactly one of notify, create_record, update_record, start_flow"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self.model_dump().items() if v is not None)


class RuleSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    enabled: bool = True
    trigger: Trigger
    condition: Expression | None = None
    actions: list[Action] = Field(min_length=1)
