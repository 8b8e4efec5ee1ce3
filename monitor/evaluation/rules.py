"""The rules: every target type applied to every row of a panel at once (numpy, no Python loop per
region). Numeric targets (at_least, at_most, increase, growth) are one straight line from a
baseline (t0, B) to the target (tD, T) over a measured quantity Q(m); the status compares Q with
that line and with a least-squares projection to the deadline. Direction is a sign (+1: higher is
better, -1: lower is better) so every comparison is written once.

An as-of evaluation sees only observations dated at or before ``as_of``: what the monitor would
have said at the end of that month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.domain.config import GrowthTarget, IncreaseTarget, Indicator, LevelTarget, ReferenceTarget, SteadyTarget
from monitor.domain.periods import add_months, month_from_index, month_index, parse_month, year_of
from monitor.evaluation.panels import Panel, _anchor, calendar_basis, cumulative_points, level_points, year_totals
from monitor.evaluation.status import Status

NUMBER_COLUMNS = ["current", "target_value", "baseline", "expected_now", "progress", "gap", "months_left",
                  "needed_per_month", "projection", "pace_ratio", "reference_value"]
# Statuses travel as small integers (positions in STATUSES), months as month indices (-1: none),
# until the frame is built: texts from a few distinct ones make a column far faster than one
# Python string per row does.
STATUSES = list(Status)
_CODE = {s: np.int8(i) for i, s in enumerate(STATUSES)}
# added by evaluate_regions(..., explain=True): the sentence, and whether the values it rests on

# --------------------------------------------------------------------------- matrix helpers


def _latest(values: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (found, column, value) of the last non-NaN column with lo <= column <= hi
    (lo, hi: scalars or one per row). Only the columns some row may use are looked at."""
    n, m = values.shape
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=int), np.zeros(0)
    lo_arr, hi_arr = np.asarray(lo), np.asarray(hi)
    a, b = max(int(lo_arr.min()), 0), min(int(hi_arr.max()), m - 1)
    if b < a:
        return np.zeros(n, dtype=bool), np.full(n, -1), np.full(n, np.nan)
    block = values[:, a: b + 1]
    mask = ~np.isnan(block)
    cols = np.arange(a, b + 1)
    if lo_arr.ndim:
        mask &= cols >= lo_arr[:, None]
    if hi_arr.ndim:
        mask &= cols <= hi_arr[:, None]
    found = mask.any(axis=1)
    col = np.where(found, b - np.argmax(mask[:, ::-1], axis=1), -1)
    value = np.where(found, values[np.arange(n), np.clip(col, 0, None)], np.nan)
    return found, col, value


def _first_after(values: np.ndarray, lo: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (found, column, value) of the first non-NaN column > lo."""
    n, m = values.shape
    a = max(lo + 1, 0)
    if a >= m:
        return np.zeros(n, dtype=bool), np.full(n, -1), np.full(n, np.nan)
    mask = ~np.isnan(values[:, a:])
    found = mask.any(axis=1)
    col = np.where(found, a + np.argmax(mask, axis=1), -1)
    value = np.where(found, values[np.arange(n), np.clip(col, 0, None)], np.nan)
    return found, col, value


def _level_edge(indicator: Indicator) -> int:
    """The first column of a window whose level is exact: a monthly flow's 12-month sum needs the
    11 months before it."""
    return 11 if indicator.kind == "flow" and indicator.frequency == "monthly" else 0


@dataclass(frozen=True)
class _Trend:
    ok: np.ndarray  # enough points for a line
    slope: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    count: np.ndarray  # points in the window
    oldest: np.ndarray  # the earliest column among them (-1: none)

    def at(self, month_idx: int, first: int) -> np.ndarray:
        return np.where(self.ok, self.y_mean + self.slope * (month_idx - first - self.x_mean), np.nan)


def _trend(points: np.ndarray, upto: np.ndarray, frequency: str, min_points: int | None = None) -> _Trend:
    """evaluation._recent_trend per row: least squares over the last 12 months up to column
    ``upto`` (monthly, >= 3 points) or the last 3 points (annual, >= 2). Each row's window is
    gathered into a narrow matrix, so the cost does not grow with the history read."""
    n, m = points.shape
    upto = np.asarray(upto)
    if frequency == "monthly":
        cols = upto[:, None] + np.arange(-11, 1)[None, :]
        inside = (cols >= 0) & (cols < m)
        y = np.where(inside, points[np.arange(n)[:, None], np.clip(cols, 0, max(m - 1, 0))], np.nan) if m else \
            np.full(cols.shape, np.nan)
        need = min_points or 3
    else:
        cols, y = np.full((n, 3), -1), np.full((n, 3), np.nan)
        hi = upto
        for k in (2, 1, 0):  # the latest point, then the one before it, then the one before that
            found, col, value = _latest(points, 0, hi)
            cols[:, k], y[:, k] = col, value
            hi = np.where(found, col - 1, -1)
        need = min_points or 2
    mask = ~np.isnan(y)
    count = mask.sum(axis=1)
    ok = count >= need
    safe_n = np.where(count > 0, count, 1)
    x = cols.astype(float)
    x_mean = np.where(mask, x, 0.0).sum(axis=1) / safe_n
    y_mean = np.where(mask, y, 0.0).sum(axis=1) / safe_n
    dx = np.where(mask, x - x_mean[:, None], 0.0)
    dy = np.where(mask, y - y_mean[:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    oldest = np.where(count > 0, np.where(mask, cols, m).min(axis=1), -1)
    return _Trend(ok, np.where(ok, slope, np.nan), x_mean, y_mean, count, oldest)


def _tolerance(x):
    return 1e-9 * np.maximum(1.0, np.abs(x))


def _at_or_beyond(sign, value, mark):
    return sign * (value - mark) >= -_tolerance(mark)


def _beyond(sign, value, mark):
    return sign * (value - mark) > _tolerance(mark)


# --------------------------------------------------------------------------- looking back past a window


@dataclass(frozen=True)
class _Window:
    """Whether a panel holds all history (``complete``) and, if not, where its levels become exact."""

    complete: bool
    edge: int  # the first column whose level is exact (_level_edge)

    def search(self, found: np.ndarray, col: np.ndarray, lo, edge: int | None = None) -> np.ndarray:
        """Rows of a backward search over columns lo.. (lo < 0: all history) whose answer may lie
        before the window: it started before the first exact column and found nothing at or after it."""
        edge = self.edge if edge is None else edge
        if self.complete:
            return np.zeros(len(found), dtype=bool)
        return (np.asarray(lo) < edge) & (~found | (col < edge))

    def trend(self, line: _Trend, frequency: str, upto: np.ndarray, edge: int | None = None) -> np.ndarray:
        """Rows whose recent-trend window may reach before the first exact column: the last 12
        months (monthly), or the last three points when fewer than three were found after it (annual)."""
        edge = self.edge if edge is None else edge
        if self.complete:
            return np.zeros(len(upto), dtype=bool)
        if frequency == "monthly":
            return np.asarray(upto) - 11 < edge
        return (line.count < 3) | (line.oldest < edge)


# --------------------------------------------------------------------------- one target, many regions


class _Result:
    """Columns of the result being filled, one entry per region."""

    def __init__(self, n: int):
        self.status = np.full(n, -1, dtype=np.int8)  # a position in STATUSES
        self.current_month = np.full(n, -1)  # month index of the current value, -1 without one
        self.baseline_month = np.full(n, -1)  # ... and of the baseline
        self.numbers = {c: np.full(n, np.nan) for c in NUMBER_COLUMNS}
        # rows that observations before the panel's first month could change (see _Window)
        self.unsure = np.zeros(n, dtype=bool)
        # ... and rows whose words could change with them (whether anything was observed at all)
        self.unsure_words = np.zeros(n, dtype=bool)
        # what the words need beyond the numbers (evaluation.Standing)
        self.trend = np.zeros(n, dtype=bool)
        self.rising = np.zeros(n, dtype=bool)
        self.observed = np.ones(n, dtype=bool)
        self.levels = np.ones(n, dtype=bool)
        self.growth_base = np.full(n, np.nan)
        self.prior = np.full(n, np.nan)
        self.document_base = np.zeros(n, dtype=bool)
        # a deadline year's running total stopped by missing months: how many, and the first of them
        self.missing = np.zeros(n, dtype=np.int64)
        self.missing_from = np.full(n, -1)  # the baseline is the document's, not observed
        # the measured quantity Q per region and month (what a chart of the target draws), from
        # month index ``points_first``; None until a rule has computed it
        self.points: np.ndarray | None = None
        self.points_first = 0

    def set(self, rows, **numbers) -> None:
        for name, value in numbers.items():
            self.numbers[name][rows] = np.broadcast_to(value, self.numbers[name].shape)[rows]

    def _columns(self) -> dict[str, np.ndarray]:
        return {**{k: v for k, v in vars(self).items() if isinstance(v, np.ndarray) and v.ndim == 1}, **self.numbers}

    def take(self, rows: np.ndarray, other: _Result) -> None:
        """Rows ``rows`` become ``other``'s rows (in order)."""
        theirs = other._columns()
        for name, column in self._columns().items():
            column[rows] = theirs[name]

    def clear(self, rows: np.ndarray, status: np.int8) -> None:
        """Rows ``rows`` hold nothing but ``status`` (a verdict that needs no observation)."""
        fresh = _Result(int(np.count_nonzero(rows)))
        fresh.status[:] = status
        self.take(np.flatnonzero(rows), fresh)


def evaluate_panel(target, indicator: Indicator, panel: Panel, as_of: str, *,
                   target_values: np.ndarray | None = None, reference: np.ndarray | None = None) -> pd.DataFrame:
    """``evaluate_target`` for every row of ``panel`` at once: status and numbers (BATCH_COLUMNS
    without region_code/adjusted). ``target_values``: the target's value per row where it differs
    by region (a count scaled by population); ``reference``: the reference region's row for an
    above_reference target (same months as the panel)."""
    out = _evaluate_panel(target, indicator, panel, as_of, target_values=target_values, reference=reference)
    frame = pd.DataFrame({"target_id": target.id, "indicator": indicator.id,
                          "status": np.array([s.value for s in STATUSES], dtype=object)[out.status],
                          "current_period": _month_names(out.current_month),
                          "baseline_period": _month_names(out.baseline_month), **out.numbers})
    frame["months_left"] = frame["months_left"].astype("Int64")
    return frame


def _evaluate_panel(target, indicator: Indicator, panel: Panel, as_of: str, *,
                    target_values: np.ndarray | None = None, reference: np.ndarray | None = None) -> _Result:
    if target.indicator != indicator.id:
        raise ValueError(f"target {target.id} measures {target.indicator!r}, not {indicator.id!r}")
    as_of = parse_month(as_of)
    values, to_date, first = panel.values, panel.to_date, panel.first
    anchor = _anchor(target, indicator)
    short = anchor is not None and month_index(anchor) < first
    if short:  # the target indexes a month before the panel: give it that column (empty)
        widen = first - month_index(anchor)
        values = np.pad(values, ((0, 0), (widen, 0)), constant_values=np.nan)
        if to_date is not None:
            to_date = np.pad(to_date, ((0, 0), (widen, 0)), constant_values=np.nan)
        if reference is not None:
            reference = np.pad(reference, (widen, 0), constant_values=np.nan)
        first = month_index(anchor)
    end = month_index(as_of) - first  # the as-of column: nothing right of it is seen
    values = _until(values, end)
    if to_date is not None:
        to_date = _until(to_date, end)
    n = len(values)
    out = _Result(n)
    out.points_first = first
    window = _Window(panel.complete, _level_edge(indicator))
    goal = np.full(n, float(getattr(target, "value", np.nan) or 0.0)) if target_values is None else \
        np.asarray(target_values, dtype=float)
    if isinstance(target, ReferenceTarget):
        ref = np.full(values.shape[1], np.nan) if reference is None else reference[: end + 1]
        if len(ref) < values.shape[1]:
            ref = np.pad(ref, (0, values.shape[1] - len(ref)), constant_values=np.nan)
        _reference(out, target, indicator, first, values, ref, as_of, window)
    elif isinstance(target, SteadyTarget):
        _steady(out, target, indicator, first, values, as_of, window)
    elif isinstance(target, (LevelTarget, IncreaseTarget, GrowthTarget)):
        _line_target(out, target, indicator, first, values, as_of, goal, window, to_date)
    else:
        raise TypeError(f"cannot evaluate target type {type(target).__name__}")
    if short and not panel.complete:
        out.unsure[:] = True  # the window misses a month the target reads directly
    return out


def _until(matrix: np.ndarray, end: int) -> np.ndarray:
    """Columns 0…``end`` of ``matrix``, padded with NaN where it is shorter."""
    if end + 1 <= matrix.shape[1]:
        return matrix[:, : end + 1]
    return np.pad(matrix, ((0, 0), (0, end + 1 - matrix.shape[1])), constant_values=np.nan)


def _month_names(months: np.ndarray) -> np.ndarray:
    """Month indices as "YYYY-MM" (None for -1)."""
    return np.array([month_from_index(m) if m >= 0 else None for m in months.tolist()], dtype=object)


def _not_started(out: _Result, document) -> None:
    """Every region: the target's period has not begun (the document's baseline still shown)."""
    out.status[:] = _CODE[Status.NOT_STARTED]
    if document is not None:
        out.set(slice(None), baseline=document.value)
        out.baseline_month[:] = month_index(document.period)


def _baselines(target, document, points: np.ndarray, first: int, window: _Window):
    """(has a baseline, baseline column, baseline value, unsure) per region: the document's, else
    the latest level before the period (at the end of the previous year for a target that starts
    in January), else the first level in the period."""
    n = len(points)
    if document is not None:
        t0 = month_index(document.period) - first
        return np.ones(n, dtype=bool), np.full(n, t0), np.full(n, document.value), np.zeros(n, dtype=bool)
    before_start = month_index(target.start) - first - 1
    before, b_col, b_val = _latest(points, -1, before_start)
    after, a_col, a_val = _first_after(points, before_start)
    return before | after, np.where(before, b_col, a_col), np.where(before, b_val, a_val), \
        window.search(before, b_col, -1)


def _observed(out: _Result, values: np.ndarray, points: np.ndarray, window: _Window) -> None:
    """What a level's NO_DATA sentence says was there (evaluation._level_no_data_text)."""
    out.observed = (~np.isnan(values)).any(axis=1)
    out.levels = (~np.isnan(points)).any(axis=1)
    if not window.complete:
        out.unsure_words |= ~(out.observed & out.levels)


def _line_target(out: _Result, target, indicator: Indicator, first: int, values: np.ndarray, as_of: str,
                 goal: np.ndarray, window: _Window, to_date: np.ndarray | None = None) -> None:
    """Level, increase and growth targets: a straight line from (t0, B) to (deadline, T).
    ``to_date``: a monthly flow's year-to-date (Panel.to_date), which its running totals read."""
    n = len(values)
    as_of_col = month_index(as_of) - first
    document = getattr(target, "baseline", None)
    if isinstance(target, LevelTarget):
        sign = 1 if target.type == "at_least" else -1
        start = min(target.start, add_months(document.period, 1)) if document is not None else target.start
        if as_of < start:
            _not_started(out, document)
            out.set(slice(None), target_value=goal)
            return
        calendar = calendar_basis(target, indicator)
        jan = month_index(f"{year_of(target.deadline)}-01") - first
        if calendar and as_of_col >= jan:
            # the deadline year has begun: its 1–N月 total, from 0 at the end of the year before
            points = cumulative_points(indicator, values, jan, to_date, first)
            points[:, jan + 12:] = np.nan  # the deadline year's total ends with its December
            _observed(out, values, points, window)
            measured = np.ones(n, dtype=bool)
            t0, base, first_current = np.full(n, jan - 1), np.zeros(n), np.full(n, jan)
            edge = None  # amounts since January: nothing before it counts
        else:
            points = year_totals(values, first, to_date) if calendar else level_points(indicator, values)
            _observed(out, values, points, window)
            has_base, t0, base, unsure = _baselines(target, document, points, first, window)
            out.unsure |= unsure
            out.document_base[:] = document is not None
            first_current = t0 + 1  # a value in the period: the baseline is never compared with itself
            no_base = ~has_base
            out.status[no_base] = _CODE[Status.NO_DATA]
            out.set(no_base, target_value=goal)
            measured = has_base
            edge = window.edge  # levels before it may differ from all history's
    elif isinstance(target, IncreaseTarget):
        sign = 1
        start_col = month_index(target.start) - first
        t0_col = start_col - 1
        if as_of < target.start:
            out.status[:] = _CODE[Status.NOT_STARTED]
            out.set(slice(None), target_value=goal)
            return
        if indicator.kind == "flow":
            points = cumulative_points(indicator, values, start_col, to_date, first)
            measured = np.ones(n, dtype=bool)
        else:
            found, col, level = _latest(values, -1, t0_col)
            out.unsure |= window.search(found, col, -1, edge=0)
            if document is not None:
                level = np.where(found, level, document.value)
                out.document_base = ~found
                measured = np.ones(n, dtype=bool)
            else:
                measured = found
            points = np.full(values.shape, np.nan)
            if t0_col >= 0:
                points[:, t0_col] = 0.0
            points[:, start_col:] = values[:, start_col:] - level[:, None]
            out.status[~measured] = _CODE[Status.NO_DATA]
            out.set(~measured, target_value=goal)
        t0 = np.full(n, t0_col)
        base = np.zeros(n)
        first_current = np.full(n, start_col)
        edge = None  # amounts added since t0: nothing before it counts
    else:
        assert isinstance(target, GrowthTarget)
        sign = 1 if indicator.direction == "higher" else -1
        year = int(target.deadline[:4])
        t0_col = month_index(f"{year - 1}-12") - first
        jan_prev, jan = t0_col - 11, t0_col + 1
        if int(as_of[:4]) < year:
            out.status[:] = _CODE[Status.NOT_STARTED]
            return
        prev_year = values[:, max(jan_prev, 0): t0_col + 1]
        flow, monthly = indicator.kind == "flow", indicator.frequency == "monthly"
        prior_sums = None
        if flow and monthly:
            full = (~np.isnan(prev_year)).sum(axis=1) == 12 if jan_prev >= 0 else np.zeros(n, dtype=bool)
            reference = np.where(full, np.nansum(prev_year, axis=1), np.nan)
            if to_date is not None and t0_col >= 0:  # a reported 1–12月累计 is last year's total
                reference = np.where(np.isnan(to_date[:, t0_col]), reference, to_date[:, t0_col])
            if jan_prev >= 0:  # last year's running total, for "同比" in the words
                prior_sums = np.cumsum(np.where(np.isnan(prev_year), 0.0, prev_year), axis=1)
                if to_date is not None:
                    reported = to_date[:, jan_prev: t0_col + 1]
                    prior_sums = np.where(np.isnan(reported), prior_sums, reported)
        elif monthly:
            reference = values[:, t0_col] if t0_col >= 0 else np.full(n, np.nan)
        else:
            _, _, reference = _latest(values, max(jan_prev, 0), t0_col)
        measured = ~np.isnan(reference)
        out.status[~measured] = _CODE[Status.NO_DATA]
        out.growth_base[:] = reference
        goal = reference * (1 + target.value / 100)
        if flow:
            points = cumulative_points(indicator, values, jan, to_date, first)
            base = np.zeros(n)
            edge = None
        else:
            points = values
            base = reference
            edge = 0  # a stock's trend runs over its own values
        t0 = np.full(n, t0_col)
        first_current = np.full(n, jan)

    out.points = points
    deadline_col = month_index(target.deadline) - first
    final = as_of >= target.deadline
    has, col, value = _latest(points, first_current, min(as_of_col, deadline_col))
    calendar = isinstance(target, LevelTarget) and calendar_basis(target, indicator)
    before_year = calendar and as_of_col < deadline_col - 11  # judged on a complete earlier year
    if calendar and not before_year:  # the months that stop the year's running total, for the words
        cutoff = min(as_of_col, deadline_col)
        cols = np.arange(values.shape[1])[None, :]
        gaps = np.isnan(values) & (cols > np.where(has, col, deadline_col - 12)[:, None]) & (cols <= cutoff)
        out.missing = gaps.sum(axis=1)
        out.missing_from = np.where(out.missing > 0, first + np.argmax(gaps, axis=1), -1)
    if edge is not None:
        out.unsure |= measured & window.search(has, col, first_current, edge)
    empty = measured & ~has
    out.status[empty] = _CODE[Status.NO_DATA]
    out.set(empty, target_value=goal, baseline=base)
    out.baseline_month[empty] = first + t0[empty]
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
        # needed per month counts from the as-of month, whatever month the latest value is from
        months_left = np.full(n, 0 if final else max(0, deadline_col - as_of_col))
        needed = np.where((gap > 0) & (months_left > 0), gap / np.where(months_left > 0, months_left, 1), np.nan)
        if before_year:  # the deadline year's total is still to come: each of its months needs T/12
            needed = np.where(goal > 0, goal / 12, np.nan)
        paced = (elapsed > 0) & (span > 0) & moves
        pace = np.where(paced, ((value - base) / np.where(elapsed > 0, elapsed, 1))
                        / ((goal - base) / np.where(span > 0, span, 1)), np.nan)
    reached = _at_or_beyond(sign, value, goal)
    if final:
        status = np.where(reached, _CODE[Status.ACHIEVED], _CODE[Status.MISSED])
        projection = np.full(n, np.nan)
    else:
        upto = np.where(rows, col, 0)
        frequency = "annual" if before_year else indicator.frequency  # year totals: one point a year
        line = _trend(points, upto, frequency)
        projection = line.at(deadline_col + first, first)
        status = np.select(
            [reached, _at_or_beyond(sign, value, expected), line.ok & _at_or_beyond(sign, projection, goal)],
            [_CODE[Status.ACHIEVED], _CODE[Status.ON_TRACK], _CODE[Status.NEEDS_ACCELERATION]],
            _CODE[Status.BEHIND],
        )
        if before_year:  # an earlier year at the level is on track, not the deadline year's total
            status = np.where(status == _CODE[Status.ACHIEVED], _CODE[Status.ON_TRACK], status)
        out.trend = rows & line.ok
        if edge is not None:
            out.unsure |= rows & window.trend(line, frequency, upto, edge)
    if isinstance(target, GrowthTarget) and prior_sums is not None:
        month_of_year = (first + np.clip(col, 0, None)) % 12
        out.prior = np.where(rows, prior_sums[np.arange(n), month_of_year], np.nan)
    out.status[rows] = status[rows]
    out.current_month[rows] = first + col[rows]
    out.baseline_month[rows] = first + t0[rows]
    out.set(rows, current=value, target_value=goal, baseline=base, expected_now=expected, progress=progress,
            gap=gap, months_left=months_left, needed_per_month=needed, projection=projection, pace_ratio=pace)


def _steady(out: _Result, target: SteadyTarget, indicator: Indicator, first: int, values: np.ndarray,
            as_of: str, window: _Window) -> None:
    n = len(values)
    sign = 1 if indicator.direction == "higher" else -1
    document = target.baseline
    start = min(target.start, add_months(document.period, 1)) if document is not None else target.start
    if as_of < start:
        _not_started(out, document)
        return
    points = level_points(indicator, values)
    out.points = points
    _observed(out, values, points, window)
    has_base, t0, base, unsure = _baselines(target, document, points, first, window)
    out.unsure |= unsure
    out.document_base[:] = document is not None
    out.status[~has_base] = _CODE[Status.NO_DATA]
    deadline_col = month_index(target.deadline) - first
    as_of_col = month_index(as_of) - first
    # a value inside the target's period, never the baseline itself
    inside = np.maximum(t0 + 1, month_index(target.start) - first)
    has, col, value = _latest(points, inside, min(as_of_col, deadline_col))
    out.unsure |= has_base & window.search(has, col, inside)
    empty = has_base & ~has
    out.status[empty] = _CODE[Status.NO_DATA]
    out.set(empty, baseline=base)
    out.baseline_month[empty] = first + t0[empty]
    rows = has_base & has
    if not rows.any():
        return
    final = as_of >= target.deadline
    improved = _beyond(sign, value, base)
    if final:
        status = np.where(improved, _CODE[Status.ACHIEVED], _CODE[Status.MISSED])
        projection = np.full(n, np.nan)
    else:
        upto = np.where(rows, col, 0)
        line = _trend(points, upto, indicator.frequency)
        projection = line.at(deadline_col + first, first)
        trending = line.ok & (sign * line.slope > 0)
        # above the baseline is on track (the words add a trend that falls or cannot yet be judged);
        # 需加快 only below it, where the trend would carry the region above
        status = np.select([improved, trending],
                           [_CODE[Status.ON_TRACK], _CODE[Status.NEEDS_ACCELERATION]], _CODE[Status.BEHIND])
        out.trend, out.rising = rows & line.ok, rows & trending
        out.unsure |= rows & window.trend(line, indicator.frequency, upto)
    out.status[rows] = status[rows]
    out.current_month[rows] = first + col[rows]
    out.baseline_month[rows] = first + t0[rows]
    months_left = np.full(n, 0 if final else max(0, deadline_col - as_of_col))
    out.set(rows, current=value, baseline=base, months_left=months_left, projection=projection)


def _reference(out: _Result, target: ReferenceTarget, indicator: Indicator, first: int, values: np.ndarray,
               reference: np.ndarray, as_of: str, window: _Window) -> None:
    n = len(values)
    sign = 1 if indicator.direction == "higher" else -1
    if as_of < target.start:
        out.status[:] = _CODE[Status.NOT_STARTED]
        return
    final = as_of >= target.deadline
    deadline_col = month_index(target.deadline) - first
    cutoff = min(month_index(as_of) - first, deadline_col)
    own = level_points(indicator, values)
    out.points = own
    other = np.broadcast_to(level_points(indicator, reference[None, :]), own.shape)
    cols = np.arange(own.shape[1])[None, :]
    common = ~np.isnan(own) & ~np.isnan(other) & (cols <= cutoff)
    own_c, other_c = np.where(common, own, np.nan), np.where(common, other, np.nan)
    start_col = month_index(target.start) - first  # a value inside the target's period
    has, col, value = _latest(own_c, start_col, cutoff)
    out.unsure |= window.search(has, col, start_col)
    out.status[~has] = _CODE[Status.NO_DATA]
    if not has.any():
        return
    ref_value = other_c[np.arange(n), np.clip(col, 0, None)]
    gap = sign * (ref_value - value)
    above = _beyond(sign, value, ref_value)
    upto = np.where(has, col, 0)
    line = _trend(own_c, upto, indicator.frequency, min_points=2)
    projection = line.at(deadline_col + first, first)
    if final:
        status = np.where(above, _CODE[Status.ACHIEVED], _CODE[Status.MISSED])
        projection = np.full(n, np.nan)
    else:
        ref_line = _trend(other_c, upto, indicator.frequency, min_points=2)
        both = line.ok & ref_line.ok
        catching = both & _beyond(sign, projection, ref_line.at(deadline_col + first, first))
        status = np.select([above, catching], [_CODE[Status.ON_TRACK], _CODE[Status.NEEDS_ACCELERATION]],
                           _CODE[Status.BEHIND])
        projection = np.where(above | both, projection, np.nan)
        out.trend = has & both
        # own and reference share the common months, so one check covers both lines
        out.unsure |= has & window.trend(line, indicator.frequency, upto)
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(ref_value != 0, value / np.where(ref_value != 0, ref_value, 1.0), np.nan)
    months_left = np.full(n, 0 if final else max(0, deadline_col - month_index(as_of) + first))
    out.status[has] = status[has]
    out.current_month[has] = first + col[has]
    out.set(has, current=value, target_value=ref_value, reference_value=ref_value, gap=gap, progress=progress,
            months_left=months_left, projection=projection)

