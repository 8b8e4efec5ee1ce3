"""Row-level findings of a load: every problem is collected, none stops the check early."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

Severity = Literal["error", "warning"]

# check id -> Chinese name shown in the problems table
CHECK_LABELS = {
    "file": "文件",
    "columns": "表头",
    "region": "地区",
    "indicator": "指标",
    "period": "期间",
    "value": "数值",
    "negative": "负数",
    "duplicate": "重复",
    "future": "未来期间",
}


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # 1-based line number in the file as the user sees it (header is row 1)
    column: str | None
    check: str
    value: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else ""
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.message}" if where else self.message


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The table the upload page shows and the CLI prints."""
    columns = ["file", "row", "column", "check", "value", "message", "severity"]
    frame = pd.DataFrame([asdict(p) for p in problems], columns=columns)
    frame["check"] = frame["check"].map(lambda c: CHECK_LABELS.get(c, c))
    return frame.rename(
        columns={"file": "文件", "row": "行", "column": "列", "check": "检查", "value": "值",
                 "message": "说明", "severity": "级别"}
    )
