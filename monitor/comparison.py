"""地区对比: one indicator across the cities of a province, each against its own target where it has
one, or against the province's target applied per resident (and saying so)."""

from __future__ import annotations

import pandas as pd

from monitor.config import MilestoneTarget
from monitor.evaluation import evaluate_target
from monitor.overview import scale_for_region
from monitor.series import as_series, indicator_values


def province_of(ctx, region: str) -> str:
    """The province of a city, county or zone (a province or 全国 itself)."""
    r = ctx.regions[region]
    if r.level in ("province", "country"):
        return region
    return next(a.code for a in ctx.regions.ancestors(region) if a.level == "province")


def compare_regions(ctx, indicator_id: str, province: str, as_of: str, set_id: str | None = None) -> pd.DataFrame:
    """Rows: region_code, region_name, value, period, target, target_source, gap, status, explanation,
    has_demo. Each city is measured against its own target in any target set, else against the
    province's target for the indicator scaled by population, else shown without a target."""
    config = ctx.config
    ind = config.indicator(indicator_id)
    cities = [r for r in ctx.regions.cities_of(province) if not r.is_grouping]
    codes = [r.code for r in cities]
    values = indicator_values(ctx.store, config, ind.id, codes, ctx.population, until=as_of)
    own = {}
    province_targets = []
    for tset in config.target_sets:
        for t in tset.targets:
            if isinstance(t, MilestoneTarget) or t.indicator != ind.id:
                continue
            code = tset.region_of(t)
            if code in codes:
                own.setdefault(code, (tset, t))
            elif code == province:
                province_targets.append((tset, t))
    rows = []
    for city in cities:
        series = as_series(values, city.code)
        latest = series[series.index <= as_of]
        row = {"region_code": city.code, "region_name": city.name,
               "value": float(latest.iloc[-1]) if not latest.empty else None,
               "period": latest.index[-1] if not latest.empty else None,
               "target": None, "target_source": None, "gap": None, "status": None, "explanation": None,
               "has_demo": bool((values[values["region_code"] == city.code]["origin"] == "demo").any())}
        preferred = [p for p in province_targets if p[0].id == set_id] or province_targets[-1:]
        chosen = own.get(city.code) or (preferred[0] if preferred else None)
        if chosen is not None:
            tset, target = chosen
            applied, note = scale_for_region(ctx, target, tset.region_of(target), city.code)
            if applied is not None and applied.type != "above_reference":
                result = evaluate_target(applied, ind, series, as_of)
                row.update(target=result.target_value, gap=result.gap, status=result.status.value,
                           explanation=result.explanation,
                           target_source=f"{tset.short_title}" + (f"（{note}）" if note else "（本地区目标）"))
                if result.current is not None and result.current_period == row["period"]:
                    row["value"] = result.current  # the measure the target is judged on (e.g. a 12-month sum)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["rank"] = frame["value"].rank(ascending=ind.direction == "lower", method="min").astype("Int64")
    return frame.sort_values("rank").reset_index(drop=True)
