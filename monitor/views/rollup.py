"""汇总核对: a province's value computed from its cities, beside the value stored for the province.

Which indicators add up is the config's ``aggregation`` (indicators.yaml):
- ``sum``: the province is the sum of its cities (counts, amounts);
- ``recompute``: a ratio, recomputed from the summed parts (Σ numerator ÷ Σ denominator × scale) —
  never an average of the cities' ratios;
- ``none``: not additive (scores, shares, counts that include province-level units): no roll-up.

A month is summed only when every city has a value: a sum over some cities is not the province's
figure. Zones (杨凌示范区, 综改区) are not summed: their territory lies within cities already
counted. The same works one level down (a city from its counties) when counties have data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.domain.config import RatioFormula
from monitor.domain.geo import map_children
from monitor.errors import MonitorError
from monitor.store.series import indicator_values

ROLLUP_COLUMNS = ["month", "computed", "reported", "difference", "relative_difference", "disagrees",
                  "regions_reporting", "regions_expected", "missing_regions"]
# Relative difference beyond which computed and reported values are flagged as disagreeing: wide
# enough for published ratios rounded to two decimals, far below any real discrepancy in counts.
DEFAULT_TOLERANCE = 0.005


class RollupError(MonitorError):
    """The indicator cannot be rolled up (it is not additive)."""


@dataclass(frozen=True)
class Rollup:
    indicator_id: str
    parent: str
    method: str  # "sum" or "ratio"
    frame: pd.DataFrame  # ROLLUP_COLUMNS, one row per month, oldest first
    tolerance: float

    @property
    def disagreements(self) -> pd.DataFrame:
        return self.frame[self.frame["disagrees"]]

    def latest(self, until: str | None = None) -> pd.Series | None:
        """The newest month (up to ``until``) with a computed or a reported value."""
        rows = self.frame[self.frame["computed"].notna() | self.frame["reported"].notna()]
        if until is not None:
            rows = rows[rows["month"] <= until]
        return rows.iloc[-1] if not rows.empty else None


def sum_by_month(values: pd.DataFrame, codes: list[str], names: dict[str, str] | None = None) -> pd.DataFrame:
    """Per month: the sum of ``values`` (region_code, month, value) over ``codes``, NaN unless
    every code has a value that month; with how many reported and which are missing."""
    part = values[values["region_code"].isin(codes)].dropna(subset=["value"])
    months = sorted(set(part["month"].astype(str)))
    table = part.pivot_table(index="month", columns="region_code", values="value", aggfunc="sum")
    table = table.reindex(index=months, columns=codes)
    complete = table.notna().all(axis=1)
    names = names or {c: c for c in codes}
    return pd.DataFrame({
        "month": months,
        "computed": table.sum(axis=1, min_count=1).where(complete).to_numpy(dtype="float64"),
        "regions_reporting": table.notna().sum(axis=1).to_numpy(dtype="int64"),
        "regions_expected": len(codes),
        "missing_regions": ["、".join(names[c] for c in codes if pd.isna(row[c])) for _, row in table.iterrows()],
    })


def compare_with_reported(computed: pd.DataFrame, reported: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Join computed sums (``sum_by_month``'s shape) with reported values (month, value) and flag
    the months where both exist and differ by more than ``tolerance`` (relative to reported)."""
    rep = reported[["month", "value"]].rename(columns={"value": "reported"}).astype({"month": str})
    frame = computed.merge(rep, on="month", how="outer").sort_values("month").reset_index(drop=True)
    frame["regions_reporting"] = frame["regions_reporting"].fillna(0).astype("int64")
    frame["regions_expected"] = frame["regions_expected"].ffill().bfill().fillna(0).astype("int64")
    frame["missing_regions"] = frame["missing_regions"].fillna("（各地区均无数据）")
    frame["difference"] = frame["computed"] - frame["reported"]
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["relative_difference"] = frame["difference"] / frame["reported"].abs()
    both = frame["computed"].notna() & frame["reported"].notna()
    differs = frame["difference"].abs() > tolerance * frame["reported"].abs()
    frame["disagrees"] = (both & differs).astype(bool)
    return frame[ROLLUP_COLUMNS]


def rollup(ctx, indicator_id: str, parent: str, *, until: str | None = None,
           tolerance: float = DEFAULT_TOLERANCE) -> Rollup:
    """``parent``'s values of one indicator computed from the regions below it, side by side with
    the values stored for ``parent`` itself. Raises RollupError for a non-additive indicator."""
    config = ctx.config
    ind = config.indicator(indicator_id)
    if ind.aggregation == "none":
        raise RollupError(f"{ind.name}不可由下级地区加总（aggregation: none）：见 indicators.yaml 中该指标的说明")
    codes = [c for c in map_children(ctx.regions, parent) if ctx.regions[c].level != "zone"]
    names = {c: ctx.regions[c].name for c in codes}
    reported = indicator_values(ctx.store, config, ind.id, [parent], ctx.population, until=until)

    if isinstance(ind.formula, RatioFormula):
        f = ind.formula
        numerator = sum_by_month(indicator_values(ctx.store, config, f.numerator, codes, until=until), codes, names)
        if f.denominator == "population":
            months = numerator["month"].tolist()
            pop = ctx.population.population_for_months([c for m in months for c in codes],
                                                       [m for m in months for _ in codes])
            per_month = pop.reshape(len(months), len(codes)) if months else np.zeros((0, len(codes)))
            denominator = np.where(np.isnan(per_month).any(axis=1), np.nan, per_month.sum(axis=1))
        else:
            den = sum_by_month(indicator_values(ctx.store, config, f.denominator, codes, until=until), codes, names)
            denominator = numerator[["month"]].merge(den, on="month", how="left")["computed"].to_numpy(dtype="float64")
        computed = numerator.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            computed["computed"] = numerator["computed"].to_numpy(dtype="float64") / denominator * f.scale
        computed.loc[~np.isfinite(computed["computed"]), "computed"] = np.nan
        method = "ratio"
    else:
        values = indicator_values(ctx.store, config, ind.id, codes, ctx.population, until=until)
        computed = sum_by_month(values, codes, names)
        method = "sum"
    return Rollup(ind.id, parent, method, compare_with_reported(computed, reported, tolerance), tolerance)
