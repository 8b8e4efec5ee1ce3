"""A whole target set evaluated for one region and as-of month: the table the 总览 page shows,
the CLI prints and the briefing prints (one row per target; tasks in their own vocabulary).

Evaluated for a region other than the set's own, each target applies as
``evaluation.applied.scale_for_region`` says; every such row says so in ``adjusted``.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from monitor.domain.config import (
    TARGET_TYPE_LABELS,
    Config,
    MilestoneTarget,
    TargetSet,
)
from monitor.domain.periods import format_month_cn
from monitor.errors import NotApplicableError
from monitor.evaluation import STATUS_COLORS, Evaluation, Status, evaluate_target
from monitor.evaluation.applied import (
    applies_to,
    is_reference,
    not_applicable_note,
    scale_for_region,
    status_label,
)
from monitor.evaluation.panels import calendar_basis
from monitor.store.milestones import TaskStatus, read_updates, task_status
from monitor.store.series import as_series, indicator_values, year_to_date_values

TASK_TO_STATUS = {
    TaskStatus.DONE: Status.ACHIEVED,
    TaskStatus.IN_PROGRESS: Status.ON_TRACK,
    TaskStatus.NOT_STARTED: Status.NEEDS_ACCELERATION,  # reported as not started, period running
    TaskStatus.UNREPORTED: Status.NO_DATA,  # issued, no progress report: nothing to judge
    TaskStatus.PENDING: Status.NOT_STARTED,  # its document was not yet issued
    TaskStatus.OVERDUE: Status.MISSED,
}

OVERVIEW_COLUMNS = [
    "target_id", "type", "type_label", "indicator", "indicator_name", "unit", "region", "target_text",
    "deadline", "status", "current", "current_period", "target_value", "expected_now", "baseline",
    "baseline_period", "progress", "gap", "needed_per_month", "months_left", "projection",
    "projection_method", "pace_ratio", "pace_band", "explanation", "clause", "has_demo", "has_published",
    "population_year", "adjusted", "reference", "status_label", "measure", "latest_period", "task_status",
]


def target_text(target, unit: str, indicator=None) -> str:
    """「达到 700件（2025年底）」 — the target as a short phrase; on a monthly flow (with its
    ``indicator``), the basis it is judged on: 「2025年全年（1—12月）合计达到 60件」."""
    if indicator is not None and calendar_basis(target, indicator):
        value = f"{target.value:g}{unit}"
        verb = "达到" if target.type == "at_least" else "不高于"
        return f"{target.deadline[:4]}年全年（1—12月）合计{verb} {value}"
    if isinstance(target, MilestoneTarget):
        return "持续推进" if target.ongoing else f"{target.deadline:%Y年%m月%d日}前完成"
    deadline = format_month_cn(target.deadline)
    deadline = deadline.replace("年12月", "年底") if target.deadline.endswith("-12") else deadline
    value = getattr(target, "value", None)
    shown = f"{value:g}{unit}" if value is not None else ""
    if target.type == "at_least":
        phrase = f"达到 {shown}"
    elif target.type == "at_most":
        phrase = f"不高于 {shown}"
    elif target.type == "increase":
        phrase = f"新增 {shown}"
    elif target.type == "growth":
        phrase = f"增长 {value:g}% 以上"
    elif target.type == "above_reference":
        phrase = "超过参照地区"
    else:
        phrase = "稳步提升"
    return f"{phrase}（{deadline}）"


def evaluate_target_set(ctx, set_id: str, as_of: str, region: str | None = None) -> pd.DataFrame:
    """Every target of a set, evaluated; one row per target in the set's order."""
    config: Config = ctx.config
    tset: TargetSet = config.target_set(set_id)
    if region is not None and not applies_to(ctx.regions, tset.region, region):
        raise NotApplicableError(f"{not_applicable_note(ctx.regions[tset.region].name)}："
                                 f"{ctx.regions[region].name}不在其适用范围内；可选{ctx.regions[tset.region].name}、"
                                 "同级或下级地区")
    updates = read_updates(ctx.store)
    rows = []
    values_cache: dict[tuple[str, str], pd.DataFrame] = {}

    def values(indicator_id: str, code: str) -> pd.DataFrame:
        key = (indicator_id, code)
        if key not in values_cache:
            values_cache[key] = indicator_values(ctx.store, config, indicator_id, [code], ctx.population, until=as_of)
        return values_cache[key]

    for target in tset.targets:
        set_region = tset.region_of(target)
        code = region or set_region
        if isinstance(target, MilestoneTarget):
            status, late, latest = task_status(target, updates, as_of, tset.date)
            note = f"（{latest['note']}）" if latest is not None else ""
            if latest is not None:  # a 持续推进 task shows when it was last reported on
                note = f"（{latest['_on']:%Y-%m-%d}：{latest['note']}）"
            explanation = f"任务状态：{status.value}" + ("（逾期完成）" if late else "") + note
            if status is TaskStatus.UNREPORTED:
                explanation += "（尚无进展报告）"
            rows.append({
                "target_id": target.id, "type": "milestone", "type_label": TARGET_TYPE_LABELS["milestone"],
                "indicator": None, "indicator_name": target.title, "unit": "", "region": set_region,
                "target_text": target_text(target, ""), "deadline": str(target.deadline or "持续推进"),
                "status": TASK_TO_STATUS[status].value, "explanation": explanation, "clause": target.clause,
                "has_demo": latest is not None and str(latest["note"]).startswith("示例"),
                "has_published": False, "adjusted": None, "task_status": status.value,
            })
            continue
        applied, adjusted = scale_for_region(ctx, target, set_region, code)
        ind = config.indicator(target.indicator)
        if applied is None:
            rows.append({"target_id": target.id, "type": target.type, "indicator": ind.id, "indicator_name": ind.name,
                         "unit": ind.unit, "region": code, "status": Status.NO_DATA.value,
                         "explanation": adjusted, "clause": target.clause, "adjusted": adjusted,
                         "type_label": TARGET_TYPE_LABELS[target.type], "target_text": target_text(target, ind.unit, ind),
                         "deadline": target.deadline})
            continue
        own = values(ind.id, code)
        reference = None
        if applied.type == "above_reference":
            reference = as_series(values(ind.id, applied.reference_region), applied.reference_region)
        reported_to_date = as_series(year_to_date_values(ctx.store, config, ind.id, [code], until=as_of), code)
        result: Evaluation = evaluate_target(applied, ind, as_series(own, code), as_of, reference=reference,
                                             year_to_date=reported_to_date)
        used = own[own["month"] <= (result.current_period or as_of)]
        row = asdict(result)
        row.update({
            "type": target.type, "type_label": TARGET_TYPE_LABELS[target.type], "indicator": ind.id,
            "indicator_name": ind.name, "unit": ind.unit, "region": code,
            "target_text": target_text(applied, ind.unit, ind), "deadline": target.deadline,
            "status": result.status.value, "clause": target.clause,
            "has_demo": bool((used["origin"] == "demo").any()),
            "has_published": bool((used["origin"] == "published").any()),
            "population_year": _population_year(own, result.current_period), "adjusted": adjusted,
            "latest_period": str(own["month"].max()) if not own.empty else None,
        })
        rows.append(row)
    frame = pd.DataFrame(rows)
    for col in OVERVIEW_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame["reference"] = [is_reference(a) for a in frame["adjusted"]]
    # a task reads in the task vocabulary (已完成, 逾期, 未报告 …) on every page, its colour that of
    # the target status it maps to (TASK_TO_STATUS)
    frame["status_label"] = [t if isinstance(t, str) else status_label(s, a)
                             for s, a, t in zip(frame["status"], frame["adjusted"], frame["task_status"])]
    return frame[OVERVIEW_COLUMNS]


def _population_year(values: pd.DataFrame, month: str | None):
    if month is None or "population_year" not in values.columns:
        return None
    hit = values[values["month"] == month]
    return int(hit["population_year"].iloc[0]) if not hit.empty else None


TASK_STATUS_COLORS = {task.value: STATUS_COLORS[status] for task, status in TASK_TO_STATUS.items()}



