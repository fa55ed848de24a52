"""Tmall (TOP trade objects), JD (pop order search) and Douyin (shop orders) payloads."""

from __future__ import annotations

from .. import calendar as cal
from .. import catalog
from ..customers import format_phone
from ..orders import Order
from .api import OrderApiWriter
from .common import yuan

SHOP_NICK = "OpsLake家居旗舰店"


def _address(o: Order) -> tuple[str, str, str]:
    prov = catalog.PROVINCES[o.province]
    n = int(o.order_id[-6:]) if o.order_id[-6:].isdigit() else o.no
    district = catalog.DISTRICTS[n % len(catalog.DISTRICTS)]
    street = catalog.STREETS[n // 7 % len(catalog.STREETS)]
    detail = f"{street}{n % 300 + 1}号{n % 20 + 1}栋{n % 30 + 1}0{n % 4 + 1}室"
    return prov.name, district, detail


class TmallWriter(OrderApiWriter):
    """`taobao.trade.fullinfo.get`-style trade objects (what the increment API returns)."""

    channel = "tmall"
    rel = "marketplaces/tmall/trades.jsonl"
    STATUS = {
        "unpaid": "WAIT_BUYER_PAY",
        "paid": "WAIT_SELLER_SEND_GOODS",
        "shipped": "WAIT_BUYER_CONFIRM_GOODS",
        "finished": "TRADE_FINISHED",
        "refunded": "TRADE_CLOSED",
        "closed": "TRADE_CLOSED_BY_TAOBAO",
    }

    def status_of(self, rec: dict) -> str:
        return rec["status"]

    def record(self, o: Order, phase: str, ts: int) -> dict:
        people = self.people
        tid = int(o.order_id)
        status = self.STATUS[phase]
        prov, district, detail = _address(o)
        name = people.name(o.person)
        rec: dict = {
            "tid": tid,
            "tid_str": o.order_id,
            "status": status,
            "type": "fixed",
            "created": cal.fmt(o.created),
            "modified": cal.fmt(ts),
        }
        if o.paid is not None and o.paid <= ts:
            rec["pay_time"] = cal.fmt(o.paid)
        if o.shipped is not None and o.shipped <= ts:
            rec["consign_time"] = cal.fmt(o.shipped)
        if phase in ("finished", "refunded", "closed"):
            rec["end_time"] = cal.fmt(ts)
        goods, disc, post = o.goods, o.discount, o.post_fee
        paid = phase not in ("unpaid", "closed")
        rec.update(
            {
                "total_fee": yuan(goods),
                "discount_fee": yuan(disc),
                "adjust_fee": "0.00",
                "post_fee": yuan(post),
                "payment": yuan(goods - disc + post),
                "received_payment": yuan(goods - disc + post if phase == "finished" else 0),
                "buyer_nick": name[0] + "**",
                "buyer_open_uid": f"AAH{(o.person * 2654435761) % 16**12:012x}",
                "seller_nick": SHOP_NICK,
                "receiver_name": name,
                "receiver_state": prov,
                "receiver_city": o.city + ("" if o.city == prov else "市"),
                "receiver_district": district,
                "receiver_town": "",
                "receiver_address": detail,
                "receiver_zip": catalog.PROVINCES[o.province].zip_prefix + "0000",
                "receiver_mobile": format_phone(people.phone(o.person), "tmall"),
                "num": sum(q for _, q, _, _ in o.lines),
            }
        )
        lines = []
        single = len(o.lines) == 1
        for k, (p, qty, price, d) in enumerate(o.lines):
            prod = self.products[p]
            num_iid, sku_id, outer = prod.channel_codes["tmall"]
            oid = tid if single else tid + k + 1
            net = qty * price - d
            line = {
                "oid": oid,
                "oid_str": str(oid),
                "num_iid": int(num_iid),
                "sku_id": sku_id,
                "outer_iid": outer[:7],
                "outer_sku_id": outer,
                "title": f"{catalog.BRAND} {prod.name.split(' ')[0]} {prod.spec}",
                "sku_properties_name": f"颜色分类:{prod.color};规格:{prod.spec}",
                "num": qty,
                "price": yuan(price),
                "total_fee": yuan(net),
                "payment": yuan(net if paid else 0),
                "discount_fee": yuan(d),
                "adjust_fee": "0.00",
                "divide_order_fee": yuan(net),
                "part_mjz_discount": "0.00",
                "status": status,
                "refund_status": "SUCCESS" if phase == "refunded" else "NO_REFUND",
            }
            if phase == "refunded":
                line["refund_id"] = str(tid // 1000 + k)
            lines.append(line)
        rec["orders"] = {"order": lines}
        return rec


class JdWriter(OrderApiWriter):
    """`jingdong.pop.order.search` orderInfoList items."""

    channel = "jd"
    rel = "marketplaces/jd/orders.jsonl"
    STATUS = {
        "paid": "WAIT_SELLER_STOCK_OUT",
        "shipped": "WAIT_GOODS_RECEIVE_CONFIRM",
        "finished": "FINISHED_L",
        "refunded": "TRADE_CANCELED",
        "unpaid": "WAIT_SELLER_STOCK_OUT",
        "closed": "TRADE_CANCELED",
    }
    REMARK = {
        "WAIT_SELLER_STOCK_OUT": "等待出库",
        "WAIT_GOODS_RECEIVE_CONFIRM": "等待确认收货",
        "FINISHED_L": "完成",
        "TRADE_CANCELED": "取消",
    }

    def status_of(self, rec: dict) -> str:
        return rec["orderState"]

    def record(self, o: Order, phase: str, ts: int) -> dict:
        people = self.people
        state = self.STATUS[phase]
        prov, district, detail = _address(o)
        goods, disc, post = o.goods, o.discount, o.post_fee
        # JD leaves unset dates as a zero date (pitfall)
        unset = "0001-01-01 00:00:00" if int(o.order_id) % 3 else "1970-01-01 00:00:00"
        rec = {
            "orderId": o.order_id,
            "venderId": "10138866",
            "orderType": "22",
            "orderState": state,
            "orderStateRemark": self.REMARK[state],
            "payType": "4-在线支付",
            "orderTotalPrice": yuan(goods),
            "orderSellerPrice": yuan(goods - disc),
            "orderPayment": yuan(goods - disc + post),
            "freightPrice": yuan(post),
            "sellerDiscount": yuan(disc),
            "orderStartTime": cal.fmt(o.created),
            "paymentConfirmTime": cal.fmt(o.paid) if o.paid is not None else unset,
            "orderEndTime": cal.fmt(ts) if phase in ("finished", "refunded") else unset,
            "modified": cal.fmt(ts),
            "orderRemark": "",
            "venderRemark": "",
            "consigneeInfo": {
                "fullname": people.name(o.person),
                "mobile": format_phone(people.phone(o.person), "jd"),
                "telephone": "",
                "province": prov,
                "city": o.city,
                "county": district,
                "fullAddress": f"{prov}{o.city}{district}{detail}",
            },
            "couponDetailList": (
                [{"couponType": "20-套装优惠", "couponPrice": yuan(disc)}] if disc else []
            ),
            "itemInfoList": [
                {
                    "skuId": self.products[p].channel_codes["jd"][1],
                    "outerSkuId": self.products[p].channel_codes["jd"][2],
                    "skuName": f"{catalog.BRAND} {self.products[p].name}",
                    "wareId": self.products[p].channel_codes["jd"][0],
                    "jdPrice": yuan(price),
                    "itemTotal": str(qty),
                    "giftPoint": "0",
                    "productNo": "",
                }
                for p, qty, price, _ in o.lines
            ],
        }
        return rec


class DouyinWriter(OrderApiWriter):
    """`order.searchList` shop_order_list items: money in integer fen, times Unix seconds."""

    channel = "douyin"
    rel = "marketplaces/douyin/orders.jsonl"
    STATUS = {
        "unpaid": (1, "待支付"),
        "paid": (2, "待发货"),
        "shipped": (3, "已发货"),
        "finished": (5, "已完成"),
        "refunded": (4, "已关闭"),
        "closed": (4, "已关闭"),
    }

    def status_of(self, rec: dict) -> str:
        return str(rec["order_status"])

    def record(self, o: Order, phase: str, ts: int) -> dict:
        people = self.people
        code, desc = self.STATUS[phase]
        prov, district, detail = _address(o)
        pidx = o.province
        goods, disc, post = o.goods, o.discount, o.post_fee
        platform = disc // 4  # a quarter of the discount is a platform subsidy
        u = cal.utc_seconds
        paid = o.paid is not None and o.paid <= ts
        after_sale = {
            "after_sale_status": 12 if phase == "refunded" else 0,
            "after_sale_type": (2 if o.shipped is None else 1) if phase == "refunded" else 0,
            "refund_status": 3 if phase == "refunded" else 0,
        }
        lines = []
        for k, (p, qty, price, d) in enumerate(o.lines):
            prod = self.products[p]
            product_id, sku_id, code_ = prod.channel_codes["douyin"]
            lines.append(
                {
                    "order_id": str(int(o.order_id) + k + 1),
                    "parent_order_id": o.order_id,
                    "product_id": int(product_id),
                    "product_id_str": product_id,
                    "sku_id": int(sku_id),
                    "code": code_,
                    "out_sku_id": code_,
                    "out_product_id": code_[:6],
                    "product_name": f"{catalog.BRAND}{prod.name.split(' ')[0]}",
                    "spec": [
                        {"name": "颜色", "value": prod.color},
                        {"name": "规格", "value": prod.spec},
                    ],
                    "item_num": qty,
                    "origin_amount": price,
                    "sum_amount": price * qty,
                    "goods_price": price,
                    "pay_amount": price * qty - d if paid else 0,
                    "order_amount": price * qty - d,
                    "post_amount": 0,
                    "order_status": code,
                    "after_sale_info": after_sale,
                }
            )
        rec = {
            "order_id": o.order_id,
            "order_status": code,
            "order_status_desc": desc,
            "main_status": code,
            "main_status_desc": desc,
            "create_time": u(o.created),
            "update_time": u(ts),
            "pay_time": u(o.paid) if paid else 0,
            "ship_time": u(o.shipped) if o.shipped is not None and o.shipped <= ts else 0,
            "finish_time": u(ts) if phase in ("finished", "refunded", "closed") else 0,
            "exp_ship_time": u(o.created + 48 * 3600),
            "order_amount": goods - disc + post,
            "pay_amount": goods - disc + post if paid else 0,
            "post_amount": post,
            "promotion_amount": disc,
            "promotion_shop_amount": disc - platform,
            "promotion_platform_amount": platform,
            "modify_amount": 0,
            "post_receiver": people.name(o.person),
            "post_tel": format_phone(people.phone(o.person), "douyin"),
            "post_addr": {
                "province": {"name": prov, "id": f"{pidx + 11:02d}"},
                "city": {
                    "name": o.city + ("" if o.city == prov else "市"),
                    "id": f"{pidx + 11:02d}01",
                },
                "town": {"name": district, "id": f"{pidx + 11:02d}0101"},
                "street": {"name": "", "id": ""},
                "detail": detail,
            },
            "logistics_info": (
                [
                    {
                        "tracking_no": f"SF{o.order_id[-12:]}",
                        "company": "shunfeng",
                        "company_name": "顺丰速运",
                        "ship_time": u(o.shipped),
                    }
                ]
                if o.shipped is not None and o.shipped <= ts
                else []
            ),
            "sku_order_list": lines,
        }
        return rec
