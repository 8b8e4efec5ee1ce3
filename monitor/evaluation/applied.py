"""A target set's targets applied to a region other than the set's own.

A target set is written for one region (its document's). It is never applied upward: a city's
plan says nothing about its province or any region of a higher level. To a region of the same or
a lower level, relative targets (growth, steady increase, above a reference, ratios, shares,
scores) apply as written, and absolute counts scaled by population are a *reference*, never the
region's own target: rounded to whole units for counts, marked 参考（按人口折算） wherever they
appear, with status words of their own (``status_label``). Every such row says so in ``adjusted``.
"""

from __future__ import annotations

from monitor.domain.config import IncreaseTarget, LevelTarget, MilestoneTarget, RatioFormula

# The words an evaluation of another region's target carries in ``adjusted``.
AS_WRITTEN = "目标为相对值，按原文直接适用"
NO_POPULATION = "缺少人口数据，无法按人口折算"
REFERENCE = "参考（按人口折算）"

_LEVEL_RANK = {"country": 0, "province": 1, "city": 2, "zone": 2, "county": 3}


def scaled_note(factor: float) -> str:
    return f"{REFERENCE}：人口为目标地区的 {factor:.3f} 倍"


def not_applicable_note(set_name: str) -> str:
    return f"不适用：目标集为{set_name}制定，不用于上级或更高层级的地区"


def is_reference(adjusted: str | None) -> bool:
    """Whether a row's target is a per-capita reference, not the region's own target."""
    return isinstance(adjusted, str) and adjusted.startswith(REFERENCE)


def status_label(status: str, adjusted: str | None) -> str:
    """The status as shown: a reference target's verdict reads 「已达成（参考）」, never as the
    region's own 「已达成」."""
    return f"{status}（参考）" if is_reference(adjusted) else status


def applies_to(regions, set_region: str, region: str) -> bool:
    """A set applies to its own region and to regions of the same or a lower level, never upward."""
    if region == set_region:
        return True
    return _LEVEL_RANK[regions[region].level] >= _LEVEL_RANK[regions[set_region].level]


def scales_per_resident(target, indicator) -> bool:
    """Whether the target is an absolute count, applied to another region in proportion to its
    population (relative targets — growth, steady increase, above a reference, ratios, shares,
    scores — apply as written)."""
    return isinstance(target, (LevelTarget, IncreaseTarget)) and not isinstance(indicator.formula, RatioFormula) \
        and indicator.unit not in ("%", "分")


def scaled_value(value: float, factor: float, decimals: int) -> float:
    """A count target per resident, in the indicator's own precision: whole units for counts (a
    positive target never scales to 0, which would be met by doing nothing)."""
    scaled = round(value * factor, decimals)
    floor = 10.0 ** -decimals
    return max(scaled, floor) if value > 0 else scaled


def scale_for_region(ctx, target, set_region: str, region: str) -> tuple[object, str | None]:
    """The target as it applies to ``region``; the second value explains any adjustment. None
    with the reason when it does not apply (upward, or no population to scale by)."""
    if region == set_region or isinstance(target, MilestoneTarget):
        return target, None
    if not applies_to(ctx.regions, set_region, region):
        return None, not_applicable_note(ctx.regions[set_region].name)
    indicator = ctx.config.indicator(target.indicator)
    if not scales_per_resident(target, indicator):
        return target, AS_WRITTEN
    mine = ctx.population.lookup(region, target.start)
    theirs = ctx.population.lookup(set_region, target.start)
    if mine is None or theirs is None:
        return None, NO_POPULATION
    factor = mine.value / theirs.value
    changes = {"value": scaled_value(target.value, factor, indicator.decimals), "baseline": None}
    return replace_target(target, changes), scaled_note(factor)


def replace_target(target, changes: dict):
    return target.model_copy(update=changes)
