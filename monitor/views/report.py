"""A target set's evaluation for one region as numbers a machine reads (the CLI's csv/json) and as
a table people read: the same rows the 总览 page and the briefing show."""

from __future__ import annotations

import pandas as pd

from monitor.evaluation.status import Status
from monitor.evaluation.targetset import evaluate_target_set
from monitor.views.formatting import format_value

# Statuses a scheduled job acts on: the CLI exits with 3 when a region's own target has one.
BEHIND_EXIT_STATUSES = frozenset({Status.BEHIND.value, Status.MISSED.value})

REPORT_COLUMNS = {
    "target_id": "目标", "type": "类型", "indicator": "指标", "region": "地区代码", "status": "状态",
    "status_label": "状态（显示）", "reference": "参考值", "value": "当前值", "value_month": "观测月份",
    "measure": "口径", "unit": "单位", "target_value": "目标值", "expected_now": "按线性进度应达",
    "progress": "进度", "gap": "差距", "needed_per_month": "需月均", "months_left": "剩余月数",
    "projection": "预计届时", "population_year": "人口年份", "demo": "含示例数据", "explanation": "说明",
}


def evaluation_report(ctx, set_id: str, as_of: str, region: str | None = None) -> pd.DataFrame:
    """One row per target: REPORT_COLUMNS' keys, numbers as numbers (None where there is none)."""
    frame = evaluate_target_set(ctx, set_id, as_of, region)
    report = pd.DataFrame({
        "target_id": frame["target_id"], "type": frame["type"],
        "indicator": frame["indicator"].where(frame["indicator"].notna(), frame["indicator_name"]),
        "region": frame["region"], "status": frame["status"], "status_label": frame["status_label"],
        "reference": frame["reference"].astype(bool), "value": _numbers(frame["current"]),
        "value_month": frame["current_period"], "measure": frame.get("measure"), "unit": frame["unit"],
        "target_value": _numbers(frame["target_value"]), "expected_now": _numbers(frame["expected_now"]),
        "progress": _numbers(frame["progress"]), "gap": _numbers(frame["gap"]),
        "needed_per_month": _numbers(frame["needed_per_month"]),
        "months_left": pd.array(frame["months_left"], dtype="Int64"),
        "projection": _numbers(frame["projection"]),
        "population_year": pd.array(frame["population_year"], dtype="Int64"),
        "demo": frame["has_demo"].fillna(False).astype(bool), "explanation": frame["explanation"],
    })
    return report[list(REPORT_COLUMNS)]


def report_table(report: pd.DataFrame) -> pd.DataFrame:
    """The report as people read it in a terminal: Chinese headers, demo rows marked."""
    table = report[["target_id", "status_label", "value", "value_month", "target_value", "gap",
                    "needed_per_month", "explanation"]].copy()
    table["status_label"] = [f"{s}（示例）" if demo else s for s, demo in zip(table["status_label"], report["demo"])]
    for column in ("value", "target_value", "gap", "needed_per_month"):
        table[column] = [format_value(x) for x in table[column]]
    table["value_month"] = table["value_month"].fillna("—")
    return table.rename(columns=REPORT_COLUMNS).rename(columns={"状态（显示）": "状态"})


def _numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce").astype("float64")
