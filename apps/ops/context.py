"""What the engines share in one app: clock, flows, rules, master-data providers, mail.

``create_app`` builds one :class:`OpsContext` (``app.state.ops``); tests build their own
with a :class:`~apps.ops.core.clock.ManualClock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from apps.ops.core.clock import Clock, SystemClock
from apps.ops.flows.engine import FlowEngine
from apps.ops.flows.spec import FlowSpec
from apps.ops.forms.providers import MasterDataProvider
from apps.ops.forms.spec import FormSpec
from apps.ops.forms.store import get_definition, spec_of
from apps.ops.forms.validation import expression_names
from apps.ops.models import FormRecord


@dataclass
class OpsContext:
    clock: Clock = field(default_factory=SystemClock)
    flows: dict[str, FlowSpec] = field(default_factory=dict)
    rules: Any = None  # apps.ops.rules.engine.RuleEngine
    providers: dict[str, MasterDataProvider] = field(default_factory=dict)
    engine: FlowEngine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = FlowEngine(self.flows, self.clock.now, form_spec=record_spec)
        self.engine.on_finished.append(self._flow_finished)

    def _flow_finished(self, session: Session, instance: Any, record: FormRecord) -> None:
        if self.rules is not None:
            self.rules.on_flow_finished(session, instance, record)


def record_spec(session: Session, record: FormRecord) -> FormSpec:
    return spec_of(get_definition(session, record.form_name, record.form_version))


def typed_values(session: Session, record: FormRecord) -> dict[str, Any]:
    """The record's values as expressions see them (money as Decimal, …)."""
    return expression_names(record.data, list(record_spec(session, record).fields))
