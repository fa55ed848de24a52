"""Automatic review of a new order: the configured checks (expressions) over the order
and each line. The result is the list of failed checks, each with its message in both
languages; an empty list means the order passes into the allocation queue."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from apps.ops.core.expressions import ExpressionError, evaluate
from apps.ops.oms.config import Check, OmsConfig
from apps.ops.rules.channels import render

ListPrice = Callable[[str], Decimal | None]


def _failure(check: Check, names: dict[str, Any]) -> dict[str, Any]:
    return {
        "check": check.name,
        "message": {lang: render(text, names) for lang, text in check.message.items()},
    }


def _passes(check: Check, names: dict[str, Any]) -> bool:
    try:
        return bool(evaluate(check.rule, names))
    except ExpressionError:
        return False  # a check that cannot be evaluated holds the order for a person


def review_order(
    config: OmsConfig, order: dict[str, Any], lines: list[dict[str, Any]], list_price: ListPrice
) -> list[dict[str, Any]]:
    params = config.review_params()
    quantities = [int(line["quantity"]) for line in lines]
    amount = sum(
        (Decimal(str(line["unit_price"])) * int(line["quantity"]) for line in lines), Decimal(0)
    )
    names = {
        **params,
        **{k: order.get(k) or "" for k in ("channel", "customer_name", "phone", "province")},
        **{k: order.get(k) or "" for k in ("city", "address")},
        "total_amount": amount,
        "total_quantity": sum(quantities),
        "line_count": len(lines),
    }
    prices: dict[str, Decimal | None] = {}  # one look-up per SKU
    failures = []
    for check in config.review.checks:
        if not check.each_line:
            if not _passes(check, names):
                failures.append(_failure(check, names))
            continue
        for line in lines:
            line_names = {
                **names,
                "sku": line["sku"],
                "quantity": int(line["quantity"]),
                "unit_price": Decimal(str(line["unit_price"])),
                "list_price": prices[line["sku"]]
                if line["sku"] in prices
                else prices.setdefault(line["sku"], list_price(line["sku"])),
            }
            if not _passes(check, line_names):
                failures.append(_failure(check, line_names))
    return failures
