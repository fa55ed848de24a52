"""The flow definition format (``flows/definitions/<name>.yaml``).

A flow is a graph of nodes over the records of one form::

    name: purchase_approval
    form: purchase_request
    start: manager
    nodes:
      - {id: manager, type: approve, assignees: [{manager: true}], next: by_amount,
         timeout: {after_hours: 24, action: escalate, escalate_to: {role: general_manager}}}
      - {id: by_amount, type: condition, branches: [{when: "amount >= 5000", to: finance}],
         default: end}
      - {id: finance, type: approve, assignees: [{role: finance_director}], next: end}

Node types: ``approve`` / ``or_sign`` (any one assignee decides), ``countersign`` (every
assignee must approve), ``cc`` (notify and go on), ``condition`` (first true branch, else
``default``). ``end`` finishes the flow as approved.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from apps.ops.forms.spec import NAME_PATTERN, Expression, Localized, _Strict

END = "end"
APPROVAL_TYPES = ("approve", "or_sign", "countersign")


class Assignee(_Strict):
    """Exactly one of: a user, every user of a role, the head of a department, the
    submitter's manager (department tree), or the user named in a field of the record."""

    user: str | None = None
    role: str | None = None
    department_head: str | None = None
    manager: bool | None = None
    field: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Assignee:
        given = [k for k, v in self.model_dump().items() if v not in (None, False)]
        if len(given) != 1:
            raise ValueError(
                "an assignee names exactly one of user, role, department_head, manager, field"
            )
        return self


class Timeout(_Strict):
    after_hours: float = Field(gt=0, le=24 * 365)
    action: Literal["remind", "escalate", "auto_approve", "auto_reject"]
    escalate_to: Assignee | None = None

    @model_validator(mode="after")
    def _check(self) -> Timeout:
        if self.action == "escalate" and self.escalate_to is None:
            raise ValueError("an escalate timeout needs escalate_to")
        return self


class Branch(_Strict):
    when: Expression
    to: str


class Node(_Strict):
    id: str = Field(pattern=NAME_PATTERN)
    type: Literal["approve", "or_sign", "countersign", "cc", "condition"]
    title: Localized | None = None
    assignees: list[Assignee] = Field(default_factory=list)
    next: str = END
    branches: list[Branch] = Field(default_factory=list)
    default: str | None = None
    timeout: Timeout | None = None

    @model_validator(mode="after")
    def _check(self) -> Node:
        if self.type == "condition" and (not self.branches or self.default is None):
            raise ValueError(f"condition node {self.id!r} needs branches and a default")
        if self.type != "condition" and not self.assignees:
            raise ValueError(f"node {self.id!r} needs assignees")
        return self

    @property
    def targets(self) -> list[str]:
        if self.type == "condition":
            return [b.to for b in self.branches] + [self.default or END]
        return [self.next]


class FlowSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: Localized
    form: str = Field(pattern=NAME_PATTERN)
    start: str
    nodes: list[Node] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> FlowSpec:
        ids = [node.id for node in self.nodes]
        if len(ids) != len(set(ids)) or END in ids:
            raise ValueError("node ids must be unique and not 'end'")
        known = set(ids) | {END}
        for target in [self.start] + [t for node in self.nodes for t in node.targets]:
            if target not in known:
                raise ValueError(f"unknown node {target!r}")
        return self

    def node(self, node_id: str) -> Node:
        return next(node for node in self.nodes if node.id == node_id)
