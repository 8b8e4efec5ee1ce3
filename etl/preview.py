"""What a person sees of a plan before committing it: a one-line summary and the diff as a table
with Chinese headers (the upload page and the CLI show the same)."""

from __future__ import annotations

import pandas as pd

from etl.loader import LoadPlan
from monitor.config import Config
from monitor.yeartodate import base_id, series_name

CHANGE_LABELS = {"new": "新增", "changed": "修改", "unchanged": "未变"}


def summary_text(plan: LoadPlan) -> str:
    c = plan.counts()
    return (f"{plan.file_name}：有效值 {c['total']} 个，新增 {c['new']}，修改 {c['changed']}，未变 {c['unchanged']}；"
            f"错误 {c['errors']}，警告 {c['warnings']}")


def duplicate_text(plan: LoadPlan) -> str | None:
    if plan.duplicate_of is None:
        return None
    if plan.duplicate_status == "rolled_back":
        return f"内容完全相同的文件曾作为批次 {plan.duplicate_of} 导入，后已回滚；再次导入将重新写入这些数值"
    return f"内容完全相同的文件已作为批次 {plan.duplicate_of} 导入过" + (
        "；本次没有任何变化，无需再次导入" if plan.counts()["new"] + plan.counts()["changed"] == 0 else "")


def diff_table(plan: LoadPlan, config: Config, regions, *, change: str | None = None) -> pd.DataFrame:
    """行, 地区, 代码, 指标, 期间, 原值, 新值, 变化 (optionally only new / changed / unchanged rows)."""
    diff = plan.diff
    if change is not None and not diff.empty:
        diff = diff[diff["change"] == change]
    return pd.DataFrame({
        "行": diff["line"].astype("int64") if not diff.empty else pd.Series(dtype="int64"),
        "地区": [regions[c].name for c in diff["region_code"]],
        "代码": diff["region_code"].astype(str),
        "指标": [series_name(config, i, m) for i, m in zip(diff["indicator_id"], diff["month"])],
        "单位": [config.indicator(base_id(i)).unit for i in diff["indicator_id"]],
        "期间": diff["month"].astype(str),
        "原值": diff["old_value"].astype("float64"),
        "新值": diff["value"].astype("float64"),
        "变化": [CHANGE_LABELS[c] for c in diff["change"]],
    })
