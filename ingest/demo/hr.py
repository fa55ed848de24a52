"""People of the company in DingTalk API shapes: `hr/departments.json` (department/list),
`hr/users.json` (topapi/v2/user/list, plus `left_date` in ms from the smart-HR 离职 records),
`hr/attendance.jsonl` (one attendance/list `recordresult` per line) and `hr/payroll.csv`.

Office staff work Monday–Friday except statutory holidays; store staff work a 5-day
rota including weekends; production works Monday–Saturday.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import calendar as cal
from .customers import GIVEN, SURNAMES, phone_digits
from .writers.common import CsvOut, Manifest, dumps, to_yuan

# id, name, parent, share of headcount, title, base monthly salary (yuan), kind
_DEPTS = [
    (1, "OpsLake家居", None, 0.0, "", 0, "office"),
    (2, "总经办", 1, 0.03, "总经理助理", 15000, "office"),
    (3, "销售中心", 1, 0.0, "", 0, "office"),
    (4, "电商运营部", 3, 0.14, "电商运营专员", 9000, "office"),
    (5, "门店零售部", 3, 0.14, "店员", 6000, "store"),
    (6, "大客户部", 3, 0.07, "客户经理", 10000, "office"),
    (7, "供应链中心", 1, 0.0, "", 0, "office"),
    (8, "采购部", 7, 0.05, "采购专员", 8500, "office"),
    (9, "仓储物流部", 7, 0.13, "仓管员", 6500, "production"),
    (10, "生产部", 1, 0.0, "", 0, "production"),
    (11, "灌装车间", 10, 0.08, "操作工", 6200, "production"),
    (12, "纺织车间", 10, 0.10, "操作工", 6000, "production"),
    (13, "品质部", 1, 0.05, "质检员", 7500, "production"),
    (14, "财务部", 1, 0.04, "会计", 9000, "office"),
    (15, "人事行政部", 1, 0.04, "人事专员", 8000, "office"),
    (16, "信息技术部", 1, 0.04, "工程师", 16000, "office"),
    (17, "产品研发部", 1, 0.05, "产品经理", 14000, "office"),
]
CORP_ID = "ding5f6a0b2c3d4e5f60"


@dataclass
class Dept:
    id: int
    name: str
    parent: int | None
    title: str
    salary: int
    kind: str
    head: str = ""
    members: list[str] = field(default_factory=list)


@dataclass
class User:
    userid: str
    name: str
    dept: int
    title: str
    salary: int  # yuan per month
    hired: date
    left: date | None
    leader: bool
    manager: str
    lateness: float  # propensity to come late
    phone: str


@dataclass
class Org:
    depts: dict[int, Dept]
    users: list[User]

    def names_in(self, dept_id: int) -> list[str]:
        return [u.name for u in self.users if u.dept == dept_id]

    def userids_in(self, *dept_ids: int) -> list[str]:
        return [u.userid for u in self.users if u.dept in dept_ids]

    def user(self, userid: str) -> User:
        return next(u for u in self.users if u.userid == userid)


def build_org(scale: int, seed: int) -> Org:
    rng = random.Random(f"{seed}:hr")
    n = min(400, max(40, 35 + scale // 1500))
    depts = {d[0]: Dept(d[0], d[1], d[2], d[4], d[5], d[6]) for d in _DEPTS}
    users: list[User] = []
    names: set[str] = set()

    def new_user(dept: Dept, title: str, salary: int, leader: bool) -> User:
        while True:
            name = (
                rng.choice(SURNAMES)
                + rng.choice(GIVEN)
                + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            )
            if name not in names:
                names.add(name)
                break
        k = len(users)
        if rng.random() < 0.8:
            hired = date(2016, 1, 1) + timedelta(
                days=rng.randrange((cal.START - date(2016, 1, 1)).days)
            )
        else:
            hired = cal.START + timedelta(days=rng.randrange(cal.DAYS - 30))
        left = None
        if not leader and rng.random() < 0.14:
            first = max(hired, cal.START) + timedelta(days=60)
            if first < cal.END:
                left = first + timedelta(days=rng.randrange(max(1, (cal.END - first).days)))
        u = User(
            userid=f"{(k * 2654435761 + 1000003) % 10**16:016d}",
            name=name,
            dept=dept.id,
            title=title,
            salary=int(salary * rng.uniform(0.85, 1.3) / 100) * 100,
            hired=hired,
            left=left,
            leader=leader,
            manager="",
            lateness=rng.choice((0.01, 0.02, 0.03, 0.05, 0.12)),
            phone=phone_digits(9_000_000 + k),
        )
        users.append(u)
        dept.members.append(u.userid)
        return u

    ceo = new_user(depts[1], "总经理", 40000, True)
    ceo.hired = date(2015, 3, 1)
    depts[1].head = ceo.userid
    for d in depts.values():
        if d.id == 1:
            continue
        title = "总监" if d.salary == 0 else "经理"
        head = new_user(d, f"{d.name}{title}", max(d.salary, 15000) * 1.8, True)
        d.head = head.userid
    remaining = n - len(users)
    weights = {d.id: share for d, share in ((depts[x[0]], x[3]) for x in _DEPTS)}
    for did, share in weights.items():
        if share:
            d = depts[did]
            for _ in range(max(1, round(remaining * share))):
                new_user(d, d.title, d.salary, False)
    for u in users:
        d = depts[u.dept]
        if u.leader:
            parent = depts[d.parent] if d.parent else None
            u.manager = parent.head if parent else ""
        else:
            u.manager = d.head
    return Org(depts, users)


def _works(u: User, dept: Dept, d: date) -> bool:
    if d < u.hired or (u.left is not None and d >= u.left):
        return False
    wd = d.weekday()
    if dept.kind == "store":
        off = int(u.userid[-1]) % 5  # two weekdays off, weekends worked
        return wd not in (off, off + 1)
    if d in cal.HOLIDAYS:
        return False
    if dept.kind == "production":
        return wd < 6
    return wd < 5


def write_hr(manifest: Manifest, org: Org, seed: int, progress) -> tuple[dict, dict]:
    """Write the HR files; returns (truth, payroll cost per month per department kind)."""
    rng = random.Random(f"{seed}:attendance")
    depts = org.depts
    dep_rows = [
        {
            "id": d.id,
            "name": d.name,
            **({"parentid": d.parent} if d.parent else {}),
            "createDeptGroup": True,
            "autoAddUser": True,
            "deptManagerUseridList": d.head,
        }
        for d in depts.values()
    ]
    with open(manifest.path("hr/departments.json"), "w", encoding="utf-8") as f:
        json.dump(
            {"errcode": 0, "errmsg": "ok", "department": dep_rows}, f, ensure_ascii=False, indent=1
        )
    manifest.add("hr/departments.json", "json", "utf-8", len(dep_rows), list="department")
    user_rows = []
    for k, u in enumerate(org.users):
        row = {
            "userid": u.userid,
            "unionid": f"iPiS{k:06d}{u.userid[-6:]}iE",
            "name": u.name,
            "mobile": u.phone,
            "state_code": "86",
            "job_number": f"OL{k + 1:04d}",
            "title": u.title,
            "email": f"ol{k + 1:04d}@opslake-home.cn",
            "work_place": "嘉兴" if depts[u.dept].kind == "production" else "杭州",
            "dept_id_list": [u.dept],
            "leader": u.leader,
            "manager_userid": u.manager,
            "hired_date": cal.utc_millis(((u.hired - cal.EPOCH).days) * 86400),
            "active": u.left is None,
            "admin": u.dept in (1, 16) and u.leader,
            "boss": u.dept == 1,
        }
        if u.left is not None:
            row["left_date"] = cal.utc_millis(((u.left - cal.EPOCH).days) * 86400)
        user_rows.append(row)
    with open(manifest.path("hr/users.json"), "w", encoding="utf-8") as f:
        json.dump(
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"has_more": False, "next_cursor": None, "list": user_rows},
            },
            f,
            ensure_ascii=False,
            indent=1,
        )
    manifest.add("hr/users.json", "json", "utf-8", len(user_rows), list="result.list")

    # attendance: one recordresult per check (on/off duty) per working day
    results = Counter()
    worked = Counter()  # (userid, month) -> days
    rec_id = 70_000_000_000
    path = manifest.path("hr/attendance.jsonl")
    lines = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for i in range(cal.DAYS):
            d = cal.day_date(i)
            day0 = cal.START_TS + i * 86400
            chunk = []
            for u in org.users:
                dept = depts[u.dept]
                if not _works(u, dept, d):
                    continue
                worked[(u.userid, d.isoformat()[:7])] += 1
                start_h = 10 if dept.kind == "store" else 8 if dept.kind == "production" else 9
                absent = rng.random() < 0.004
                for check, base in (("OnDuty", start_h * 3600), ("OffDuty", (start_h + 9) * 3600)):
                    rec_id += 1
                    plan = day0 + base
                    r = rng.random()
                    if absent:
                        result, actual = "Absenteeism", None
                    elif check == "OnDuty" and r < u.lateness:
                        late = (
                            rng.randrange(60, 3600)
                            if rng.random() < 0.85
                            else rng.randrange(3600, 7200)
                        )
                        result = "Late" if late < 3600 else "SeriousLate"
                        actual = plan + late
                    elif check == "OffDuty" and r < 0.015:
                        result, actual = "Early", plan - rng.randrange(300, 3600)
                    elif r > 0.992:
                        result, actual = "NotSigned", None
                    else:
                        off = (
                            -rng.randrange(60, 1200)
                            if check == "OnDuty"
                            else rng.randrange(0, 5400)
                        )
                        result, actual = "Normal", plan + off
                    results[result] += 1
                    rec = {
                        "id": rec_id,
                        "groupId": 600000 + u.dept,
                        "planId": rec_id * 3 % 10**11,
                        "recordId": rec_id + 10**10 if actual is not None else None,
                        "workDate": cal.utc_millis(day0),
                        "corpId": CORP_ID,
                        "userId": u.userid,
                        "checkType": check,
                        "sourceType": "USER" if actual is not None else "SYSTEM",
                        "timeResult": result,
                        "locationResult": "Normal" if actual is not None else "NotSigned",
                        "baseCheckTime": cal.utc_millis(plan),
                        "userCheckTime": cal.utc_millis(actual if actual is not None else plan),
                    }
                    chunk.append(dumps(rec))
            if chunk:
                f.write("\n".join(chunk) + "\n")
                lines += len(chunk)
            if i % 73 == 0:
                progress("hr", i, cal.DAYS)
    manifest.add("hr/attendance.jsonl", "jsonl", "utf-8", lines)

    # payroll: monthly, prorated by days worked; paid on the 10th of the next month
    out = CsvOut(
        manifest,
        "hr/payroll.csv",
        [
            "month",
            "userid",
            "name",
            "dept_id",
            "dept_name",
            "base_salary",
            "overtime_pay",
            "bonus",
            "social_insurance",
            "housing_fund",
            "income_tax",
            "net_pay",
            "pay_date",
        ],
    )
    cost: dict[str, Counter] = {}
    months = cal.months()
    for month in months:
        y, m = int(month[:4]), int(month[5:])
        pay_date = date(y + (m == 12), m % 12 + 1, 10).isoformat()
        for u in org.users:
            days = worked.get((u.userid, month), 0)
            if not days:
                continue
            dept = depts[u.dept]
            base = round(u.salary * min(1.0, days / 21.75), 2)
            overtime = round(base * 0.15 * rng.random(), 2) if dept.kind != "office" else 0.0
            bonus = 0.0
            if dept.id in (4, 5, 6) and m in (6, 11, 12):
                bonus = round(u.salary * rng.uniform(0.3, 1.2), 2)
            gross = base + overtime + bonus
            social = round(min(gross, 36549) * 0.105, 2)
            housing = round(min(gross, 36549) * 0.07, 2)
            taxable = max(0.0, gross - social - housing - 5000)
            tax = round(
                taxable * (0.03 if taxable < 3000 else 0.1) - (0 if taxable < 3000 else 210), 2
            )
            tax = max(0.0, tax)
            net = round(gross - social - housing - tax, 2)
            out.row(
                [
                    month,
                    u.userid,
                    u.name,
                    u.dept,
                    dept.name,
                    f"{base:.2f}",
                    f"{overtime:.2f}",
                    f"{bonus:.2f}",
                    f"{social:.2f}",
                    f"{housing:.2f}",
                    f"{tax:.2f}",
                    f"{net:.2f}",
                    pay_date,
                ]
            )
            kind = (
                "sales"
                if dept.id in (3, 4, 5, 6)
                else ("production" if dept.kind == "production" else "admin")
            )
            # employer cost = gross + employer social share (~30 %)
            cost.setdefault(month, Counter())[kind] += round(gross * 100 * 1.3)
    out.close()
    truth = {
        "departments": len(dep_rows),
        "users": len(user_rows),
        "users_left": sum(1 for u in org.users if u.left is not None),
        "attendance_records": lines,
        "attendance_time_results": dict(sorted(results.items())),
        "payroll_rows": out.rows,
        "payroll_cost_by_month": {m: to_yuan(sum(c.values())) for m, c in sorted(cost.items())},
    }
    return truth, cost
