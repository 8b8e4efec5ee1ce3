"""Values flagged 跟踪核实, as people read them: the reviewer's list (导入记录), the command line
(``python -m etl notes list``) and the briefing. The notes themselves: monitor/store/notes.py."""

from __future__ import annotations

import pandas as pd

from monitor.domain.periods import format_month_cn
from monitor.domain.yeartodate import YTD_SUFFIX, series_name
from monitor.store.notes import note_history, open_flags
from monitor.views.formatting import format_value

OPEN_FLAG_HEADERS = ["地区", "指标", "期间", "数值", "标记人", "标记时间", "说明"]


def _in_scope(ctx, frame: pd.DataFrame, allowed: set[str] | None) -> pd.DataFrame:
    """The rows of regions ``allowed`` (None: every region) and of indicators the config still has."""
    if frame.empty:
        return frame
    known_ids = {i.id for i in ctx.config.indicators}
    keep = [(allowed is None or c in allowed) and c in ctx.regions and i.removesuffix(YTD_SUFFIX) in known_ids
            for c, i in zip(frame["region_code"], frame["indicator_id"])]
    return frame[keep]


def open_flags_table(ctx, allowed: set[str] | None = None, *, until: str | None = None) -> pd.DataFrame:
    """The values whose flag 跟踪核实 is open, in the regions ``allowed`` (None: every region) and
    the months up to ``until``, oldest raising first, with Chinese headers (``OPEN_FLAG_HEADERS``)."""
    flags = _in_scope(ctx, open_flags(ctx.store), allowed)
    if until is not None and not flags.empty:
        flags = flags[flags["month"] <= until]
    if flags.empty:
        return pd.DataFrame(columns=OPEN_FLAG_HEADERS)
    units = {i.id: i.unit for i in ctx.config.indicators}
    return pd.DataFrame({
        "地区": [ctx.regions[c].name for c in flags["region_code"]],
        "指标": [series_name(ctx.config, i, m) for i, m in zip(flags["indicator_id"], flags["month"])],
        "期间": [format_month_cn(m) for m in flags["month"]],
        "数值": [f"{format_value(v)} {units[i.removesuffix(YTD_SUFFIX)]}" if pd.notna(v) else "无数值"
                 for v, i in zip(flags["value"], flags["indicator_id"])],
        "标记人": flags["raised_by"].to_numpy(),
        "标记时间": [f"{pd.Timestamp(t):%Y-%m-%d %H:%M}" for t in flags["raised_at"]],
        "说明": flags["text"].fillna("").to_numpy(),
    })


def note_history_table(ctx, region_codes=None, indicator_ids=None) -> pd.DataFrame:
    """Every note on the values asked for, oldest first, as people read it: 地区, 指标, 期间, 操作, 内容, 作者, 时间."""
    history = note_history(ctx.store, region_codes, indicator_ids)
    history = _in_scope(ctx, history, None)
    actions = {"raised": "标记跟踪核实", "cleared": "解除跟踪核实"}
    return pd.DataFrame({
        "地区": [ctx.regions[c].name for c in history["region_code"]],
        "指标": [series_name(ctx.config, i, m) for i, m in zip(history["indicator_id"], history["month"])],
        "期间": [format_month_cn(m) for m in history["month"]],
        "操作": [actions.get(f, "备注") if isinstance(f, str) else "备注" for f in history["flag"]],
        "内容": history["text"].fillna("").to_numpy(),
        "作者": history["author"].to_numpy(),
        "时间": [f"{pd.Timestamp(t):%Y-%m-%d %H:%M}" for t in history["written_at"]],
    }, columns=["地区", "指标", "期间", "操作", "内容", "作者", "时间"])
