"""地区对比: one indicator across the cities of a province, each against its own target where it has
one, or against the province's target applied per resident (and saying so).

One basis per chart: where any city is judged against a target, every city's value is that
target's measure (a stock's level, a flow's 1–N月 or annual total), never one month's amount drawn
against an annual target; ``measure`` names it."""

from __future__ import annotations

import pandas as pd

from monitor.domain.config import MilestoneTarget
from monitor.domain.geo import map_children
from monitor.domain.periods import format_month_cn
from monitor.evaluation.applied import NO_POPULATION
from monitor.evaluation.panels import panel_from_values
from monitor.evaluation.sets import evaluate_regions
from monitor.evaluation.words import measure_label
from monitor.store.series import indicator_values, year_to_date_values


def children_word(ctx, province: str) -> str:
    """「各省」 below 全国, 「各市」 below a province."""
    return "各省" if ctx.regions[province].level == "country" else "各市"


def province_of(ctx, region: str) -> str:
    """The province of a city, county or zone (a province or 全国 itself)."""
    r = ctx.regions[region]
    if r.level in ("province", "country"):
        return region
    return next(a.code for a in ctx.regions.ancestors(region) if a.level == "province")


def compare_regions(ctx, indicator_id: str, province: str, as_of: str, set_id: str | None = None) -> pd.DataFrame:
    """Rows: region_code, region_name, value, period, measure, target, target_source, gap, status,
    explanation, has_demo. Each city is measured against its own target in any target set, else against the
    province's target for the indicator scaled by population, else shown without a target."""
    config = ctx.config
    ind = config.indicator(indicator_id)
    if ctx.regions[province].level == "country":  # 全国: the 31 provinces, as every national view
        cities = [ctx.regions[c] for c in map_children(ctx.regions, province)]
    else:
        cities = [r for r in ctx.regions.cities_of(province) if not r.is_grouping]
    codes = [r.code for r in cities]
    values = indicator_values(ctx.store, config, ind.id, codes, ctx.population, until=as_of)
    ytd = year_to_date_values(ctx.store, config, ind.id, codes, until=as_of)
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
    preferred = [p for p in province_targets if p[0].id == set_id] or province_targets[-1:]
    chosen = {c: own.get(c) or (preferred[0] if preferred else None) for c in codes}
    results = _evaluate_chosen(ctx, ind, chosen, values, codes, as_of, ytd)
    basis = next((pick for pick in chosen.values() if pick is not None and pick[1].type != "above_reference"), None)
    measures = {}
    measure = ind.name if ind.kind != "flow" else "当月值"
    if basis is not None:  # every city on the basis the judged ones are measured on
        measure = measure_label(basis[1], ind, as_of)
        unjudged = {c: basis for c in codes if c not in results}
        measures = _evaluate_chosen(ctx, ind, unjudged, values, codes, as_of, ytd, keep_unscaled=True)
    by_city = {code: part for code, part in values.groupby("region_code", sort=False)}
    rows = []
    for city in cities:
        mine = by_city.get(city.code, values.iloc[0:0])
        latest = mine[mine["month"] <= as_of].sort_values("month")
        row = {"region_code": city.code, "region_name": city.name,
               "value": float(latest["value"].iloc[-1]) if not latest.empty else None,
               "period": latest["month"].iloc[-1] if not latest.empty else None,
               "measure": measure, "target": None, "target_source": None, "gap": None, "status": None,
               "explanation": None, "has_demo": bool((mine["origin"] == "demo").any())}
        if basis is not None:
            shown = results.get(city.code) or measures.get(city.code)
            row["value"] = _number(shown["current"]) if shown is not None else None
            row["period"] = _text(shown["current_period"]) if shown is not None else None
        result = results.get(city.code)
        if result is not None:
            tset = chosen[city.code][0]
            note = _text(result["adjusted"])
            row.update(target=_number(result["target_value"]), gap=_number(result["gap"]), status=result["status"],
                       explanation=result["explanation"],
                       target_source=f"{tset.short_title}" + (f"（{note}）" if note else "（本地区目标）"))
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["rank"] = frame["value"].rank(ascending=ind.direction == "lower", method="min").astype("Int64")
    return frame.sort_values("rank").reset_index(drop=True)


def _evaluate_chosen(ctx, ind, chosen: dict, values: pd.DataFrame, codes: list[str], as_of: str,
                     year_to_date: pd.DataFrame | None = None, *,
                     keep_unscaled: bool = False) -> dict[str, dict]:
    """Each city's chosen target evaluated (``evaluate_regions`` once per target, on the values
    already read), by city code; cities whose target cannot be applied (above a reference, or
    scaled without a population figure) are left out, as compare_regions shows them without one
    (``keep_unscaled``: kept, for their measure alone)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for code, pick in chosen.items():
        if pick is not None and pick[1].type != "above_reference":
            groups.setdefault((pick[0].id, pick[1].id), []).append(code)
    if not groups:
        return {}
    panels = {ind.id: panel_from_values(values, codes, as_of, year_to_date)}
    found = {}
    for (set_id, target_id), group in groups.items():
        frame = evaluate_regions(ctx, set_id, as_of, group, targets=[target_id], explain=True, panels=panels,
                                 panel_codes=codes)
        for row in frame.to_dict("records"):
            if keep_unscaled or row["adjusted"] != NO_POPULATION:
                found[row["region_code"]] = row
    return found


def _number(value) -> float | None:
    return None if value is None or value != value else float(value)


def _text(value) -> str | None:
    return value if isinstance(value, str) else None  # a missing text comes out of a frame as NaN


def ranking_figure(ctx, frame: pd.DataFrame, province: str, indicator_id: str, as_of: str):
    """The ranking chart of ``compare_regions``' rows, the one builder of the 地区对比 page and the
    briefing: its title names the measure every bar shows. None when no region has a value (the
    page says so instead, the briefing leaves the chart out)."""
    from monitor.views.charts import comparison_figure

    if not frame["value"].notna().any():
        return None
    ind = ctx.config.indicator(indicator_id)
    measure = frame["measure"].iloc[0] if not frame.empty else ind.name
    said = [measure] if measure != ind.name else []
    periods = set(frame["period"].dropna())
    if len(periods) == 1 and (month := periods.pop()) != as_of:  # e.g. every city at a passed deadline
        said.append(format_month_cn(month))
    title = f"{ctx.regions[province].name}{children_word(ctx, province)}{ind.name}排名" + (f"（{'，'.join(said)}）" if said else "")
    return comparison_figure(frame.dropna(subset=["value"]), title=title, unit=ind.unit, as_of=as_of,
                             has_demo=bool(frame["has_demo"].any()))
