"""The national-scale full-history upload for ``python -m bench``: the generated values
(devtools/national.py, which also bulk-loads them into a store) written as one CSV file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_history_csv(frame: pd.DataFrame, path: Path) -> int:
    """A full-history upload as data staff would send it: long, UTF-8, one row per value
    (地区 as code, 指标 as id, 期间, 数值). Returns the rows written."""
    frame[["region_code", "indicator_id", "month", "value"]].rename(
        columns={"region_code": "地区", "indicator_id": "指标", "month": "期间", "value": "数值"}
    ).to_csv(path, index=False, float_format="%.15g")
    return len(frame)
