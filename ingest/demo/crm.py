"""CRM: customers (B2C members and B2B accounts, phones in the CRM's '+86 138-0013-8000'
style), B2B leads and the opportunity funnel (stages, won/lost, owners)."""

from __future__ import annotations

import random
from collections import Counter

from . import calendar as cal
from .customers import GIVEN, SURNAMES, Account, People, format_phone
from .writers.common import CsvOut, Manifest, write_csv

LEVELS = ["普通会员"] * 6 + ["银卡会员"] * 2 + ["金卡会员", "钻石会员"]  # same rule as the POS
STAGES = ["初步接洽", "需求确认", "方案报价", "商务谈判"]
SOURCES = ["展会", "官网咨询", "老客户转介绍", "电话营销", "阿里巴巴1688", "抖音企业号"]
LOST = ["价格偏高", "选择竞品", "预算取消", "交期不满足", "需求变更"]
_COMPANY = ("远大", "蓝海", "星辰", "鼎盛", "华夏", "天成", "润泽", "康达", "美嘉", "凯旋")
_KIND = ("酒店", "物业", "商贸", "礼品", "连锁超市", "月子中心", "民宿", "健身会所")


def write_crm(
    manifest: Manifest,
    seed: int,
    scale: int,
    people: People,
    accounts: list[Account],
    owners: list[str],
) -> dict:
    rng = random.Random(f"{seed}:crm")
    owners = owners or ["销售"]
    out = CsvOut(
        manifest,
        "crm/customers.csv",
        [
            "customer_id",
            "customer_type",
            "name",
            "phone",
            "email",
            "province",
            "city",
            "member_level",
            "registered_at",
            "owner",
            "credit_days",
        ],
    )
    for a in accounts:
        since = cal.day_str(a.created_day) if a.created_day else "2023-06-01"
        out.row(
            [
                a.code,
                "B2B",
                a.name,
                format_phone(people.phone(a.contact), "crm"),
                "",
                a.province,
                a.city,
                "",
                since,
                owners[int(a.code[1:]) % len(owners)],
                a.terms_days,
            ]
        )
    members = 0
    for i in range(people.n):
        if not people.is_member(i):
            continue
        members += 1
        prov = people.province_of(i)
        out.row(
            [
                f"M{i + 1:08d}",
                "B2C",
                people.name(i),
                format_phone(people.phone(i), "crm"),
                people.email(i) or "",
                prov.name,
                people.city_of(i),
                LEVELS[i % len(LEVELS)],
                cal.day_str(people.registered[i]),
                "",
                "",
            ]
        )
    out.close()

    n_leads = min(20000, max(150, scale // 40))
    leads, opps = [], []
    status_count, opp_status = Counter(), Counter()
    won_accounts = sorted((a for a in accounts if a.created_day), key=lambda a: a.created_day)
    for k in range(n_leads):
        day = int(cal.DAYS * rng.random() ** 0.8)
        age = cal.DAYS - 1 - day
        owner = owners[rng.randrange(len(owners))]
        company = (
            f"{rng.choice(('上海', '杭州', '广州', '深圳', '成都', '南京'))}"
            f"{rng.choice(_COMPANY)}{rng.choice(_KIND)}有限公司"
        )
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        r = rng.random()
        if age < 3 or r < 0.18:
            status, last = "new", day
        elif r < 0.45:
            status, last = "contacted", day + rng.randint(1, min(age, 20))
        elif r < 0.62:
            status, last = "disqualified", day + rng.randint(1, min(age, 30))
        elif r < 0.72 or age < 10:
            status, last = "qualified", day + rng.randint(1, min(age, 25))
        else:
            status, last = "converted", day + rng.randint(3, min(age, 30))
        lead_id = f"L{k + 1:06d}"
        status_count[status] += 1
        opp_id = ""
        if status == "converted":
            opp_id = f"OP{len(opps) + 1:06d}"
            created = last
            days_left = cal.DAYS - 1 - created
            cycle = rng.randint(10, 120)
            outcome = rng.random()
            stage_i = rng.randrange(len(STAGES))
            if cycle > days_left:
                st, stage, closed = "open", STAGES[min(stage_i, days_left * 4 // cycle)], None
            elif outcome < 0.38:
                st, stage, closed = "won", "赢单", created + cycle
            else:
                st, stage, closed = "lost", "输单", created + cycle
            account = ""
            if st == "won":
                near = [a for a in won_accounts if abs(a.created_day - closed) <= 45]
                account = (near[0] if near else rng.choice(accounts)).code
                if near:
                    won_accounts.remove(near[0])
            amount = round(rng.lognormvariate(10.5, 0.9), -2)
            opp_status[st] += 1
            opps.append(
                [
                    opp_id,
                    lead_id,
                    account,
                    f"{company} 家居用品采购",
                    stage,
                    st,
                    f"{amount:.2f}",
                    {"open": 40, "won": 100, "lost": 0}[st],
                    cal.day_str(created),
                    cal.day_str(created + cycle),
                    cal.day_str(closed) if closed is not None else "",
                    owner,
                    rng.choice(LOST) if st == "lost" else "",
                ]
            )
        leads.append(
            [
                lead_id,
                cal.fmt(cal.START_TS + day * 86400 + rng.randrange(9 * 3600, 18 * 3600)),
                company,
                contact,
                format_phone(f"1{rng.randrange(30, 99)}{rng.randrange(10**8):08d}", "crm"),
                rng.choice(SOURCES),
                owner,
                status,
                opp_id,
                cal.day_str(min(last, cal.DAYS - 1)),
            ]
        )
    write_csv(
        manifest,
        "crm/leads.csv",
        [
            "lead_id",
            "created_at",
            "company",
            "contact",
            "phone",
            "source",
            "owner",
            "status",
            "opportunity_id",
            "last_activity_date",
        ],
        leads,
    )
    write_csv(
        manifest,
        "crm/opportunities.csv",
        [
            "opportunity_id",
            "lead_id",
            "account_code",
            "name",
            "stage",
            "status",
            "amount",
            "probability",
            "created_date",
            "expected_close_date",
            "closed_date",
            "owner",
            "lost_reason",
        ],
        opps,
    )
    return {
        "customers": out.rows,
        "b2b_accounts": len(accounts),
        "b2c_members": members,
        "leads": len(leads),
        "lead_status": dict(sorted(status_count.items())),
        "opportunities": len(opps),
        "opportunity_status": dict(sorted(opp_status.items())),
    }
