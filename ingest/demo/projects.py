"""Projects (new products, store openings, system roll-outs, campaigns) and their tasks,
with planned vs actual dates: most slip a little, a few a lot, some are still running."""

from __future__ import annotations

import random
from collections import Counter

from . import calendar as cal
from .writers.common import Manifest, write_csv

KINDS = {
    "新品开发": ["市场调研", "产品定义", "打样", "测试验证", "包装设计", "量产准备", "上市发布"],
    "门店开业": ["选址评估", "租赁签约", "装修施工", "招聘培训", "试营业", "正式开业"],
    "系统上线": ["需求调研", "方案设计", "开发配置", "数据迁移", "用户培训", "上线切换"],
    "营销活动": ["活动策划", "预算审批", "素材制作", "备货", "活动执行", "复盘"],
}


def write_projects(
    manifest: Manifest, seed: int, scale: int, owners: list[str], assignees: list[str]
) -> dict:
    rng = random.Random(f"{seed}:projects")
    n = min(80, max(20, scale // 2500))
    projects, tasks = [], []
    status = Counter()
    slips = []
    for k in range(n):
        kind = rng.choice(list(KINDS))
        start = rng.randrange(0, cal.DAYS - 40)
        day = start
        t_rows = []
        actual = start + (rng.randint(0, 5) if rng.random() < 0.4 else 0)
        for t, name in enumerate(KINDS[kind], start=1):
            dur = rng.randint(3, 20)
            p_start, p_end = day, day + dur - 1
            day = p_end + 1
            slip = int(rng.expovariate(1 / 4)) if rng.random() < 0.6 else 0
            if rng.random() < 0.08:
                slip += rng.randint(15, 40)  # the occasional big miss
            a_start = actual
            a_end = a_start + dur - 1 + slip
            actual = a_end + 1
            if a_start > cal.DAYS - 1:
                st, a_s, a_e, prog = "未开始", "", "", 0
            elif a_end > cal.DAYS - 1:
                st, a_s, a_e = "进行中", cal.day_str(a_start), ""
                prog = min(95, round(100 * (cal.DAYS - 1 - a_start) / (a_end - a_start + 1)))
            else:
                st, a_s, a_e, prog = "已完成", cal.day_str(a_start), cal.day_str(a_end), 100
            t_rows.append(
                [
                    f"T{k + 1:04d}{t:02d}",
                    f"PRJ{k + 1:04d}",
                    name,
                    assignees[rng.randrange(len(assignees))] if assignees else "",
                    _d(p_start),
                    _d(p_end),
                    a_s,
                    a_e,
                    st,
                    prog,
                ]
            )
        tasks.extend(t_rows)
        p_end = day - 1
        done = all(r[8] == "已完成" for r in t_rows)
        started = any(r[6] for r in t_rows)
        st = "已完成" if done else ("进行中" if started else "未开始")
        status[st] += 1
        a_end = t_rows[-1][7] if done else ""
        if done:
            slips.append((actual - 1) - p_end)
        budget = rng.choice((5, 8, 10, 20, 30, 50, 80)) * 10000
        cost = round(budget * rng.uniform(0.8, 1.35), 2) if started else 0
        projects.append(
            [
                f"PRJ{k + 1:04d}",
                f"{kind}-{k + 1:02d}",
                kind,
                owners[rng.randrange(len(owners))] if owners else "",
                _d(start),
                _d(p_end),
                t_rows[0][6],
                a_end,
                st,
                f"{budget:.2f}",
                f"{cost:.2f}",
            ]
        )
    write_csv(
        manifest,
        "projects/projects.csv",
        [
            "project_id",
            "name",
            "type",
            "owner",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "status",
            "budget",
            "actual_cost",
        ],
        projects,
    )
    write_csv(
        manifest,
        "projects/tasks.csv",
        [
            "task_id",
            "project_id",
            "name",
            "assignee",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "status",
            "progress",
        ],
        tasks,
    )
    return {
        "projects": len(projects),
        "tasks": len(tasks),
        "project_status": dict(sorted(status.items())),
        "completed_projects_mean_slip_days": round(sum(slips) / len(slips), 2) if slips else None,
    }


def _d(day: int) -> str:
    return cal.day_str(min(day, cal.DAYS + 100))
