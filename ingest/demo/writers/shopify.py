"""Shopify Admin REST order JSON (the web shop; currency CNY, prices include 13 % VAT)."""

from __future__ import annotations

from .. import calendar as cal
from .. import catalog
from ..customers import format_phone
from ..orders import Order
from .api import OrderApiWriter
from .common import yuan

VAT = 0.13


def _tax(gross_fen: int) -> int:
    return gross_fen - round(gross_fen / (1 + VAT))


class ShopifyWriter(OrderApiWriter):
    channel = "shopify"
    rel = "shopify/orders.jsonl"

    def status_of(self, rec: dict) -> str:
        return f"{rec['financial_status']}/{rec['fulfillment_status'] or 'unfulfilled'}"

    def record(self, o: Order, phase: str, ts: int) -> dict:
        people = self.people
        oid = int(o.order_id)
        goods, disc, post = o.goods, o.discount, o.post_fee
        net = goods - disc
        financial = {
            "unpaid": "pending",
            "closed": "voided",
            "refunded": "refunded",
        }.get(phase, "paid")
        shipped = o.shipped is not None and o.shipped <= ts
        prov = catalog.PROVINCES[o.province]
        name = people.name(o.person)
        phone = format_phone(people.phone(o.person), "shopify")
        email = people.email(o.person)
        cancelled = phase == "closed" or (phase == "refunded" and o.shipped is None)
        rec: dict = {
            "id": oid,
            "name": f"#{1000 + o.no}",
            "order_number": 1000 + o.no,
            "email": email or "",
            "phone": phone,
            "created_at": cal.fmt_iso(o.created),
            "updated_at": cal.fmt_iso(ts),
            "processed_at": cal.fmt_iso(o.created),
            "cancelled_at": cal.fmt_iso(ts) if cancelled else None,
            "cancel_reason": "customer" if cancelled else None,
            "closed_at": cal.fmt_iso(ts) if phase in ("finished", "refunded", "closed") else None,
            "currency": "CNY",
            "presentment_currency": "CNY",
            "taxes_included": True,
            "financial_status": financial,
            "fulfillment_status": "fulfilled" if shipped else None,
            "total_line_items_price": yuan(goods),
            "total_discounts": yuan(disc),
            "subtotal_price": yuan(net),
            "total_shipping_price_set": {
                "shop_money": {"amount": yuan(post), "currency_code": "CNY"}
            },
            "total_tax": yuan(_tax(net)),
            "total_price": yuan(net + post),
            "source_name": "web",
            "tags": "",
            "customer": {
                "id": 6_100_000_000_000 + o.person,
                "email": email,
                "phone": phone,
                "first_name": name[1:],
                "last_name": name[0],
            },
            "shipping_address": {
                "name": name,
                "phone": phone,
                "address1": f"{o.city}{catalog.STREETS[o.no % len(catalog.STREETS)]}{o.no % 300}号",
                "city": o.city,
                "province": prov.name,
                "province_code": prov.code,
                "zip": prov.zip_prefix + "0000",
                "country": "China",
                "country_code": "CN",
            },
            "line_items": [],
            "refunds": [],
        }
        for k, (p, qty, price, d) in enumerate(o.lines):
            prod = self.products[p]
            product_id, variant_id, sku = prod.channel_codes["shopify"]
            line_net = qty * price - d
            rec["line_items"].append(
                {
                    "id": 14_000_000_000_000 + (oid % 10_000_000_000) * 10 + k,
                    "product_id": int(product_id),
                    "variant_id": int(variant_id),
                    "sku": sku,
                    "title": f"{catalog.BRAND} {prod.name.split(' ')[0]}",
                    "variant_title": f"{prod.spec} / {prod.color}",
                    "quantity": qty,
                    "price": yuan(price),
                    "total_discount": yuan(d),
                    "fulfillment_status": "fulfilled" if shipped else None,
                    "tax_lines": [{"title": "VAT", "rate": VAT, "price": yuan(_tax(line_net))}],
                }
            )
        if phase == "refunded":
            rec["refunds"].append(
                {
                    "id": 9_100_000_000_000 + oid % 100_000_000_000,
                    "created_at": cal.fmt_iso(ts),
                    "note": "退货退款" if o.shipped is not None else "未发货退款",
                    "transactions": [
                        {
                            "kind": "refund",
                            "status": "success",
                            "amount": yuan(net + post),
                            "currency": "CNY",
                        }
                    ],
                }
            )
        return rec
