"""状态矩阵: every region below a parent × every indicator target of a set, each cell a status.

A target set is written for one region. Evaluated for each city of a province, the set's targets
apply as ``evaluation.applied.scale_for_region`` applies them: relative targets as written, absolute counts
per resident. ``StatusGrid.scaled_note`` says so, for the page to show. Task (milestone) targets
are the document region's own work and are left out.

The cells come from the set-based evaluator (``evaluation.sets.evaluate_regions``): one read and
one pass for all regions, with the same statuses, numbers and sentences as evaluating each region
on its own (``overview.evaluate_target_set``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from monitor.domain.config import MilestoneTarget
from monitor.domain.geo import map_children
from monitor.evaluation import STATUS_ORDER, Status
from monitor.evaluation.applied import replace_target, scales_per_resident, status_label
from monitor.evaluation.sets import evaluate_regions
from monitor.evaluation.targetset import target_text

# "Behind" for sorting: the target will not be met at the current pace, or was not met.
BEHIND_STATUSES = frozenset({Status.BEHIND.value, Status.MISSED.value})

GRID_COLUMNS = ["region_code", "region_name", "target_id", "indicator", "indicator_name", "unit", "status",
                "progress", "current", "current_period", "target_value", "target_text", "explanation", "adjusted",
                "has_demo", "status_label"]


@dataclass(frozen=True)
class StatusGrid:
    cells: pd.DataFrame  # one row per (region, target): GRID_COLUMNS
    regions: list[str]  # row order (codes)
    targets: list[str]  # column order (target ids, the set's order)
    target_labels: dict[str, str]  # target id → column label (indicator name)
    set_region: str
    scaled_note: str  # what the cells are compared against (own targets, or the set's applied per capita)

    def behind_counts(self) -> pd.Series:
        """Targets behind (滞后 or 未达成) per region code, in row order."""
        behind = self.cells[self.cells["status"].isin(BEHIND_STATUSES)].groupby("region_code").size()
        return behind.reindex(self.regions, fill_value=0)

    @property
    def without_data(self) -> bool:
        """No region has data for any target (a level the set's data do not reach)."""
        return bool((self.cells["status"] == Status.NO_DATA.value).all())

    def ordered(self, sort: Literal["behind", "code"]) -> StatusGrid:
        """The same cells in another row order (a view change: nothing is evaluated again).
        ``"behind"``: most targets behind first, then most 需加快, then code; ``"code"``: by code."""
        order = sorted(self.regions)
        if sort == "behind" and not self.cells.empty:
            cells = self.cells
            behind = cells["status"].isin(BEHIND_STATUSES).groupby(cells["region_code"]).sum()
            slower = (cells["status"] == Status.NEEDS_ACCELERATION.value).groupby(cells["region_code"]).sum()
            order.sort(key=lambda c: (-int(behind.get(c, 0)), -int(slower.get(c, 0)), c))
        return replace(self, regions=order)

    def matrix(self, column: str = "status") -> pd.DataFrame:
        """One column of the cells as regions × targets, in display order."""
        table = self.cells.pivot(index="region_code", columns="target_id", values=column)
        return table.reindex(index=self.regions, columns=self.targets)


def status_grid(ctx, set_id: str, parent: str, as_of: str, *,
                sort: Literal["behind", "code"] = "behind") -> StatusGrid:
    """The set's indicator targets evaluated for every region below ``parent`` (a province's cities,
    a city's counties). ``sort="behind"``: most targets behind first (then most 需加快, then code)."""
    tset = ctx.config.target_set(set_id)
    targets = [t for t in tset.targets if not isinstance(t, MilestoneTarget)]
    codes = map_children(ctx.regions, parent)
    cells = grid_cells(ctx, set_id, codes, as_of)

    own = {tset.region_of(t) for t in targets} & set(codes)
    applied = ("绝对数量目标按常住人口比例折算，仅作参考（参考（按人口折算），状态注「（参考）」），"
               "相对目标（增速、比值、稳步提升）按原文直接适用")
    set_name = ctx.regions[tset.region].name
    if not own:
        scaled_note = f"各地区没有本目标集的自有目标：矩阵比较的是{set_name}的目标适用于各地区的结果——{applied}。"
    else:
        names = "、".join(ctx.regions[c].name for c in sorted(own))
        scaled_note = f"{names}按本地区目标评估；其他地区比较的是{set_name}的目标适用于该地区的结果——{applied}。"
    labels = {t.id: ctx.config.indicator(t.indicator).name for t in targets}
    return StatusGrid(cells, list(codes), [t.id for t in targets], labels, tset.region, scaled_note).ordered(sort)


def grid_cells(ctx, set_id: str, codes: Sequence[str], as_of: str) -> pd.DataFrame:
    """GRID_COLUMNS for every region of ``codes`` × every indicator target of the set, region by
    region in the set's order of targets."""
    tset = ctx.config.target_set(set_id)
    targets = [t for t in tset.targets if not isinstance(t, MilestoneTarget)]
    codes = list(codes)
    if not codes or not targets:
        return pd.DataFrame(columns=GRID_COLUMNS)
    batch = evaluate_regions(ctx, set_id, as_of, codes, explain=True)  # target by target, codes in order
    n = len(codes)
    texts = []
    for k, target in enumerate(targets):
        ind = ctx.config.indicator(target.indicator)
        written = target_text(target, ind.unit, ind)
        if not scales_per_resident(target, ind):
            texts += [written] * n
            continue
        applied = batch["target_value"].to_numpy(dtype=float)[k * n:(k + 1) * n]
        scaled = [c != tset.region_of(target) and v == v for c, v in zip(codes, applied.tolist())]
        # the target as scale_for_region applies it to the region (its value per resident)
        texts += [target_text(replace_target(target, {"value": v, "baseline": None}), ind.unit, ind) if s else written
                  for s, v in zip(scaled, applied.tolist())]
    batch["target_text"] = texts
    batch["region_name"] = [ctx.regions[c].name for c in batch["region_code"]]
    names = {t.id: ctx.config.indicator(t.indicator) for t in targets}
    batch["indicator_name"] = [names[t].name for t in batch["target_id"]]
    batch["unit"] = [names[t].unit for t in batch["target_id"]]
    batch["status_label"] = [status_label(s, a if isinstance(a, str) else None)
                             for s, a in zip(batch["status"], batch["adjusted"])]
    # region by region, as the per-region evaluation lists them
    region_major = np.arange(len(batch)).reshape(len(targets), n).T.ravel()
    cells = batch.iloc[region_major][GRID_COLUMNS].reset_index(drop=True)
    cells["has_demo"] = cells["has_demo"].astype(bool)
    return cells


def status_rank(status: str | None) -> int:
    """Position of a status in STATUS_ORDER (good → bad → nothing to judge); unknown last."""
    values = [s.value for s in STATUS_ORDER]
    return values.index(status) if status in values else len(values)
