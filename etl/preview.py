"""What a person sees of a plan before committing it: a one-line summary and the diff as a table
with Chinese headers (the upload page and the CLI show the same)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.loader import LoadPlan, parse_values
from etl.problems import Problem, problems_frame
from etl.units import UnitError, conversion_factor
from monitor.domain.config import Config
from monitor.domain.yeartodate import base_id, series_name

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


REASON_MAX_CHARS = 500


def warnings_note(plan: LoadPlan, reason: str) -> str:
    """What a batch keeps (load_batches.note, shown on 导入记录) and the audit trail records when its
    warnings were accepted: how many, and the reason the person gave."""
    return f"接受 {len(plan.warnings)} 条警告：{' '.join(reason.split())[:REASON_MAX_CHARS]}"


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


TYPED_COLUMNS = ["line", "column", "typed", "converted"]


def typed_values(raw: pd.DataFrame, problems: list[Problem], config: Config) -> pd.DataFrame:
    """The cell each problem names (by row and column), as typed with the unit it was written in
    (「8000 万元」), and in the indicator's unit (「0.8 亿元」) when it is a number that converts.
    Only the problems' cells are looked at: a large file with a few problems costs a few rows."""
    wanted = {(p.row, p.column) for p in problems if p.row is not None and p.column is not None}
    if not wanted or raw.empty:
        return pd.DataFrame(columns=TYPED_COLUMNS)
    rows = raw[raw["line"].isin({line for line, _ in wanted})]
    rows = rows[[key in wanted for key in zip(rows["line"].tolist(), rows["column"].tolist())]]
    rows = rows.drop_duplicates(["line", "column"])
    if rows.empty:
        return pd.DataFrame(columns=TYPED_COLUMNS)
    parsed = parse_values(rows["value"])
    typed, converted = [], []
    for cell, unit_cell, indicator, value, percent, in_cell in zip(
            rows["value"].astype(str), rows["unit"].fillna("").astype(str), rows["indicator"].astype(str),
            parsed["value"].tolist(), parsed["percent"].tolist(), parsed["unit"].tolist()):
        unit = unit_cell or in_cell
        typed.append(f"{cell} {unit_cell}" if unit_cell and np.isfinite(value) else cell)
        indicator_id = config.resolve_indicator(indicator)
        if indicator_id is None or not np.isfinite(value):
            converted.append("")
            continue
        target = config.indicator(indicator_id).unit
        if percent and target != "%":
            converted.append("")
            continue
        try:
            factor = conversion_factor(unit, target) if unit else 1.0
        except UnitError:
            converted.append("")
            continue
        converted.append(f"{number_text(value * factor)} {target}")
    return pd.DataFrame({"line": rows["line"].astype("int64").to_numpy(), "column": rows["column"].to_numpy(),
                         "typed": typed, "converted": converted})


def number_text(value: float) -> str:
    """A number as people read it: thousands grouped, at most 10 decimals, no trailing zeros, never
    in exponent form (0.00000001, not 1e-08)."""
    text = np.format_float_positional(float(value), precision=10, trim="-")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def check_table(plan: LoadPlan) -> pd.DataFrame:
    """The problems as the upload page shows and the CLI prints them: 行, 列, 检查, 原值 (as typed,
    with the unit it was written in), 换算后 (in the indicator's unit), 说明, 级别."""
    frame = problems_frame(plan.problems).drop(columns=["文件"])
    typed = plan.typed if plan.typed is not None else pd.DataFrame(columns=TYPED_COLUMNS)
    at = {(int(line), column): (t, c) for line, column, t, c in typed[TYPED_COLUMNS].itertuples(index=False)}
    found = [at.get((int(row), column)) if not pd.isna(row) else None for row, column in zip(frame["行"], frame["列"])]
    frame.insert(3, "原值", [f[0] if f else (v if isinstance(v, str) else "") for f, v in zip(found, frame["值"])])
    frame.insert(4, "换算后", [f[1] if f else "" for f in found])
    return frame.drop(columns=["值"])
