"""排名: one indicator across the cities of a province (or the counties of a city) in one month —
rank, change in rank over twelve months, growth on the month and on the year, share of the total.

Ranks are taken among the regions with a value in that very month (no carrying an older value
forward); ties share the better rank (1, 2, 2, 4). Better is higher unless the indicator's
direction is "lower". Annual indicators are recorded in December, so they are ranked on the
latest December up to the month asked for, and have no month-on-month growth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.domain.geo import map_children
from monitor.domain.periods import add_months, parse_month
from monitor.store.series import indicator_values

RANKING_COLUMNS = ["region_code", "region_name", "value", "rank", "rank_before", "rank_change", "value_prev_month",
                   "mom_pct", "value_prev_year", "yoy_pct", "share_pct"]


@dataclass(frozen=True)
class Rankings:
    frame: pd.DataFrame  # RANKING_COLUMNS, best rank first, regions without a value last
    month: str  # the month ranked
    month_before: str  # the month the rank change is measured from (12 months earlier)
    share_note: str | None  # why shares are missing, when they are
    has_demo: bool = False  # any value ranked or compared is demo data


def ranked_month(as_of: str, annual: bool) -> str:
    """The month a ranking as of ``as_of`` uses: itself, or for annual data the latest December."""
    month = parse_month(as_of)
    if not annual or month.endswith("-12"):
        return month
    return f"{int(month[:4]) - 1}-12"


def rank_values(values: pd.DataFrame, names: dict[str, str], month: str, *, direction: str = "higher",
                additive: bool = True, monthly: bool = True) -> Rankings:
    """Rank the regions of ``names`` (code → name, in display order) on their ``values``
    (region_code, month, value) in ``month``."""
    codes = list(names)
    by_key = {(r, m): float(v) for r, m, v in zip(values["region_code"], values["month"].astype(str), values["value"])}

    def at(m: str) -> pd.Series:
        return pd.Series([by_key.get((c, m), np.nan) for c in codes], index=codes, dtype="float64")

    before_month = add_months(month, -12)
    now, before = at(month), at(before_month)
    year_ago = before  # the same month a year earlier: ranks then, and the base of YoY growth
    last_month = at(add_months(month, -1)) if monthly else pd.Series(np.nan, index=codes)
    ascending = direction == "lower"
    rank = now.rank(ascending=ascending, method="min")
    rank_before = before.rank(ascending=ascending, method="min")

    def growth(prev: pd.Series) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = (now / prev - 1) * 100
        return pct.where(prev > 0)

    share = pd.Series(np.nan, index=codes)
    share_note = None
    if not additive:
        share_note = "该指标不可加总（比值、得分或含省级单位的数量），不计算占比"
    elif now.isna().any():
        missing = "、".join(names[c] for c in codes if np.isnan(now[c]))
        share_note = f"{missing}本月无数据，各地区合计不完整，不计算占比"
    elif now.sum() > 0:
        share = now / now.sum() * 100

    frame = pd.DataFrame({
        "region_code": codes, "region_name": [names[c] for c in codes], "value": now.to_numpy(),
        "rank": rank.astype("Int64").to_numpy(), "rank_before": rank_before.astype("Int64").to_numpy(),
        "value_prev_month": last_month.to_numpy(), "mom_pct": growth(last_month).to_numpy(),
        "value_prev_year": year_ago.to_numpy(), "yoy_pct": growth(year_ago).to_numpy(), "share_pct": share.to_numpy(),
    })
    # Positive: moved up (rank 5 → rank 2 is +3).
    frame["rank_change"] = (frame["rank_before"] - frame["rank"]).astype("Int64")
    frame = frame.sort_values(["rank", "region_code"], na_position="last").reset_index(drop=True)
    used = values[values["month"].astype(str).isin({month, before_month, add_months(month, -1)})]
    has_demo = bool((used.get("origin", pd.Series(dtype=object)) == "demo").any())
    return Rankings(frame[RANKING_COLUMNS], month, before_month, share_note, has_demo)


def region_rankings(ctx, indicator_id: str, parent: str, as_of: str) -> Rankings:
    """The cities of a province (or counties of a city) ranked on one indicator as of a month.
    Zones (杨凌示范区, 综改区) are left out: their territory lies within cities already ranked."""
    ind = ctx.config.indicator(indicator_id)
    codes = [c for c in map_children(ctx.regions, parent) if ctx.regions[c].level != "zone"]
    values = indicator_values(ctx.store, ctx.config, ind.id, codes, ctx.population, until=as_of)
    names = {c: ctx.regions[c].name for c in codes}
    return rank_values(values, names, ranked_month(as_of, ind.frequency == "annual"), direction=ind.direction,
                       additive=ind.aggregation == "sum", monthly=ind.frequency == "monthly")
