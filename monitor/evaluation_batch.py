"""Set-based evaluation: one target for many regions at once, on a dense regions × months matrix.

``monitor/evaluation.py`` is the reference: one target, one region's series, every rule written
once with its words. This module applies the same rules to a whole panel of regions with numpy
(no Python loop per region), for the views that judge thousands of regions at one as-of month
(the national benchmark, and anything that ranks or counts statuses across a country). It returns
the status and the numbers behind it, not the sentence: a page that shows one region's sentence
asks the reference evaluator for it. tests/test_evaluation_batch.py holds the two to agreement on
statuses and numbers.

Layout: a panel is a float matrix, one row per region and one column per consecutive month
(NaN where nothing was observed), cut at the as-of month, so "the latest value at or before a
month" is the last non-NaN column at or left of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from monitor.config import (
    GrowthTarget,
    IncreaseTarget,
    Indicator,
    LevelTarget,
    MilestoneTarget,
    RatioFormula,
    ReferenceTarget,
    SteadyTarget,
    SumFormula,
)
from monitor.evaluation import Status
from monitor.periods import month_from_index, month_index, parse_month

BATCH_COLUMNS = ["region_code", "target_id", "indicator", "status", "current", "current_period", "target_value",
                 "baseline", "baseline_period", "expected_now", "progress", "gap", "months_left", "needed_per_month",
                 "projection", "pace_ratio", "reference_value", "adjusted"]
NUMBER_COLUMNS = ["current", "target_value", "baseline", "expected_now", "progress", "gap", "months_left",
                  "needed_per_month", "projection", "pace_ratio", "reference_value"]


@dataclass(frozen=True)
class Panel:
    """One indicator's values for ``codes`` (rows) over consecutive months from ``first`` (columns)."""

    codes: list[str]
    first: int  # month index (periods.month_index) of column 0
    values: np.ndarray  # float64, regions × months, NaN where not observed

    def column(self, month: str) -> int:
        return month_index(month) - self.first


# --------------------------------------------------------------------------- reading panels


def read_panels(store, config, indicator_ids: Sequence[str], codes: Sequence[str] | None, until: str,
                population=None, *, since: str | None = None) -> tuple[list[str], dict[str, Panel]]:
    """Panels of indicators (derived ones computed from their parts) for ``codes`` (None: every
    region with observations), up to month ``until`` (and from ``since``, None: all history).
    One query for everything; DuckDB turns keys into row and column numbers, so no string crosses
    into Python per observation."""
    wanted: list[str] = []
    for ind_id in indicator_ids:
        ind = config.indicator(ind_id)
        parts = ind.formula.parts if ind.formula else []
        for pid in [ind_id, *[p for p in parts if p != "population"]]:
            if pid not in wanted:
                wanted.append(pid)
    if codes is None:
        codes = _codes_with_observations(store, wanted, until)
    codes = list(codes)
    first, last = _month_span(store, wanted, codes, until, since)
    cube = np.full((len(wanted), len(codes), max(last - first + 1, 0)), np.nan)
    if cube.size:
        i, r, m, v = _read_cells(store, wanted, codes, month_from_index(first), until)
        cube[i, r, m - first] = v
    stored = {pid: Panel(codes, first, cube[k]) for k, pid in enumerate(wanted)}
    return codes, {ind_id: derive_panel(config.indicator(ind_id), stored, population) for ind_id in indicator_ids}


_MONTH_NUMBER = "(CAST(substr(o.month, 1, 4) AS INTEGER) * 12 + CAST(substr(o.month, 6, 2) AS INTEGER) - 1)"


def _observations_sql(store) -> tuple[str, list]:
    """The observations relation (as published, for a store opened ``as_published``) and its parameters."""
    if store.published_at is None:
        return "observations", []
    from monitor.history import as_published_sql

    inner = as_published_sql(False, False).replace(" AND indicator_id IN (SELECT unnest(?))", "")
    return f"({inner})", [store.published_at]


def _codes_with_observations(store, indicator_ids: list[str], until: str) -> list[str]:
    relation, params = _observations_sql(store)
    frame = store.query(f"SELECT DISTINCT region_code FROM {relation} o "
                        "WHERE indicator_id IN (SELECT unnest(?)) AND month <= ? ORDER BY 1",
                        [*params, indicator_ids, until])
    return frame["region_code"].tolist()


def _month_span(store, indicator_ids, codes, until: str, since: str | None) -> tuple[int, int]:
    relation, params = _observations_sql(store)
    row = store.query(f"SELECT min(month) AS lo FROM {relation} o WHERE indicator_id IN (SELECT unnest(?)) "
                      "AND month <= ?", [*params, indicator_ids, until])
    lo = row["lo"].iloc[0]
    first = month_index(lo) if isinstance(lo, str) else month_index(until)
    if since is not None:
        first = max(first, month_index(since))
    return first, month_index(until)


def _read_cells(store, indicator_ids, codes, since: str, until: str):
    relation, params = _observations_sql(store)
    sql = (f"SELECT i.k - 1 AS i, r.k - 1 AS r, {_MONTH_NUMBER} AS m, o.value AS v FROM {relation} o "
           "JOIN (SELECT unnest(?) AS id, generate_subscripts(?, 1) AS k) i ON o.indicator_id = i.id "
           "JOIN (SELECT unnest(?) AS code, generate_subscripts(?, 1) AS k) r ON o.region_code = r.code "
           "WHERE o.month BETWEEN ? AND ?")
    with store.connect() as con:
        got = con.execute(sql, [*params, indicator_ids, indicator_ids, codes, codes, since, until]).fetchnumpy()
    return (np.asarray(got["i"], dtype=np.int64), np.asarray(got["r"], dtype=np.int64),
            np.asarray(got["m"], dtype=np.int64), np.asarray(got["v"], dtype=np.float64))


def derive_panel(ind: Indicator, stored: dict[str, Panel], population=None) -> Panel:
    """The panel of an indicator: stored values, or for a derived one its formula over its parts
    (series.compute_indicator's rules), with reported values of its own filling months the parts
    do not cover."""
    own = stored[ind.id]
    if ind.formula is None:
        return own
    if isinstance(ind.formula, SumFormula):
        values = sum(stored[p].values for p in ind.formula.parts)  # NaN unless every part is there
    else:
        assert isinstance(ind.formula, RatioFormula)
        numerator = stored[ind.formula.numerator].values
        if ind.formula.denominator == "population":
            if population is None:
                raise ValueError(f"{ind.id} needs population to be computed")
            denominator = population_matrix(population, own.codes, own.first, own.values.shape[1])
        else:
            denominator = stored[ind.formula.denominator].values
        with np.errstate(divide="ignore", invalid="ignore"):
            values = numerator / denominator * ind.formula.scale
        values = np.where(np.isfinite(values), values, np.nan)
    values = np.where(np.isnan(values), own.values, values)
    return Panel(own.codes, own.first, values)


def population_matrix(population, codes: Sequence[str], first: int, n_months: int) -> np.ndarray:
    """Population of each region in each month (the latest year at or before it, else the earliest)."""
    years = (first + np.arange(n_months)) // 12
    distinct = np.unique(years)
    table = np.full((len(codes), len(distinct)), np.nan)
    for r, code in enumerate(codes):
        for k, year in enumerate(distinct):
            figure = population._pick(code, int(year))
            if figure is not None:
                table[r, k] = figure.value
    return table[:, np.searchsorted(distinct, years)]


# --------------------------------------------------------------------------- matrix helpers


def _latest(values: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (found, column, value) of the last non-NaN column with lo <= column <= hi
    (lo, hi: scalars or one per row)."""
    cols = np.arange(values.shape[1])
    lo = np.broadcast_to(np.asarray(lo), (values.shape[0],))[:, None]
    hi = np.broadcast_to(np.asarray(hi), (values.shape[0],))[:, None]
    mask = ~np.isnan(values) & (cols >= lo) & (cols <= hi)
    found = mask.any(axis=1)
    col = np.where(found, values.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1), -1)
    value = np.where(found, values[np.arange(len(col)), np.clip(col, 0, None)], np.nan)
    return found, col, value


def _first_after(values: np.ndarray, lo: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (found, column, value) of the first non-NaN column > lo."""
    cols = np.arange(values.shape[1])
    mask = ~np.isnan(values) & (cols > lo)
    found = mask.any(axis=1)
    col = np.where(found, np.argmax(mask, axis=1), -1)
    value = np.where(found, values[np.arange(len(col)), np.clip(col, 0, None)], np.nan)
    return found, col, value


def level_points(indicator: Indicator, values: np.ndarray) -> np.ndarray:
    """evaluation._level_points for every row: a monthly flow's level is its 12-month sum, defined
    where all 12 months are present; anything else is its own level."""
    if indicator.kind != "flow" or indicator.frequency == "annual":
        return values
    present = ~np.isnan(values)
    csum = np.concatenate([np.zeros((len(values), 1)), np.cumsum(np.where(present, values, 0.0), axis=1)], axis=1)
    count = np.concatenate([np.zeros((len(values), 1)), np.cumsum(present, axis=1)], axis=1)
    out = np.full(values.shape, np.nan)
    if values.shape[1] >= 12:
        sums = csum[:, 12:] - csum[:, :-12]
        full = (count[:, 12:] - count[:, :-12]) == 12
        out[:, 11:] = np.where(full, sums, np.nan)
    return out


def cumulative_points(indicator: Indicator, values: np.ndarray, first_col: int) -> np.ndarray:
    """evaluation._cumulative_points: 0 in the month before ``first_col``, then the running sum
    (monthly: through the unbroken run of months from ``first_col``)."""
    out = np.full(values.shape, np.nan)
    if first_col - 1 >= 0:
        out[:, first_col - 1] = 0.0
    if first_col >= values.shape[1]:
        return out
    amounts = values[:, first_col:]
    present = ~np.isnan(amounts)
    running = np.cumsum(np.where(present, amounts, 0.0), axis=1)
    if indicator.frequency == "monthly":
        defined = np.cumprod(present, axis=1).astype(bool)
    else:
        defined = present
    out[:, first_col:] = np.where(defined, running, np.nan)
    return out


@dataclass(frozen=True)
class _Trend:
    ok: np.ndarray  # enough points for a line
    slope: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray

    def at(self, month_idx: int, first: int) -> np.ndarray:
        return np.where(self.ok, self.y_mean + self.slope * (month_idx - first - self.x_mean), np.nan)


def _trend(points: np.ndarray, upto: np.ndarray, frequency: str, min_points: int | None = None) -> _Trend:
    """evaluation._recent_trend per row: least squares over the last 12 months up to column
    ``upto`` (monthly, >= 3 points) or the last 3 points (annual, >= 2)."""
    cols = np.arange(points.shape[1])[None, :]
    upto = np.asarray(upto)[:, None]
    present = ~np.isnan(points)
    mask = present & (cols <= upto)
    if frequency == "monthly":
        mask &= cols >= upto - 11
        need = min_points or 3
    else:
        count = np.cumsum(present, axis=1)
        at_upto = np.take_along_axis(count, np.clip(upto, 0, None), axis=1)
        mask &= count > at_upto - 3
        need = min_points or 2
    n = mask.sum(axis=1)
    ok = n >= need
    safe_n = np.where(n > 0, n, 1)
    x = np.broadcast_to(cols, points.shape).astype(float)
    y = np.where(mask, points, 0.0)
    x_mean = np.where(mask, x, 0.0).sum(axis=1) / safe_n
    y_mean = y.sum(axis=1) / safe_n
    dx = np.where(mask, x - x_mean[:, None], 0.0)
    dy = np.where(mask, points - y_mean[:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    return _Trend(ok, np.where(ok, slope, np.nan), x_mean, y_mean)


def _tolerance(x):
    return 1e-9 * np.maximum(1.0, np.abs(x))


def _not_started(out, document) -> None:
    """Every region: the target's period has not begun (the document's baseline still shown)."""
    out.status[:] = Status.NOT_STARTED.value
    if document is not None:
        out.set(slice(None), baseline=document.value)
        out.baseline_period[:] = document.period


def _baselines(target, document, points, first: int, n: int):
    """(has a baseline, baseline column, baseline value) per region: the document's, else the
    latest value at or before the start month, else the first one after it (as evaluate_target)."""
    if document is not None:
        return np.ones(n, dtype=bool), np.full(n, month_index(document.period) - first), np.full(n, document.value)
    start_col = month_index(target.start) - first
    before, b_col, b_val = _latest(points, 0, start_col)
    after, a_col, a_val = _first_after(points, start_col)
    return before | after, np.where(before, b_col, a_col), np.where(before, b_val, a_val)


def _at_or_beyond(sign, value, mark):
    return sign * (value - mark) >= -_tolerance(mark)


def _beyond(sign, value, mark):
    return sign * (value - mark) > _tolerance(mark)


# --------------------------------------------------------------------------- one target, many regions


class _Result:
    """Columns of the result being filled, one entry per region."""

    def __init__(self, n: int):
        self.status = np.full(n, "", dtype=object)
        self.period = np.full(n, None, dtype=object)
        self.baseline_period = np.full(n, None, dtype=object)
        self.numbers = {c: np.full(n, np.nan) for c in NUMBER_COLUMNS}

    def set(self, rows, **numbers) -> None:
        for name, value in numbers.items():
            self.numbers[name][rows] = np.broadcast_to(value, self.numbers[name].shape)[rows]


def evaluate_panel(target, indicator: Indicator, panel: Panel, as_of: str, *,
                   target_values: np.ndarray | None = None, reference: np.ndarray | None = None) -> pd.DataFrame:
    """``evaluate_target`` for every row of ``panel`` at once: status and numbers (BATCH_COLUMNS
    without region_code/adjusted). ``target_values``: the target's value per row where it differs
    by region (a count scaled by population); ``reference``: the reference region's row for an
    above_reference target (same months as the panel)."""
    if target.indicator != indicator.id:
        raise ValueError(f"target {target.id} measures {target.indicator!r}, not {indicator.id!r}")
    as_of = parse_month(as_of)
    end = month_index(as_of) - panel.first  # the as-of column: nothing right of it is seen
    values = panel.values[:, : end + 1] if end + 1 <= panel.values.shape[1] else np.pad(
        panel.values, ((0, 0), (0, end + 1 - panel.values.shape[1])), constant_values=np.nan)
    n = len(values)
    out = _Result(n)
    goal = np.full(n, float(getattr(target, "value", np.nan) or 0.0)) if target_values is None else \
        np.asarray(target_values, dtype=float)
    if isinstance(target, ReferenceTarget):
        ref = np.full(values.shape[1], np.nan) if reference is None else reference[: end + 1]
        _reference(out, target, indicator, panel.first, values, ref, as_of)
    elif isinstance(target, SteadyTarget):
        _steady(out, target, indicator, panel.first, values, as_of)
    elif isinstance(target, (LevelTarget, IncreaseTarget, GrowthTarget)):
        _line_target(out, target, indicator, panel.first, values, as_of, goal)
    else:
        raise TypeError(f"cannot evaluate target type {type(target).__name__}")
    frame = pd.DataFrame({"target_id": target.id, "indicator": indicator.id, "status": out.status,
                          "current_period": out.period, "baseline_period": out.baseline_period, **out.numbers})
    frame["months_left"] = frame["months_left"].astype("Int64")
    return frame


def _month(first: int, cols: np.ndarray, rows=None) -> np.ndarray:
    cols = np.asarray(cols if rows is None else cols[rows], dtype=int)
    if not len(cols):
        return np.array([], dtype=object)
    lo = int(cols.min())
    names = np.array([month_from_index(first + c) for c in range(lo, int(cols.max()) + 1)], dtype=object)
    return names[cols - lo]


def _line_target(out: _Result, target, indicator: Indicator, first: int, values: np.ndarray, as_of: str,
                 goal: np.ndarray) -> None:
    """Level, increase and growth targets: a straight line from (t0, B) to (deadline, T)."""
    n = len(values)
    as_of_col = month_index(as_of) - first
    document = getattr(target, "baseline", None)
    if isinstance(target, LevelTarget):
        sign = 1 if target.type == "at_least" else -1
        start = min(target.start, _add(document.period, 1)) if document is not None else target.start
        if as_of < start:
            _not_started(out, document)
            out.set(slice(None), target_value=goal)
            return
        points = level_points(indicator, values)
        has_base, t0, base = _baselines(target, document, points, first, n)
        first_current = t0
        no_base = ~has_base
        out.status[no_base] = Status.NO_DATA.value
        out.set(no_base, target_value=goal)
        measured = has_base
    elif isinstance(target, IncreaseTarget):
        sign = 1
        start_col = month_index(target.start) - first
        t0_col = start_col - 1
        if as_of < target.start:
            out.status[:] = Status.NOT_STARTED.value
            out.set(slice(None), target_value=goal)
            return
        if indicator.kind == "flow":
            points = cumulative_points(indicator, values, start_col)
            measured = np.ones(n, dtype=bool)
        else:
            found, _, level = _latest(values, 0, t0_col)
            if document is not None:
                level = np.where(found, level, document.value)
                measured = np.ones(n, dtype=bool)
            else:
                measured = found
            points = np.full(values.shape, np.nan)
            if t0_col >= 0:
                points[:, t0_col] = 0.0
            points[:, start_col:] = values[:, start_col:] - level[:, None]
            out.status[~measured] = Status.NO_DATA.value
            out.set(~measured, target_value=goal)
        t0 = np.full(n, t0_col)
        base = np.zeros(n)
        first_current = np.full(n, start_col)
    else:
        assert isinstance(target, GrowthTarget)
        sign = 1 if indicator.direction == "higher" else -1
        year = int(target.deadline[:4])
        t0_col = month_index(f"{year - 1}-12") - first
        jan_prev, jan = t0_col - 11, t0_col + 1
        if int(as_of[:4]) < year:
            out.status[:] = Status.NOT_STARTED.value
            return
        prev_year = values[:, max(jan_prev, 0): t0_col + 1]
        flow, monthly = indicator.kind == "flow", indicator.frequency == "monthly"
        if flow and monthly:
            full = (~np.isnan(prev_year)).sum(axis=1) == 12 if jan_prev >= 0 else np.zeros(n, dtype=bool)
            reference = np.where(full, np.nansum(prev_year, axis=1), np.nan)
        elif monthly:
            reference = values[:, t0_col] if t0_col >= 0 else np.full(n, np.nan)
        else:
            _, _, reference = _latest(values, max(jan_prev, 0), t0_col)
        measured = ~np.isnan(reference)
        out.status[~measured] = Status.NO_DATA.value
        goal = reference * (1 + target.value / 100)
        if flow:
            points = cumulative_points(indicator, values, jan)
            base = np.zeros(n)
        else:
            points = values
            base = reference
        t0 = np.full(n, t0_col)
        first_current = np.full(n, jan)

    deadline_col = month_index(target.deadline) - first
    final = as_of >= target.deadline
    has, col, value = _latest(points, first_current, min(as_of_col, deadline_col))
    empty = measured & ~has
    out.status[empty] = Status.NO_DATA.value
    out.set(empty, target_value=goal, baseline=base)
    out.baseline_period[empty] = _month(first, t0, empty)
    rows = measured & has
    if not rows.any():
        return

    span = deadline_col - t0
    elapsed = col - t0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(span > 0, np.clip(elapsed / np.where(span > 0, span, 1), 0.0, 1.0), 1.0)
        expected = base + (goal - base) * share
        moves = sign * (goal - base) > 0  # as evaluate_target: no progress for a region that started beyond its target
        progress = np.where(moves, (value - base) / np.where(moves, goal - base, 1.0), np.nan)
        gap = sign * (goal - value)
        months_left = np.zeros(n) if final else np.maximum(0, deadline_col - col)
        needed = np.where((gap > 0) & (months_left > 0), gap / np.where(months_left > 0, months_left, 1), np.nan)
        paced = (elapsed > 0) & (span > 0) & moves
        pace = np.where(paced, ((value - base) / np.where(elapsed > 0, elapsed, 1))
                        / ((goal - base) / np.where(span > 0, span, 1)), np.nan)
    reached = _at_or_beyond(sign, value, goal)
    if final:
        status = np.where(reached, Status.ACHIEVED.value, Status.MISSED.value)
        projection = np.full(n, np.nan)
    else:
        line = _trend(points, np.where(rows, col, 0), indicator.frequency)
        projection = line.at(deadline_col + first, first)
        status = np.select(
            [reached, _at_or_beyond(sign, value, expected), line.ok & _at_or_beyond(sign, projection, goal)],
            [Status.ACHIEVED.value, Status.ON_TRACK.value, Status.NEEDS_ACCELERATION.value],
            Status.BEHIND.value,
        )
    out.status[rows] = status[rows]
    out.period[rows] = _month(first, col, rows)
    out.baseline_period[rows] = _month(first, t0, rows)
    out.set(rows, current=value, target_value=goal, baseline=base, expected_now=expected, progress=progress,
            gap=gap, months_left=months_left, needed_per_month=needed, projection=projection, pace_ratio=pace)


def _steady(out: _Result, target: SteadyTarget, indicator: Indicator, first: int, values: np.ndarray,
            as_of: str) -> None:
    n = len(values)
    sign = 1 if indicator.direction == "higher" else -1
    document = target.baseline
    start = min(target.start, _add(document.period, 1)) if document is not None else target.start
    if as_of < start:
        _not_started(out, document)
        return
    points = level_points(indicator, values)
    has_base, t0, base = _baselines(target, document, points, first, n)
    out.status[~has_base] = Status.NO_DATA.value
    deadline_col = month_index(target.deadline) - first
    as_of_col = month_index(as_of) - first
    has, col, value = _latest(points, t0, min(as_of_col, deadline_col))
    empty = has_base & ~has
    out.status[empty] = Status.NO_DATA.value
    out.set(empty, baseline=base)
    out.baseline_period[empty] = _month(first, t0, empty)
    rows = has_base & has
    if not rows.any():
        return
    final = as_of >= target.deadline
    improved = _beyond(sign, value, base)
    if final:
        status = np.where(improved, Status.ACHIEVED.value, Status.MISSED.value)
        projection = np.full(n, np.nan)
    else:
        line = _trend(points, np.where(rows, col, 0), indicator.frequency)
        projection = line.at(deadline_col + first, first)
        trending = line.ok & (sign * line.slope > 0)
        status = np.select([improved & trending, improved | trending],
                           [Status.ON_TRACK.value, Status.NEEDS_ACCELERATION.value], Status.BEHIND.value)
    out.status[rows] = status[rows]
    out.period[rows] = _month(first, col, rows)
    out.baseline_period[rows] = _month(first, t0, rows)
    months_left = np.zeros(n) if final else np.maximum(0, deadline_col - col)
    out.set(rows, current=value, baseline=base, months_left=months_left, projection=projection)


def _reference(out: _Result, target: ReferenceTarget, indicator: Indicator, first: int, values: np.ndarray,
               reference: np.ndarray, as_of: str) -> None:
    n = len(values)
    sign = 1 if indicator.direction == "higher" else -1
    if as_of < target.start:
        out.status[:] = Status.NOT_STARTED.value
        return
    final = as_of >= target.deadline
    deadline_col = month_index(target.deadline) - first
    cutoff = min(month_index(as_of) - first, deadline_col)
    own = level_points(indicator, values)
    other = np.broadcast_to(level_points(indicator, reference[None, :]), own.shape)
    cols = np.arange(own.shape[1])[None, :]
    common = ~np.isnan(own) & ~np.isnan(other) & (cols <= cutoff)
    own_c, other_c = np.where(common, own, np.nan), np.where(common, other, np.nan)
    has, col, value = _latest(own_c, 0, cutoff)
    out.status[~has] = Status.NO_DATA.value
    if not has.any():
        return
    ref_value = other_c[np.arange(n), np.clip(col, 0, None)]
    gap = sign * (ref_value - value)
    above = _beyond(sign, value, ref_value)
    upto = np.where(has, col, 0)
    line = _trend(own_c, upto, indicator.frequency, min_points=2)
    projection = line.at(deadline_col + first, first)
    if final:
        status = np.where(above, Status.ACHIEVED.value, Status.MISSED.value)
        projection = np.full(n, np.nan)
    else:
        ref_line = _trend(other_c, upto, indicator.frequency, min_points=2)
        both = line.ok & ref_line.ok
        catching = both & _beyond(sign, projection, ref_line.at(deadline_col + first, first))
        status = np.select([above, catching], [Status.ON_TRACK.value, Status.NEEDS_ACCELERATION.value],
                           Status.BEHIND.value)
        projection = np.where(above | both, projection, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(ref_value != 0, value / np.where(ref_value != 0, ref_value, 1.0), np.nan)
    months_left = np.zeros(n) if final else np.maximum(0, deadline_col - col)
    out.status[has] = status[has]
    out.period[has] = _month(first, col, has)
    out.set(has, current=value, target_value=ref_value, reference_value=ref_value, gap=gap, progress=progress,
            months_left=months_left, projection=projection)


def _add(month: str, n: int) -> str:
    return month_from_index(month_index(month) + n)


# --------------------------------------------------------------------------- a target set, many regions


def evaluate_regions(ctx, set_id: str, as_of: str, codes: Sequence[str] | None = None, *,
                     panels: dict[str, Panel] | None = None, panel_codes: list[str] | None = None) -> pd.DataFrame:
    """Every indicator target of a set for every region in ``codes`` (None: every region with
    observations), applied as ``overview.scale_for_region`` applies them: relative targets as
    written, absolute counts scaled by population. One row per (region, target): BATCH_COLUMNS.

    ``panels``/``panel_codes`` (from ``read_panels``) let a caller evaluate several sets on one read."""
    config = ctx.config
    tset = config.target_set(set_id)
    targets = [t for t in tset.targets if not isinstance(t, MilestoneTarget)]
    if not targets:
        return pd.DataFrame(columns=BATCH_COLUMNS)
    if panels is None:
        needed = sorted({t.indicator for t in targets})
        references = sorted({t.reference_region for t in targets if isinstance(t, ReferenceTarget)})
        read_codes = None if codes is None else list(dict.fromkeys([*codes, *references]))
        panel_codes, panels = read_panels(ctx.store, config, needed, read_codes, as_of, ctx.population)
    codes = list(panel_codes) if codes is None else list(codes)
    rows = pd.Index(panel_codes).get_indexer(codes)
    frames = []
    for target in targets:
        frames.append(_evaluate_for_regions(ctx, tset, target, panels[target.indicator], panel_codes, codes, rows,
                                            as_of))
    return pd.concat(frames, ignore_index=True)[BATCH_COLUMNS]


@lru_cache(maxsize=16)
def _population_at(population, codes: tuple[str, ...], year: int) -> np.ndarray:
    """Population of each region in ``year`` (Population.lookup's rule), NaN without a figure."""
    figures = (population._pick(c, year) for c in codes)
    return np.array([f.value if f is not None else np.nan for f in figures], dtype=float)


def _evaluate_for_regions(ctx, tset, target, panel: Panel, panel_codes, codes, rows, as_of) -> pd.DataFrame:
    ind = ctx.config.indicator(target.indicator)
    set_region = tset.region_of(target)
    matrix = np.where(rows[:, None] >= 0, panel.values[np.clip(rows, 0, None)], np.nan)
    sub = Panel(codes, panel.first, matrix)
    reference = None
    if isinstance(target, ReferenceTarget):
        k = panel_codes.index(target.reference_region) if target.reference_region in panel_codes else -1
        reference = panel.values[k] if k >= 0 else np.full(panel.values.shape[1], np.nan)
    absolute = isinstance(target, (LevelTarget, IncreaseTarget)) and not isinstance(ind.formula, RatioFormula) \
        and ind.unit not in ("%", "分")
    own = np.array([c == set_region for c in codes])
    if not absolute:
        frame = evaluate_panel(target, ind, sub, as_of, reference=reference)
        frame["adjusted"] = np.where(own, None, "目标为相对值，按原文直接适用")
    else:
        written = evaluate_panel(target, ind, sub, as_of)  # the set region: the target as written
        scaled = target.model_copy(update={"baseline": None})
        theirs = ctx.population.lookup(set_region, target.start)
        mine = _population_at(ctx.population, tuple(codes), int(target.start[:4]))
        factor = mine / theirs.value if theirs is not None else np.full(len(codes), np.nan)
        values = np.round(target.value * factor, 2)
        others = evaluate_panel(scaled, ind, sub, as_of, target_values=values)
        frame = others
        for k in np.flatnonzero(own):  # the set region itself (one row, or none)
            frame.iloc[k] = written.iloc[k]
        frame["adjusted"] = [None if o else (f"按人口比例折算（×{x:.3f}）" if np.isfinite(x) else "缺少人口数据，无法按人口折算")
                             for o, x in zip(own, factor)]
        missing = ~own & ~np.isfinite(factor)
        if missing.any():
            frame.loc[missing, ["current_period", "baseline_period"]] = None
            frame.loc[missing, NUMBER_COLUMNS] = np.nan
            frame.loc[missing, "status"] = Status.NO_DATA.value
    frame.insert(0, "region_code", codes)
    return frame
