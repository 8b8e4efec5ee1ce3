"""Row-level findings of a load: every problem is collected, none stops the check early."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

# error: blocks the upload; warning: needs an explicit confirmation; info: said, nothing to confirm
Severity = Literal["error", "warning", "info"]
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}

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
    "unit": "单位",
    "footnote": "注释行",
    "total": "合计行",
    "national": "全国值",
    "outlier": "异常波动",
    "stock_falls": "存量下降",
    "per_capita": "人均值核对",
    "cumulative": "累计值",
    "scope": "权限范围",
    "range": "合理范围",
    "provenance": "来源权限",
    "link": "来源网址",
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
        return self.message  # every message already says where (第 N 行「列」……)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The table the upload page shows and the CLI prints."""
    columns = ["file", "row", "column", "check", "value", "message", "severity"]
    frame = pd.DataFrame([asdict(p) for p in problems], columns=columns)
    frame["check"] = frame["check"].map(lambda c: CHECK_LABELS.get(c, c))
    frame["severity"] = frame["severity"].map(lambda s: SEVERITY_LABELS.get(s, s))
    frame["row"] = frame["row"].astype("Int64")
    return frame.rename(
        columns={"file": "文件", "row": "行", "column": "列", "check": "检查", "value": "值",
                 "message": "说明", "severity": "级别"}
    )
