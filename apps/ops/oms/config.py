"""The OMS configuration (``oms.yaml`` beside this file, or another file): warehouses and
their regions, channels, review checks. Checked with pydantic when it is read."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from apps.ops.forms.spec import Expression, Localized, _Strict

DEFAULT_CONFIG = Path(__file__).resolve().parent / "oms.yaml"


class Warehouse(_Strict):
    code: str = Field(min_length=1, max_length=32)
    priority: int = 100
    regions: list[str] = Field(default_factory=list)


class Channel(_Strict):
    warehouses: list[str] = Field(min_length=1)
    share: float = Field(default=1.0, gt=0, le=1)
    buffer: int = Field(default=0, ge=0)


class Carrier(_Strict):
    tracking_url: str = Field(pattern=r"^https?://")


class Check(_Strict):
    name: str
    rule: Expression
    message: Localized
    each_line: bool = False


class Review(_Strict):
    params: dict[str, Any] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)


class OmsConfig(_Strict):
    warehouses: list[Warehouse] = Field(min_length=1)
    channels: dict[str, Channel] = Field(default_factory=dict)
    carriers: dict[str, Carrier] = Field(default_factory=dict)
    review: Review = Field(default_factory=Review)
    lake_orders_sql: str | None = None

    def ranked_warehouses(self, province: str) -> list[str]:
        """Warehouses serving the province first, then the others; each by priority."""

        def key(w: Warehouse) -> tuple[int, int]:
            serves = any(province.startswith(r) or r in province for r in w.regions if r)
            return (0 if serves else 1, w.priority)

        return [w.code for w in sorted(self.warehouses, key=key)]

    def review_params(self) -> dict[str, Any]:
        return {
            k: Decimal(str(v)) if isinstance(v, float) else v for k, v in self.review.params.items()
        }


def read_config(path: Path = DEFAULT_CONFIG) -> OmsConfig:
    return OmsConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
