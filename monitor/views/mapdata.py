"""What a regional map shows for each region below a parent: an indicator's value, its value per
10,000 residents, or the status of one target — with the words its hover says.

Every region of the map gets a row; a region without a value keeps ``value`` NaN and status
「无数据」, and the map draws it grey as such (never as zero).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from monitor.domain.config import RatioFormula
from monitor.domain.geo import map_children
from monitor.domain.periods import format_month_cn
from monitor.evaluation import Status
from monitor.evaluation.applied import REFERENCE, is_reference
from monitor.store.series import indicator_values
from monitor.views.grid import StatusGrid

MapMode = Literal["value", "per_capita", "status"]
MAP_MODE_LABELS: dict[str, str] = {"status": "目标状态", "value": "指标值", "per_capita": "每万人口值"}
MAP_COLUMNS = ["region_code", "region_name", "value", "period", "status", "target", "explanation", "has_demo"]
PER_CAPITA_UNIT_SUFFIX = "/万人"


def per_capita_allowed(ind) -> bool:
    """Per-resident values make sense for counts and amounts, not for ratios, shares or scores."""
    return not isinstance(ind.formula, RatioFormula) and ind.unit not in ("%", "分") and ind.aggregation == "sum"


def value_map_frame(ctx, indicator_id: str, parent: str, as_of: str, *, per_capita: bool = False) -> pd.DataFrame:
    """Each region's latest value up to ``as_of`` (optionally per 10,000 residents)."""
    ind = ctx.config.indicator(indicator_id)
    codes = map_children(ctx.regions, parent)
    values = indicator_values(ctx.store, ctx.config, ind.id, codes, ctx.population, until=as_of)
    latest = values.sort_values("month").groupby("region_code").tail(1).set_index("region_code")
    rows = []
    for code in codes:
        row = {"region_code": code, "region_name": ctx.regions[code].name, "value": np.nan, "period": None,
               "status": None, "target": None, "explanation": None, "has_demo": False}
        if code in latest.index:
            hit = latest.loc[code]
            value = float(hit["value"])
            row.update(period=str(hit["month"]), has_demo=hit["origin"] == "demo")
            if per_capita:
                figure = ctx.population.lookup(code, row["period"])
                if figure is None:
                    row["explanation"] = "缺少人口数据，无法计算每万人口值"
                    value = np.nan
                else:
                    value = value / figure.value * 10_000
                    row["explanation"] = f"{format_month_cn(row['period'])}，人口取 {figure.year} 年常住人口"
            else:
                row["explanation"] = f"{format_month_cn(row['period'])}数据"
            row["value"] = value
        else:
            row["status"] = Status.NO_DATA.value
            row["explanation"] = f"截至{format_month_cn(as_of)}没有该指标的数据"
        rows.append(row)
    return pd.DataFrame(rows, columns=MAP_COLUMNS)


def status_map_frame(grid: StatusGrid, target_id: str) -> pd.DataFrame:
    """One target's column of a status grid, as map rows (value: the measure the target is judged on)."""
    cells = grid.cells[grid.cells["target_id"] == target_id].set_index("region_code")
    rows = []
    for code in grid.regions:
        cell = cells.loc[code] if code in cells.index else None
        rows.append({
            "region_code": code,
            "region_name": cell["region_name"] if cell is not None else code,
            "value": _float(cell["current"]) if cell is not None else np.nan,
            "period": cell["current_period"] if cell is not None else None,
            "status": cell["status"] if cell is not None else Status.NO_DATA.value,
            "target": _float(cell["target_value"]) if cell is not None else None,
            "explanation": _marked(cell) if cell is not None else None,
            "has_demo": bool(cell["has_demo"]) if cell is not None else False,
        })
    return pd.DataFrame(rows, columns=MAP_COLUMNS)


def _marked(cell) -> str | None:
    """A cell's sentence, led by 参考（按人口折算） where its target is a per-capita reference."""
    text = cell["explanation"] if isinstance(cell["explanation"], str) else None
    if text and is_reference(cell["adjusted"]):
        return f"{REFERENCE}，{cell['status_label']}：{text}"
    return text


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan
