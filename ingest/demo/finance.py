"""The books, as a Kingdee KIS-style export (Chinese headers, dot-separated account codes,
UTF-8 with BOM as Excel-friendly exports are): `finance/accounts.csv` (chart of accounts,
企业会计准则 level-1 codes with company sub-accounts), `finance/gl_vouchers.csv` (one row
per voucher entry; every voucher balances), `finance/ar_invoices.csv` (B2B invoices; some
customers pay late) and `finance/ap_invoices.csv` (supplier invoices per goods receipt).

Sales are booked once a month per channel on the month's last day: Dr 1122 gross (VAT
included), Cr 6001.0x revenue = round(gross / 1.13), Cr 2221.01.02 output VAT = the rest.
"Gross" is the net merchandise value (after discounts, before shipping) of the orders
created that month and paid by the window's end, i.e. the truth's order revenue, except
that the books also hold the POS/Excel rows the exports garbled (see the tie in truth).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from . import calendar as cal
from .catalog import CHANNELS, SUPPLIERS
from .customers import Account
from .writers.common import CsvOut, Manifest, to_yuan, write_csv, yuan

ENC = "utf-8-sig"
VAT = 0.13
ACCOUNTS = [
    ("1001", "库存现金", "资产", "借"),
    ("1002", "银行存款", "资产", "借"),
    ("1122", "应收账款", "资产", "借"),
    ("1123", "预付账款", "资产", "借"),
    ("1403", "原材料", "资产", "借"),
    ("1405", "库存商品", "资产", "借"),
    ("1601", "固定资产", "资产", "借"),
    ("1602", "累计折旧", "资产", "贷"),
    ("2202", "应付账款", "负债", "贷"),
    ("2211", "应付职工薪酬", "负债", "贷"),
    ("2221", "应交税费", "负债", "贷"),
    ("2221.01", "应交增值税", "负债", "贷"),
    ("2221.01.01", "进项税额", "负债", "贷"),
    ("2221.01.02", "销项税额", "负债", "贷"),
    ("4103", "本年利润", "权益", "贷"),
    ("5001", "生产成本", "成本", "借"),
    ("6001", "主营业务收入", "损益", "贷"),
    ("6001.01", "天猫平台收入", "损益", "贷"),
    ("6001.02", "京东平台收入", "损益", "贷"),
    ("6001.03", "抖音平台收入", "损益", "贷"),
    ("6001.04", "官网商城收入", "损益", "贷"),
    ("6001.05", "门店零售收入", "损益", "贷"),
    ("6001.06", "大客户销售收入", "损益", "贷"),
    ("6401", "主营业务成本", "损益", "借"),
    ("6601", "销售费用", "损益", "借"),
    ("6601.01", "平台佣金及手续费", "损益", "借"),
    ("6601.02", "销售人员薪酬", "损益", "借"),
    ("6602", "管理费用", "损益", "借"),
    ("6602.01", "管理人员薪酬", "损益", "借"),
    ("6602.02", "折旧费", "损益", "借"),
]
NAMES = {a[0]: a[1] for a in ACCOUNTS}
REVENUE_ACCOUNT = {
    "tmall": "6001.01",
    "jd": "6001.02",
    "douyin": "6001.03",
    "shopify": "6001.04",
    "pos": "6001.05",
    "manual": "6001.06",
}
COMMISSION = {
    "tmall": 0.05,
    "jd": 0.06,
    "douyin": 0.08,
    "shopify": 0.02,
    "pos": 0.006,
    "manual": 0.0,
}
HEADER = [
    "日期",
    "会计期间",
    "凭证字",
    "凭证号",
    "附件数",
    "分录序号",
    "摘要",
    "科目代码",
    "科目名称",
    "借方金额",
    "贷方金额",
    "客户",
    "供应商",
    "职员",
    "项目",
    "部门",
    "币别",
    "汇率",
]


def _month_end(month: str) -> int:
    return max(i for i in range(cal.DAYS) if cal.day_str(i)[:7] == month)


class Journal:
    def __init__(self) -> None:
        self.vouchers: list[tuple[int, int, list[tuple]]] = []

    def add(self, day: int, entries: list[tuple], attachments: int = 1) -> None:
        """entries: (摘要, account, debit fen, credit fen, aux dict)."""
        entries = [e for e in entries if e[2] or e[3]]
        if not entries:
            return
        assert sum(e[2] for e in entries) == sum(e[3] for e in entries), entries
        self.vouchers.append((day, attachments, entries))

    def write(self, manifest: Manifest) -> dict:
        out = CsvOut(manifest, "finance/gl_vouchers.csv", HEADER, ENC)
        numbers: Counter = Counter()
        for day, att, entries in sorted(self.vouchers, key=lambda v: v[0]):
            ds = cal.day_str(day)
            numbers[ds[:7]] += 1
            for k, (summary, acct, dr, cr, aux) in enumerate(entries, start=1):
                out.row(
                    [
                        ds,
                        f"{ds[:4]}.{int(ds[5:7])}",
                        "记",
                        numbers[ds[:7]],
                        att,
                        k,
                        summary,
                        acct,
                        NAMES[acct],
                        yuan(dr) if dr else "",
                        yuan(cr) if cr else "",
                        aux.get("customer", ""),
                        aux.get("supplier", ""),
                        aux.get("person", ""),
                        aux.get("project", ""),
                        aux.get("dept", ""),
                        "人民币",
                        "1",
                    ]
                )
        out.close()
        return {"vouchers": len(self.vouchers), "entries": out.rows}


def write_finance(
    manifest: Manifest,
    seed: int,
    *,
    sales: dict[str, Counter],
    refunds: dict[str, Counter],
    cogs: Counter,
    return_cost: Counter,
    production_cost: Counter,
    payroll: dict[str, Counter],
    ar_orders: list[tuple[str, Account, int, int]],
    receipts: list[dict],
    po_prices: dict[tuple[str, int], int],
) -> dict:
    rng = random.Random(f"{seed}:finance")
    write_csv(
        manifest,
        "finance/accounts.csv",
        ["科目代码", "科目名称", "科目类别", "余额方向", "级次", "上级科目"],
        [
            [c, n, t, d, c.count(".") + 1, c.rsplit(".", 1)[0] if "." in c else ""]
            for c, n, t, d in ACCOUNTS
        ],
        ENC,
    )
    j = Journal()
    months = cal.months()
    gl_sales: dict[str, dict[str, int]] = defaultdict(dict)
    for month in months:
        end = _month_end(month)
        for ch, info in CHANNELS.items():
            gross = sales[ch].get(month, 0)
            aux = {"customer": info.name, "dept": "销售中心"}
            if gross:
                rev = round(gross / (1 + VAT))
                gl_sales[ch][month] = gross
                j.add(
                    end,
                    [
                        (f"{month} {info.name}销售收入", "1122", gross, 0, aux),
                        (f"{month} {info.name}销售收入", REVENUE_ACCOUNT[ch], 0, rev, aux),
                        (f"{month} {info.name}销项税", "2221.01.02", 0, gross - rev, aux),
                    ],
                    attachments=3,
                )
            ref = refunds[ch].get(month, 0)
            if ref:
                rev = round(ref / (1 + VAT))
                j.add(
                    end,
                    [
                        (f"{month} {info.name}销售退回", REVENUE_ACCOUNT[ch], rev, 0, aux),
                        (f"{month} {info.name}销售退回", "2221.01.02", ref - rev, 0, aux),
                        (f"{month} {info.name}销售退回", "1122", 0, ref, aux),
                    ],
                )
            fee = round((gross - ref) * COMMISSION[ch])
            if ch != "manual" and gross:
                j.add(
                    end,
                    [
                        (f"{month} {info.name}平台佣金/手续费", "6601.01", fee, 0, aux),
                        (f"{month} {info.name}平台佣金/手续费", "1122", 0, fee, aux),
                    ],
                )
                settle = gross - ref - fee
                if settle > 0:
                    j.add(
                        end,
                        [
                            (f"{month} {info.name}平台结算回款", "1002", settle, 0, aux),
                            (f"{month} {info.name}平台结算回款", "1122", 0, settle, aux),
                        ],
                    )
        net_cogs = cogs.get(month, 0) - return_cost.get(month, 0)
        if net_cogs:
            j.add(
                end,
                [
                    (f"{month} 结转销售成本", "6401", net_cogs, 0, {}),
                    (f"{month} 结转销售成本", "1405", 0, net_cogs, {}),
                ],
            )
        pc = production_cost.get(month, 0)
        if pc:
            j.add(
                end,
                [
                    (f"{month} 完工产品入库", "1405", pc, 0, {"dept": "生产部"}),
                    (f"{month} 完工产品入库", "5001", 0, pc, {"dept": "生产部"}),
                ],
            )
        pay = payroll.get(month)
        if pay:
            total = sum(pay.values())
            j.add(
                end,
                [
                    (f"{month} 计提工资", "6601.02", pay.get("sales", 0), 0, {"dept": "销售中心"}),
                    (f"{month} 计提工资", "6602.01", pay.get("admin", 0), 0, {"dept": "管理部门"}),
                    (f"{month} 计提工资", "5001", pay.get("production", 0), 0, {"dept": "生产部"}),
                    (f"{month} 计提工资", "2211", 0, total, {}),
                ],
            )
            pay_day = end + 10
            if pay_day < cal.DAYS:
                j.add(
                    pay_day,
                    [
                        (f"发放{month}工资", "2211", total, 0, {}),
                        (f"发放{month}工资", "1002", 0, total, {}),
                    ],
                )
        j.add(
            end,
            [
                (f"{month} 计提折旧", "6602.02", 3_860_000, 0, {}),
                (f"{month} 计提折旧", "1602", 0, 3_860_000, {}),
            ],
        )

    # AR: one invoice per shipped B2B order
    ar = CsvOut(
        manifest,
        "finance/ar_invoices.csv",
        [
            "单据编号",
            "客户编码",
            "客户名称",
            "源单编号",
            "业务日期",
            "到期日",
            "币别",
            "价税合计",
            "税额",
            "已收金额",
            "收款日期",
            "状态",
        ],
        ENC,
    )
    ar_stats = Counter()
    overdue_amount = 0
    late_accounts: set[str] = set()
    for k, (order_id, acc, day, gross) in enumerate(ar_orders, start=1):
        due_day = day + acc.terms_days
        paid_day = due_day + rng.randint(*acc.pay_delay)
        tax = gross - round(gross / (1 + VAT))
        if paid_day < cal.DAYS:
            status = "已收款"
            ar_stats["paid_late" if paid_day > due_day else "paid_on_time"] += 1
            if paid_day > due_day + 15:
                late_accounts.add(acc.code)
            j.add(
                paid_day,
                [
                    (f"收{acc.name}货款", "1002", gross, 0, {"customer": acc.name}),
                    (f"收{acc.name}货款", "1122", 0, gross, {"customer": acc.name}),
                ],
            )
        elif due_day < cal.DAYS - 1:
            status = "逾期"
            ar_stats["overdue_at_end"] += 1
            overdue_amount += gross
        else:
            status = "未到期"
            ar_stats["open_not_due"] += 1
        ar.row(
            [
                f"AR{k:07d}",
                acc.code,
                acc.name,
                order_id,
                cal.day_str(day),
                cal.day_str(due_day),
                "人民币",
                yuan(gross),
                yuan(tax),
                yuan(gross) if status == "已收款" else "0.00",
                cal.day_str(paid_day) if status == "已收款" else "",
                status,
            ]
        )
    ar.close()

    # AP: one supplier invoice per goods receipt (accepted qty at the PO price, + VAT)
    ap = CsvOut(
        manifest,
        "finance/ap_invoices.csv",
        [
            "单据编号",
            "供应商编码",
            "供应商名称",
            "源单编号",
            "业务日期",
            "到期日",
            "币别",
            "价税合计",
            "税额",
            "已付金额",
            "付款日期",
            "状态",
        ],
        ENC,
    )
    sup = {s.code: s for s in SUPPLIERS}
    ap_stats = Counter()
    for k, r in enumerate(receipts, start=1):
        if not r["qty_accepted"]:
            continue
        s = sup[r["supplier"]]
        net = r["qty_accepted"] * po_prices[(r["po_no"], r["line_no"])]
        tax = round(net * VAT)
        day = min(cal.DAYS - 1, r["day"] + rng.randint(0, 5))
        due_day = day + s.terms_days
        paid_day = due_day + (rng.randint(5, 30) if rng.random() < 0.12 else -rng.randint(0, 3))
        aux = {"supplier": s.name}
        j.add(
            day,
            [
                (f"{s.name}采购入库", "1405", net, 0, aux),
                (f"{s.name}采购入库", "2221.01.01", tax, 0, aux),
                (f"{s.name}采购入库", "2202", 0, net + tax, aux),
            ],
        )
        if paid_day < cal.DAYS:
            status = "已付款"
            j.add(
                paid_day,
                [
                    (f"付{s.name}货款", "2202", net + tax, 0, aux),
                    (f"付{s.name}货款", "1002", 0, net + tax, aux),
                ],
            )
        else:
            status = "未付款"
        ap_stats[status] += 1
        ap.row(
            [
                f"AP{k:07d}",
                s.code,
                s.name,
                r["receipt_no"],
                cal.day_str(day),
                cal.day_str(due_day),
                "人民币",
                yuan(net + tax),
                yuan(tax),
                yuan(net + tax) if status == "已付款" else "0.00",
                cal.day_str(paid_day) if status == "已付款" else "",
                status,
            ]
        )
    ap.close()
    gl = j.write(manifest)
    return {
        **gl,
        "encoding": ENC,
        "vat_rate": VAT,
        "gl_sales_gross_by_month_channel": {
            ch: {m: to_yuan(v) for m, v in sorted(gl_sales[ch].items())} for ch in CHANNELS
        },
        "ar_invoices": ar.rows,
        "ar_status": dict(sorted(ar_stats.items())),
        "ar_overdue_amount_at_end": to_yuan(overdue_amount),
        "ar_late_payer_accounts": sorted(late_accounts),
        "ap_invoices": ap.rows,
        "ap_status": dict(sorted(ap_stats.items())),
    }
