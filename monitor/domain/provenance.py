"""Where each target comes from, as a reader sees it: the document (title, 文号, issuer, date), the
clause (原文「…」 only when it is a checked quotation, else 转述 with its URL), the reading of a
clause that can be read two ways, and, for a direction the document does not set, what it does say.

The 总览 page and the briefing show the same words; ``annotate`` adds them to an evaluated target
set (monitor/evaluation/targetset.py's frame) without touching the evaluation.
"""

from __future__ import annotations

import pandas as pd

from monitor.domain.config import MilestoneTarget, TargetSet
from monitor.domain.periods import format_month_cn

PROVENANCE_COLUMNS = ["document", "quote", "interpretation", "reading_note", "derived"]


def derived_text(target, unit: str) -> str:
    """「方向性跟踪（文件未设目标）：高于2020年12月的基数 4.4件/万人」: what the page shows in place of a
    target the document does not set."""
    if target.baseline is not None:
        base = f"{target.baseline.value:g}{unit}"
        return f"方向性跟踪（文件未设目标）：与{format_month_cn(target.baseline.period)}的基数 {base} 比较"
    return "方向性跟踪（文件未设目标）"


def interpretation_text(target) -> str | None:
    if target.interpretation is None:
        return None
    i = target.interpretation
    text = f"解读：{i.reading}。另一读法：{i.alternative}"
    if i.alternative_clause:
        text += f"（依据：「{i.alternative_clause}」）"
    return text + "。"


def reading_note(target, chosen: str | None) -> str | None:
    """Which reading is evaluated, for targets whose reading an administrator can switch."""
    if target.interpretation is None or target.interpretation.switch is None:
        return None
    if chosen == "alternative":
        return "当前按另一读法评估（管理员选择）。"
    return "当前按登记的读法评估；管理员可切换为另一读法。"


def annotate(frame: pd.DataFrame, tset: TargetSet, readings: dict[str, str]) -> pd.DataFrame:
    """The evaluated targets of ``tset`` with the columns of PROVENANCE_COLUMNS; a target the
    document does not set gets ``derived_text`` as its target text."""
    by_id = {t.id: t for t in tset.targets}
    frame = frame.copy()
    documents, quotes, interpretations, notes, derived = [], [], [], [], []
    texts = list(frame["target_text"])
    for n, target_id in enumerate(frame["target_id"]):
        target = by_id[target_id]
        documents.append(tset.document_label)
        quotes.append(tset.quote(target.clause))
        interpretations.append(interpretation_text(target))
        notes.append(reading_note(target, readings.get(target_id)))
        reason = None if isinstance(target, MilestoneTarget) else target.derived
        derived.append(reason)
        if reason:
            texts[n] = derived_text(target, frame["unit"].iloc[n] or "")
    # object columns: pandas would store the missing ones as NaN, which reads as true on a page
    for column, values in zip(PROVENANCE_COLUMNS, (documents, quotes, interpretations, notes, derived)):
        frame[column] = pd.Series(values, index=frame.index, dtype=object)
    frame["target_text"] = pd.Series(texts, index=frame.index, dtype=object)
    return frame
