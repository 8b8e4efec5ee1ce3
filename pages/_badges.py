"""The marks a page puts on what it shows: status and task pills, the demo-data notice."""

from __future__ import annotations

from monitor.views.formatting import status_color, task_color

DEMO_NOTICE = "本页包含**示例数据**（虚构数值，仅供演示，标记为「示例数据」）；标记为「公布值」的数据引自公开报道，来源见数据表。"
# the same on a phone's first screen, in one line
DEMO_NOTICE_SHORT = "含**示例数据**（虚构，仅供演示）"


def status_badge(status: str, label: str | None = None) -> str:
    """A coloured status pill; ``label`` (e.g. 「已达成（参考）」) is what it reads, the status its colour."""
    color = status_color(status)
    return (f'<span style="background:{color};color:white;padding:2px 8px;border-radius:10px;font-size:0.85em">'
            f'{label or status}</span>')


def task_badge(task_status: str, label: str | None = None) -> str:
    """A task's pill: its own word (已完成, 逾期, 未报告 …), the colour of the status it maps to."""
    color = task_color(task_status)
    return (f'<span style="background:{color};color:white;padding:2px 8px;border-radius:10px;font-size:0.85em">'
            f'{label or task_status}</span>')
