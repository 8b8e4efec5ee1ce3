"""Numbers and statuses as people read them, the same on a page, in the briefing, in an export,
an alert and the CLI: one formatter, one colour per status."""

from __future__ import annotations

import pandas as pd

from monitor.evaluation.status import STATUS_COLORS, Status

NO_COLOR = "#999"  # a status or task word this product does not know


def missing(value) -> bool:
    """None, NaN or pandas' NA: a value shown as 「—」 or 「无数据」, never as None or nan."""
    return value is None or bool(pd.isna(value)) if not isinstance(value, str) else False


def format_value(value, decimals: int = 2) -> str:
    """690.0 -> "690", 3.1843 -> "3.18", 14300 -> "14,300"; missing -> "—"."""
    if missing(value):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def status_color(status: str) -> str:
    """The colour of a verdict (「已达成」, 「滞后」 …)."""
    return STATUS_COLORS.get(Status(status), NO_COLOR) if status in {s.value for s in Status} else NO_COLOR


def task_color(task_status: str) -> str:
    """The colour of a task's word (已完成, 逾期, 未报告 …): the colour of the status it maps to."""
    from monitor.evaluation.targetset import TASK_STATUS_COLORS

    return TASK_STATUS_COLORS.get(task_status, NO_COLOR)
