"""Target sets for many regions at once: every indicator target of a set for every region asked,
each region's target as ``applied.apply_to_region`` applies it, on one read of the panels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.domain.config import Indicator, MilestoneTarget, ReferenceTarget
from monitor.domain.periods import month_from_index, month_index, parse_month, year_of
from monitor.evaluation.applied import (
    AS_WRITTEN,
    NO_POPULATION,
    applies_to,
    not_applicable_note,
    scaled_note,
    scaled_value,
    scales_per_resident,
)
from monitor.evaluation.panels import Panel, panel_windows, read_panels
from monitor.evaluation.rules import _CODE, STATUSES, _evaluate_panel, _month_names, _Result
from monitor.evaluation.status import Status
from monitor.evaluation.words import Standing, explain

BATCH_COLUMNS = ["region_code", "target_id", "indicator", "status", "current", "current_period", "target_value",
                 "baseline", "baseline_period", "expected_now", "progress", "gap", "months_left", "needed_per_month",
                 "projection", "pace_ratio", "reference_value", "adjusted"]
# include demo data (overview.evaluate_target_set's has_demo)
EXPLAINED_COLUMNS = ["explanation", "has_demo"]

# --------------------------------------------------------------------------- target sets, many regions


def evaluate_regions(ctx, set_id: str, as_of: str, codes: Sequence[str] | None = None, *,
                     targets: Sequence[str] | None = None, explain: bool = False,
                     panels: dict[str, Panel] | None = None, panel_codes: list[str] | None = None) -> pd.DataFrame:
    """Every indicator target of a set (or the ``targets`` named) for every region in ``codes``
    (None: every region with observations), applied as ``applied.scale_for_region`` applies them:
    relative targets as written, absolute counts scaled by population. One row per (target,
    region): BATCH_COLUMNS, and with ``explain`` the sentence and the demo mark (EXPLAINED_COLUMNS)
    as ``overview.evaluate_target_set`` gives them.

    ``panels``/``panel_codes`` (from ``read_panels``) let a caller evaluate several sets on one read."""
    return evaluate_sets(ctx, [set_id], as_of, codes, targets={set_id: targets} if targets is not None else None,
                         explain=explain, panels=panels, panel_codes=panel_codes)[set_id]


def evaluate_sets(ctx, set_ids: Sequence[str], as_of: str, codes: Sequence[str] | None = None, *,
                  targets: Mapping[str, Sequence[str]] | None = None, explain: bool = False,
                  panels: dict[str, Panel] | None = None,
                  panel_codes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """``evaluate_regions`` for several sets on one read (and one look back, see the module notes)."""
    jobs = []
    for set_id in set_ids:
        tset = ctx.config.target_set(set_id)
        chosen = [t for t in tset.targets if not isinstance(t, MilestoneTarget)]
        if targets is not None and targets.get(set_id) is not None:
            named = set(targets[set_id])
            chosen = [t for t in chosen if t.id in named]
        jobs.append((tset, chosen))
    words = [AS_WRITTEN]  # the texts of ``adjusted``, which the rows point into
    columns, codes = _evaluate_jobs(ctx, jobs, parse_month(as_of), codes, explain, panels, panel_codes, words)
    frames = {}
    for (tset, chosen), per_target in zip(jobs, columns):
        frames[tset.id] = _frame(chosen, per_target, codes, words, explain)
    return frames


def _evaluate_jobs(ctx, jobs, as_of: str, codes, explain: bool, panels, panel_codes, words: list[str],
                   whole_history: bool = False) -> tuple[list[list[dict]], list[str]]:
    config = ctx.config
    every = [t for _, chosen in jobs for t in chosen]
    if panels is None:
        needed = sorted({t.indicator for t in every})
        references = sorted({t.reference_region for t in every if isinstance(t, ReferenceTarget)})
        read_codes = None if codes is None else list(dict.fromkeys([*codes, *references]))
        # the sentences need all history (what was observed at all, demo data anywhere before)
        since = None if explain or whole_history else panel_windows(config, every, as_of)
        panel_codes, panels = read_panels(ctx.store, config, needed, read_codes, as_of, ctx.population,
                                          since=since, origins=explain)
    if explain and any(panels[t.indicator].demo is None for t in every):
        raise ValueError("explain needs panels read with origins=True")
    codes = list(panel_codes) if codes is None else list(codes)
    rows = pd.Index(panel_codes).get_indexer(codes)
    scaling: dict = {}  # (set region, year) → population factors and their words, shared by the targets
    columns = [[_evaluate_for_regions(ctx, tset, t, panels[t.indicator], panel_codes, codes, rows, as_of, explain,
                                      scaling, words) for t in chosen] for tset, chosen in jobs]
    # Targets with regions whose answer may lie before the months read: those regions are evaluated
    # again on all their history, reading only those targets' indicators.
    unsure = [[cols.pop("unsure") for cols in per_target] for per_target in columns]
    redo = [[k for k, flags in enumerate(per_target) if flags.any()] for per_target in unsure]
    if any(redo):
        at = np.flatnonzero(np.logical_or.reduce([unsure[j][k] for j, ks in enumerate(redo) for k in ks]))
        again_jobs = [(tset, [chosen[k] for k in ks]) for (tset, chosen), ks in zip(jobs, redo)]
        again, _ = _evaluate_jobs(ctx, again_jobs, as_of, [codes[k] for k in at], explain, None, None, words,
                                  whole_history=True)
        for per_target, ks, redone in zip(columns, redo, again):
            for k, new in zip(ks, redone):
                for name, column in per_target[k].items():
                    column[at] = new[name]
    return columns, codes


def _frame(targets, per_target: list[dict], codes: list[str], words: list[str], explain: bool) -> pd.DataFrame:
    if not targets:
        return pd.DataFrame(columns=BATCH_COLUMNS + (EXPLAINED_COLUMNS if explain else []))
    n = len(codes)

    def joined(name: str) -> np.ndarray:
        return np.concatenate([cols[name] for cols in per_target])

    months = np.concatenate([joined("current_period"), joined("baseline_period")])
    known = months[months >= 0]
    lo, hi = (int(known.min()), int(known.max())) if len(known) else (0, -1)
    month_names = [month_from_index(m) for m in range(lo, hi + 1)]

    def in_months(name: str):
        column = joined(name)
        return _texts(month_names, np.where(column >= 0, column - lo, -1))

    which = np.repeat(np.arange(len(targets)), n)
    texts = {"region_code": _texts(codes, np.tile(np.arange(n), len(targets))),
             "target_id": _texts([t.id for t in targets], which),
             "indicator": _texts([t.indicator for t in targets], which),
             "status": _texts([s.value for s in STATUSES], joined("status")),
             "current_period": in_months("current_period"), "baseline_period": in_months("baseline_period"),
             "adjusted": _texts(words, joined("adjusted")),
             "months_left": pd.array(joined("months_left")).astype("Int64")}
    data = {name: texts[name] if name in texts else joined(name) for name in BATCH_COLUMNS}
    if explain:
        data["explanation"] = pd.array(joined("explanation"), dtype="str")
        data["has_demo"] = joined("has_demo")
    return pd.DataFrame(data)


def _texts(dictionary: list[str], indices: np.ndarray):
    """A text column (pandas str, as inferring it from Python strings would give) from positions in
    a list of its distinct values, -1 for a missing one."""
    indices = np.asarray(indices, dtype=np.int64)
    taken = pa.array(dictionary, type=pa.string()).take(pa.array(indices, mask=indices < 0))
    return pd.array(taken, dtype="str")


def _scaling(ctx, cache: dict, codes: list[str], set_region: str, start: str,
             words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each region's population ÷ the set region's (scale_for_region's factor), and where the words
    saying so are in ``words``."""
    key = (set_region, year_of(start))
    if key not in cache:
        theirs = ctx.population.lookup(set_region, start)
        mine = ctx.population.values_by_year(codes, [year_of(start)])[:, 0]
        factor = mine / theirs.value if theirs is not None else np.full(len(codes), np.nan)
        at = len(words) + np.arange(len(codes))
        words.extend(scaled_note(x) if x == x and abs(x) != np.inf else NO_POPULATION for x in factor.tolist())
        cache[key] = factor, at
    return cache[key]


def _evaluate_for_regions(ctx, tset, target, panel: Panel, panel_codes, codes, rows, as_of: str, explain: bool,
                          scaling: dict, words: list[str]) -> dict:
    ind = ctx.config.indicator(target.indicator)
    set_region = tset.region_of(target)
    if len(codes) == len(panel_codes) and np.array_equal(rows, np.arange(len(rows))):
        sub = panel
    else:
        take = np.clip(rows, 0, None)
        known = rows[:, None] >= 0
        sub = Panel(codes, panel.first, np.where(known, panel.values[take], np.nan), panel.complete,
                    np.where(known, panel.demo[take], False) if panel.demo is not None else None,
                    np.where(known, panel.to_date[take], np.nan) if panel.to_date is not None else None)
    reference = None
    if isinstance(target, ReferenceTarget):
        k = panel_codes.index(target.reference_region) if target.reference_region in panel_codes else -1
        reference = panel.values[k] if k >= 0 else np.full(panel.values.shape[1], np.nan)
    own = np.array(codes, dtype=object) == set_region
    missing = np.zeros(len(codes), dtype=bool)
    if not scales_per_resident(target, ind):
        out = _evaluate_panel(target, ind, sub, as_of, reference=reference)
        adjusted = np.where(own, -1, words.index(AS_WRITTEN))
    else:
        factor, noted = _scaling(ctx, scaling, codes, set_region, target.start, words)
        scaled = target.model_copy(update={"baseline": None})
        values = np.array([scaled_value(target.value, x, ind.decimals) if np.isfinite(x) else np.nan
                           for x in factor.tolist()])
        out = _evaluate_panel(scaled, ind, sub, as_of, target_values=values)
        mine = np.flatnonzero(own)
        if len(mine):  # the set region itself: the target as written
            written = Panel([codes[k] for k in mine], sub.first, sub.values[mine], sub.complete,
                            sub.demo[mine] if sub.demo is not None else None,
                            sub.to_date[mine] if sub.to_date is not None else None)
            out.take(mine, _evaluate_panel(target, ind, written, as_of))
        adjusted = np.where(own, -1, noted)
        missing = ~own & ~np.isfinite(factor)
        if missing.any():  # as scale_for_region: no population figure, no scaled target to judge
            out.clear(missing, _CODE[Status.NO_DATA])
    upward = np.array([not applies_to(ctx.regions, set_region, c) for c in codes], dtype=bool)
    if upward.any():  # a set is never applied to a region above its own
        out.clear(upward, _CODE[Status.NO_DATA])
        note = not_applicable_note(ctx.regions[set_region].name)
        if note not in words:
            words.append(note)
        adjusted = np.where(upward, words.index(note), adjusted)
    cols = {"status": out.status, "current_period": out.current_month, "baseline_period": out.baseline_month,
            **out.numbers, "adjusted": adjusted, "unsure": out.unsure | (out.unsure_words if explain else False)}
    if explain:
        cols["explanation"] = _explanations(target, ind, as_of, out)
        cols["explanation"][missing] = NO_POPULATION
        if upward.any():
            cols["explanation"][upward] = not_applicable_note(ctx.regions[set_region].name)
        cols["has_demo"] = _has_demo(sub, out, as_of) & ~missing & ~upward
    return cols


def _explanations(target, indicator: Indicator, as_of: str, out: _Result) -> np.ndarray:
    """Each row's sentence, in evaluation.explain's words."""
    def number(x: float) -> float | None:
        return None if x != x else x

    nums = {name: column.tolist() for name, column in out.numbers.items()}
    growth_base, prior = out.growth_base.tolist(), out.prior.tolist()
    texts = np.empty(len(out.status), dtype=object)
    current, baseline = _month_names(out.current_month), _month_names(out.baseline_month)
    missing, missing_from = out.missing.tolist(), _month_names(out.missing_from)
    for k, status in enumerate(out.status.tolist()):
        standing = Standing(
            STATUSES[status], current[k], number(nums["current"][k]), number(nums["target_value"][k]),
            number(nums["baseline"][k]), baseline[k], number(nums["expected_now"][k]),
            number(nums["gap"][k]), number(nums["needed_per_month"][k]), number(nums["projection"][k]),
            trend=bool(out.trend[k]), rising=bool(out.rising[k]), observed=bool(out.observed[k]),
            levels=bool(out.levels[k]), growth_base=number(growth_base[k]), prior=number(prior[k]),
            missing=missing[k], missing_from=missing_from[k])
        texts[k] = explain(target, indicator, as_of, standing)
    return texts


def _has_demo(panel: Panel, out: _Result, as_of: str) -> np.ndarray:
    """overview's has_demo: any demo value of the region up to the month judged (else the as-of month)."""
    demo = panel.demo
    upto = np.where(out.current_month >= 0, out.current_month, month_index(as_of)) - panel.first
    if demo.shape[1] == 0:
        return np.zeros(len(upto), dtype=bool)
    seen = np.logical_or.accumulate(demo, axis=1)
    inside = upto >= 0
    return inside & seen[np.arange(len(upto)), np.clip(upto, 0, demo.shape[1] - 1)]
