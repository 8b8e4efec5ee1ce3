"""A target set's targets applied to a region other than the set's own.

A target set is written for one region (its document's). Evaluated for another region — a city
of the province, say — relative targets (growth, steady increase, above a reference, ratios) apply
as written, and absolute counts are scaled by population (the document's target per resident);
every such row says so in ``adjusted``.
"""

from __future__ import annotations

from monitor.config import IncreaseTarget, LevelTarget, MilestoneTarget, RatioFormula

# The words an evaluation of another region's target carries in ``adjusted``.
AS_WRITTEN = "目标为相对值，按原文直接适用"
NO_POPULATION = "缺少人口数据，无法按人口折算"


def scaled_note(factor: float) -> str:
    return f"按人口比例折算（×{factor:.3f}）"


def scales_per_resident(target, indicator) -> bool:
    """Whether the target is an absolute count, applied to another region in proportion to its
    population (relative targets — growth, steady increase, above a reference, ratios, shares,
    scores — apply as written)."""
    return isinstance(target, (LevelTarget, IncreaseTarget)) and not isinstance(indicator.formula, RatioFormula) \
        and indicator.unit not in ("%", "分")


def scale_for_region(ctx, target, set_region: str, region: str) -> tuple[object, str | None]:
    """The target as it applies to ``region``; the second value explains any adjustment."""
    if region == set_region or isinstance(target, MilestoneTarget):
        return target, None
    if not scales_per_resident(target, ctx.config.indicator(target.indicator)):
        return target, AS_WRITTEN
    mine = ctx.population.lookup(region, target.start)
    theirs = ctx.population.lookup(set_region, target.start)
    if mine is None or theirs is None:
        return None, NO_POPULATION
    factor = mine.value / theirs.value
    changes = {"value": round(target.value * factor, 2), "baseline": None}
    return replace_target(target, changes), scaled_note(factor)


def replace_target(target, changes: dict):
    return target.model_copy(update=changes)
