"""The 总览 page's counters: how many targets per status and how many tasks per task status,
over a target set evaluated for one region (monitor/evaluation/targetset.py)."""

from __future__ import annotations

import pandas as pd

from monitor.evaluation import Status
from monitor.store.milestones import TaskStatus


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many targets (not tasks: see task_counts) per status, in the display order of statuses."""
    counts = frame[frame["type"] != "milestone"]["status"].value_counts()
    return {s.value: int(counts.get(s.value, 0)) for s in Status}


def task_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many tasks per task status (已完成, 逾期 …), in the order of TaskStatus; only those present."""
    counts = frame[frame["type"] == "milestone"]["task_status"].value_counts()
    return {t.value: int(counts[t.value]) for t in TaskStatus if t.value in counts}
