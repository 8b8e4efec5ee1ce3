"""Milestone tasks (type: milestone): status updates recorded with date and note, and the status
as of any month. 未开始: the document setting the task was not yet issued; 未报告: issued, no
progress reported yet; 未启动: reported as not yet started; then 进行中 / 已完成 / 逾期. A 持续推进
task has no deadline and is never overdue.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

import pandas as pd

from monitor.domain import clock
from monitor.domain.config import Config, MilestoneTarget, TargetSet
from monitor.domain.periods import parse_month
from monitor.errors import MonitorError
from monitor.store import outbox
from monitor.store.database import Store
from monitor.store.outbox import AuditEntry


class TaskStatus(str, Enum):
    PENDING = "未开始"  # the task's period has not begun: its document was issued after the as-of month
    UNREPORTED = "未报告"  # issued, but no progress report yet
    NOT_STARTED = "未启动"  # reported as not yet started
    IN_PROGRESS = "进行中"
    DONE = "已完成"
    OVERDUE = "逾期"


UPDATE_STATUSES = {"not_started": TaskStatus.NOT_STARTED, "in_progress": TaskStatus.IN_PROGRESS,
                   "done": TaskStatus.DONE}


class MilestoneError(MonitorError):
    """A status update was refused."""


@dataclass(frozen=True)
class TaskView:
    target_id: str
    number: int | None
    title: str
    lead: tuple[str, ...]
    cooperating: tuple[str, ...]
    national: tuple[str, ...]
    deadline: date | None
    ongoing: bool
    status: TaskStatus
    done_late: bool
    last_update: date | None
    last_note: str | None
    clause: str


def month_end(month: str) -> date:
    m = parse_month(month)
    year, mon = int(m[:4]), int(m[5:7])
    return date(year, mon, calendar.monthrange(year, mon)[1])


def task_status(task: MilestoneTarget, updates: pd.DataFrame, as_of: str,
                issued: date | None = None) -> tuple[TaskStatus, bool, pd.Series | None]:
    """Status of one task at the end of ``as_of`` from its updates (target_id, status, updated_on, note);
    ``issued``: the date of the document that sets it (before it, the task has not begun).
    Returns (status, done_late, the update in force)."""
    cutoff = month_end(as_of)
    if issued is not None and cutoff < issued:
        return TaskStatus.PENDING, False, None
    mine = updates[(updates["target_id"] == task.id)] if not updates.empty else updates
    if not mine.empty:
        on = pd.to_datetime(mine["updated_on"]).dt.date
        mine = mine[on <= cutoff].assign(_on=on[on <= cutoff]).sort_values(["_on", "id"])
    latest = mine.iloc[-1] if not mine.empty else None
    state = UPDATE_STATUSES[latest["status"]] if latest is not None else TaskStatus.UNREPORTED
    done_late = False
    if state is TaskStatus.DONE:
        done_late = task.deadline is not None and latest["_on"] > task.deadline
        return state, done_late, latest
    if task.deadline is not None and cutoff > task.deadline:
        return TaskStatus.OVERDUE, False, latest
    return state, False, latest


def read_updates(store: Store) -> pd.DataFrame:
    return store.query("SELECT id, target_id, status, updated_on, note, recorded_at, recorded_by "
                       "FROM milestone_updates ORDER BY updated_on, id")


def task_table(target_set: TargetSet, updates: pd.DataFrame, as_of: str) -> list[TaskView]:
    views = []
    for task in target_set.targets:
        if not isinstance(task, MilestoneTarget):
            continue
        status, late, latest = task_status(task, updates, as_of, target_set.date)
        views.append(TaskView(
            task.id, task.number, task.title, tuple(task.lead), tuple(task.cooperating),
            tuple(task.national), task.deadline, task.ongoing, status, late,
            latest["_on"] if latest is not None else None,
            latest["note"] if latest is not None else None, task.clause,
        ))
    return views


def record_update(store: Store, config: Config, target_id: str, status: str, updated_on: date, note: str,
                  recorded_by: str, *, today: date | None = None, audit: AuditEntry | None = None) -> int:
    """Record a status change of a milestone task; refuses unknown tasks, statuses and future dates.
    ``audit``: the audit record (target 「任务 id」, the record's number added to its detail),
    committed with the update into the store's outbox (monitor/store/outbox.py)."""
    today = today or clock.today()
    task = next((t for s in config.target_sets for t in s.targets if t.id == target_id), None)
    if not isinstance(task, MilestoneTarget):
        raise MilestoneError(f"「{target_id}」不是任务节点，不能登记进度")
    if status not in UPDATE_STATUSES:
        accepted = "、".join(f"{key}（{label.value}）" for key, label in UPDATE_STATUSES.items())
        raise MilestoneError(f"状态「{status}」无效，应为 {accepted} 之一")
    if updated_on > today:
        raise MilestoneError(f"日期 {updated_on} 晚于今天，不能登记未来的进度")
    if not note or not note.strip():
        raise MilestoneError("请填写进度说明（例如完成了什么、依据哪份文件）")
    with store.transaction() as con:
        next_id = con.execute("SELECT coalesce(max(id), 0) + 1 FROM milestone_updates").fetchone()[0]
        con.execute("INSERT INTO milestone_updates VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [next_id, target_id, status, updated_on, note.strip(), clock.now(), recorded_by])
        if audit is not None:
            detail = "，".join(d for d in (audit.detail, f"记录 {next_id}") if d)
            outbox.stage(con, replace(audit, target=f"任务 {target_id}", detail=detail))
    return int(next_id)


# Demo progress for the 18 Shanxi tasks and the Shaanxi milestones (invented, shown as 示例数据).
DEMO_UPDATES = [
    ("sxt_01", "in_progress", "2022-10-15", "示例：已印发强省建设纲要实施分工方案"),
    ("sxt_02", "in_progress", "2022-10-20", "示例：已向国家知识产权局报送试点申报材料"),
    ("sxt_02", "done", "2022-12-16", "示例：万柏林区、盐湖区入选强县建设试点"),
    ("sxt_03", "in_progress", "2022-09-30", "示例：保护中心预审系统上线试运行"),
    ("sxt_03", "done", "2023-02-28", "示例：快速预审业务正式开通"),
    ("sxt_04", "in_progress", "2023-03-01", "示例：申报材料起草中"),
    ("sxt_04", "done", "2023-10-25", "示例：分中心获批设立"),
    ("sxt_05", "in_progress", "2022-11-10", "示例：11个市已设立维权援助工作站"),
    ("sxt_06", "in_progress", "2022-09-20", "示例：启动产业专利导航项目"),
    ("sxt_07", "in_progress", "2022-10-08", "示例：专项计划实施方案印发"),
    ("sxt_07", "done", "2023-12-20", "示例：年度专利转化项目验收"),
    ("sxt_08", "in_progress", "2023-01-12", "示例：重点城市建设中期评估"),
    ("sxt_09", "in_progress", "2022-10-28", "示例：入园惠企行动启动"),
    ("sxt_09", "done", "2023-06-30", "示例：风险补偿资金池设立"),
    ("sxt_10", "in_progress", "2022-11-18", "示例：展示推广中心选址确定"),
    ("sxt_12", "in_progress", "2022-09-15", "示例：蓝天行动专项整治部署"),
    ("sxt_13", "in_progress", "2022-12-01", "示例：代理监管责任清单下发"),
    ("sxt_14", "in_progress", "2023-03-15", "示例：新增2个市级综合服务机构"),
    ("sxt_17", "not_started", "2022-09-07", "示例：待人社部门出台细则"),
    ("sxt_18", "in_progress", "2023-04-20", "示例：山西大学知识产权研究院筹建"),
    ("sn22_annual_report", "done", "2022-12-15", "示例：已书面报送"),
    ("sn22_strong_province_outline", "in_progress", "2022-06-30", "示例：纲要送审稿完成"),
    ("sn22_strong_province_outline", "done", "2023-02-10", "示例：纲要印发"),
]


def load_demo_updates(store: Store, config: Config) -> int:
    known = {t.id for s in config.target_sets for t in s.targets}
    rows = [r for r in DEMO_UPDATES if r[0] in known]
    with store.transaction() as con:
        con.execute("DELETE FROM milestone_updates WHERE recorded_by = 'demo-generator'")
        start = con.execute("SELECT coalesce(max(id), 0) FROM milestone_updates").fetchone()[0]
        for i, (target_id, status, on, note) in enumerate(rows, start=start + 1):
            con.execute("INSERT INTO milestone_updates VALUES (?, ?, ?, ?, ?, ?, 'demo-generator')",
                        [i, target_id, status, date.fromisoformat(on), note, clock.now()])
    return len(rows)
