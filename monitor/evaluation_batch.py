"""Set-based evaluation: the targets of a set for many regions at once, on dense regions × months matrices.

``monitor/evaluation.py`` is the reference: one target, one region's series, every rule written
once. This module applies the same rules to a whole panel of regions with numpy (no Python loop
per region), for the views that judge many regions at one as-of month: the national benchmark,
the status grid, the regional comparison. It returns the status and the numbers behind it; asked
to ``explain``, it also writes each row's sentence with the reference's own words
(``evaluation.explain``). tests/test_evaluation_batch.py holds the two to agreement.

Layout: a panel is a float matrix, one row per region and one column per consecutive month
(NaN where nothing was observed), so "the latest value at or before a month" is the last non-NaN
column at or left of it.

Reading only what the targets look at: ``panel_windows`` gives, per indicator, the earliest month
its targets need for a series observed without gaps (baseline or start, less the months a 12-month
sum and a recent trend reach back). A panel read from there on is marked incomplete, and every
search that could have found its answer further back (a gap at the baseline, a late start, a
trend window running off the left edge) marks its row ``unsure``; those regions are evaluated
again on their whole history. The result is therefore the same as evaluating all history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

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
from monitor.evaluation import Standing, Status, explain
from monitor.overview import AS_WRITTEN, NO_POPULATION, scaled_note, scales_per_resident
from monitor.periods import add_months, month_from_index, month_index, month_range, parse_month, year_of

BATCH_COLUMNS = ["region_code", "target_id", "indicator", "status", "current", "current_period", "target_value",
                 "baseline", "baseline_period", "expected_now", "progress", "gap", "months_left", "needed_per_month",
                 "projection", "pace_ratio", "reference_value", "adjusted"]
NUMBER_COLUMNS = ["current", "target_value", "baseline", "expected_now", "progress", "gap", "months_left",
                  "needed_per_month", "projection", "pace_ratio", "reference_value"]
# Statuses travel as small integers (positions in STATUSES), months as month indices (-1: none),
# until the frame is built: texts from a few distinct ones make a column far faster than one
# Python string per row does.
STATUSES = list(Status)
_CODE = {s: np.int8(i) for i, s in enumerate(STATUSES)}
# added by evaluate_regions(..., explain=True): the sentence, and whether the values it rests on
# include demo data (overview.evaluate_target_set's has_demo)
EXPLAINED_COLUMNS = ["explanation", "has_demo"]


@dataclass(frozen=True)
class Panel:
    """One indicator's values for ``codes`` (rows) over consecutive months from ``first`` (columns)."""

    codes: list[str]
    first: int  # month index (periods.month_index) of column 0
    values: np.ndarray  # float64, regions × months, NaN where not observed
    complete: bool = True  # False: read from a window, observations before ``first`` may exist
    demo: np.ndarray | None = None  # bool, regions × months: the value is (computed from) demo data

    def column(self, month: str) -> int:
        return month_index(month) - self.first


# --------------------------------------------------------------------------- which months to read


# How far before its month an evaluation searches for the latest value when the series has no long
# gaps (a monthly figure may miss a month or two; an annual one sits in some month of the year
# before), and how far a recent trend reaches back (12 months; three annual figures).
_SEARCH = {"monthly": 3, "annual": 24}
_TREND = {"monthly": 11, "annual": 36}


def earliest_month(target, indicator: Indicator, as_of: str) -> str:
    """The first month an evaluation of ``target`` as of ``as_of`` looks at when the series has no
    long gaps. Increase: the month before the period (for a stock, the latest level at or before
    it). Growth: January of the previous year (an annual stock's trend: three figures back from the
    as-of month). Level, steady increase, above reference: the latest level at or before the
    baseline or start, and the recent trend up to the as-of month (or deadline). A monthly flow's
    level is a 12-month sum: 11 months more."""
    search, trend = _SEARCH[indicator.frequency], _TREND[indicator.frequency]
    recent = add_months(min(parse_month(as_of), target.deadline), -trend)
    if isinstance(target, IncreaseTarget):
        t0 = add_months(target.start, -1)
        return t0 if indicator.kind == "flow" else add_months(t0, -search)
    if isinstance(target, GrowthTarget):
        previous = f"{year_of(target.deadline) - 1}-01"
        # an annual stock's trend runs over its own values, which may reach before that year
        stock_trend = indicator.kind != "flow" and indicator.frequency != "monthly"
        return min(previous, recent) if stock_trend else previous
    document = getattr(target, "baseline", None)
    anchor = min(target.start, document.period) if document is not None else target.start
    twelve = 11 if indicator.kind == "flow" and indicator.frequency == "monthly" else 0
    return add_months(min(add_months(anchor, -search), recent), -twelve)


def panel_windows(config, targets, as_of: str) -> dict[str, str]:
    """``earliest_month`` per indicator over ``targets``: the ``since`` for ``read_panels``."""
    windows: dict[str, str] = {}
    for target in targets:
        month = earliest_month(target, config.indicator(target.indicator), as_of)
        windows[target.indicator] = min(windows.get(target.indicator, month), month)
    return windows


def _anchor(target) -> str | None:
    """A month whose column an evaluation indexes directly (not by searching back), if any."""
    if isinstance(target, IncreaseTarget):
        return add_months(target.start, -1)
    if isinstance(target, GrowthTarget):
        return f"{year_of(target.deadline) - 1}-01"
    return None


# --------------------------------------------------------------------------- reading panels


def read_panels(store, config, indicator_ids: Sequence[str], codes: Sequence[str] | None, until: str,
                population=None, *, since: str | Mapping[str, str] | None = None,
                origins: bool = False) -> tuple[list[str], dict[str, Panel]]:
    """Panels of indicators (derived ones computed from their parts) for ``codes`` (None: every
    region with observations), up to month ``until``.

    ``since``: None reads all history; a month, or a month per indicator (``panel_windows``), reads
    from there on and marks the panels incomplete. ``origins``: also mark demo values
    (``Panel.demo``). One query for the values; DuckDB turns keys into positions in the result, so
    no string crosses into Python per observation."""
    groups = {ind_id: _stored_group(config.indicator(ind_id)) for ind_id in indicator_ids}
    wanted = list(dict.fromkeys(pid for group in groups.values() for pid in group))
    windows = None
    if since is not None:
        asked = since if isinstance(since, Mapping) else dict.fromkeys(indicator_ids, since)
        windows = {}
        for ind_id, group in groups.items():
            start = parse_month(asked[ind_id])
            for pid in group:  # a part shared by two indicators is read from the earlier window
                windows[pid] = min(windows.get(pid, start), start)
    with store.connect() as con:
        if codes is None:
            codes = _codes_with_observations(con, store, wanted, until)
        codes = list(codes)
        if windows is None:
            stored = _read_history(con, store, wanted, codes, until, origins)
        else:
            stored = _read_window(con, store, wanted, codes, until, windows, origins)
    return codes, {ind_id: derive_panel(config.indicator(ind_id), stored, population) for ind_id in indicator_ids}


def panel_from_values(values: pd.DataFrame, codes: Sequence[str], until: str) -> Panel:
    """The panel of an indicator's values as ``series.indicator_values`` gives them (all history up
    to ``until``; region_code, month, value, origin), for a caller that has read them already."""
    end = month_index(until)
    values = values[values["month"] <= until]
    rows = pd.Index(list(codes)).get_indexer(values["region_code"])
    months = np.array([month_index(m) for m in values["month"]], dtype=np.int64)
    keep = rows >= 0
    first = int(months[keep].min()) if keep.any() else end
    panel = np.full((len(codes), end - first + 1), np.nan)
    demo = np.zeros(panel.shape, dtype=bool)
    panel[rows[keep], months[keep] - first] = values["value"].to_numpy(dtype=float)[keep]
    demo[rows[keep], months[keep] - first] = (values["origin"] == "demo").to_numpy()[keep]
    return Panel(list(codes), first, panel, demo=demo)


def _stored_group(ind: Indicator) -> list[str]:
    """The stored indicators a panel of ``ind`` is computed from: itself and its parts."""
    parts = ind.formula.parts if ind.formula else []
    return list(dict.fromkeys([ind.id, *[p for p in parts if p != "population"]]))


_MONTH_NUMBER = "(CAST(substr(o.month, 1, 4) AS INTEGER) * 12 + CAST(substr(o.month, 6, 2) AS INTEGER) - 1)"


def _observations_sql(store) -> tuple[str, list]:
    """The observations relation (as published, for a store opened ``as_published``) and its parameters."""
    if store.published_at is None:
        return "observations", []
    from monitor.history import as_published_sql

    inner = as_published_sql(False, False).replace(" AND indicator_id IN (SELECT unnest(?))", "")
    return f"({inner})", [store.published_at]


def _codes_with_observations(con, store, indicator_ids: list[str], until: str) -> list[str]:
    relation, params = _observations_sql(store)
    rows = con.execute(f"SELECT DISTINCT region_code FROM {relation} o "
                       "WHERE indicator_id IN (SELECT unnest(?)) AND month <= ? ORDER BY 1",
                       [*params, indicator_ids, until]).fetchall()
    return [r[0] for r in rows]


def _read_window(con, store, ids: list[str], codes: list[str], until: str, windows: dict[str, str],
                 origins: bool) -> dict[str, Panel]:
    """Each indicator's months from its window on, into one flat buffer: the query returns each
    value's position in it. Months are numbered by joining the list of months, which costs DuckDB
    far less than cutting the month text apart for every row."""
    relation, params = _observations_sql(store)
    end = month_index(until)
    firsts = [min(month_index(windows[pid]), end + 1) for pid in ids]
    start = min(firsts)
    months = month_range(month_from_index(start), until) if start <= end else []
    widths = [end - f + 1 for f in firsts]
    sizes = [len(codes) * w for w in widths]
    bases = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    demo = ", o.origin = 'demo' AS d" if origins else ""
    sql = (f"SELECT i.base + (r.k - 1) * i.width + (m.k - 1 - i.skip) AS f, o.value AS v{demo} FROM {relation} o "
           "JOIN (SELECT unnest(?) AS id, unnest(?) AS base, unnest(?) AS width, unnest(?) AS skip) i "
           "ON o.indicator_id = i.id "
           "JOIN (SELECT unnest(?) AS code, generate_subscripts(?, 1) AS k) r ON o.region_code = r.code "
           "JOIN (SELECT unnest(?) AS month, generate_subscripts(?, 1) AS k) m ON o.month = m.month "
           "WHERE m.k - 1 >= i.skip")
    flat = np.full(int(bases[-1]), np.nan)
    flags = np.zeros(int(bases[-1]), dtype=bool) if origins else None
    if months and codes:
        got = con.execute(sql, [*params, ids, bases[:-1].tolist(), widths, [f - start for f in firsts],
                                codes, codes, months, months]).fetchnumpy()
        at = np.asarray(got["f"], dtype=np.int64)
        flat[at] = np.asarray(got["v"], dtype=np.float64)
        if origins:
            flags[at] = np.asarray(got["d"], dtype=bool)
    panels = {}
    for k, pid in enumerate(ids):
        shape = (len(codes), widths[k])
        cut = slice(int(bases[k]), int(bases[k + 1]))
        panels[pid] = Panel(codes, firsts[k], flat[cut].reshape(shape), complete=False,
                            demo=flags[cut].reshape(shape) if origins else None)
    return panels


def _read_history(con, store, ids: list[str], codes: list[str], until: str, origins: bool) -> dict[str, Panel]:
    """All history up to ``until``: the panels start at the earliest month observed."""
    relation, params = _observations_sql(store)
    demo = ", o.origin = 'demo' AS d" if origins else ""
    sql = (f"SELECT i.k - 1 AS i, r.k - 1 AS r, {_MONTH_NUMBER} AS m, o.value AS v{demo} FROM {relation} o "
           "JOIN (SELECT unnest(?) AS id, generate_subscripts(?, 1) AS k) i ON o.indicator_id = i.id "
           "JOIN (SELECT unnest(?) AS code, generate_subscripts(?, 1) AS k) r ON o.region_code = r.code "
           "WHERE o.month <= ?")
    got = con.execute(sql, [*params, ids, ids, codes, codes, until]).fetchnumpy() if codes else \
        {"i": [], "r": [], "m": [], "v": [], "d": []}
    i, r, m = (np.asarray(got[c], dtype=np.int64) for c in ("i", "r", "m"))
    end = month_index(until)
    first = int(m.min()) if len(m) else end
    cube = np.full((len(ids), len(codes), end - first + 1), np.nan)
    cube[i, r, m - first] = np.asarray(got["v"], dtype=np.float64)
    flags = None
    if origins:
        flags = np.zeros(cube.shape, dtype=bool)
        flags[i, r, m - first] = np.asarray(got["d"], dtype=bool)
    return {pid: Panel(codes, first, cube[k], demo=flags[k] if origins else None) for k, pid in enumerate(ids)}


def derive_panel(ind: Indicator, stored: dict[str, Panel], population=None) -> Panel:
    """The panel of an indicator: stored values, or for a derived one its formula over its parts
    (series.compute_indicator's rules), with reported values of its own filling months the parts
    do not cover. Demo marks follow compute_indicator's origins: a computed value is demo when any
    part it is computed from is."""
    own = stored[ind.id]
    if ind.formula is None:
        return own
    group = [stored[p] for p in _stored_group(ind)]
    first = max(p.first for p in group)  # parts read from different windows: their common months
    own_values, own_demo = _from(own, first)
    with_demo = own.demo is not None
    demo = None
    if isinstance(ind.formula, SumFormula):
        parts = [_from(stored[p], first) for p in ind.formula.parts]
        values = sum(v for v, _ in parts)  # NaN unless every part is there
        if with_demo:
            demo = np.logical_or.reduce([d for _, d in parts])
    else:
        assert isinstance(ind.formula, RatioFormula)
        numerator, demo = _from(stored[ind.formula.numerator], first)
        if ind.formula.denominator == "population":
            if population is None:
                raise ValueError(f"{ind.id} needs population to be computed")
            denominator = population_matrix(population, own.codes, first, own_values.shape[1])
        else:
            denominator, den_demo = _from(stored[ind.formula.denominator], first)
            if with_demo:
                demo = demo | den_demo
        with np.errstate(divide="ignore", invalid="ignore"):
            values = numerator / denominator * ind.formula.scale
        values = np.where(np.isfinite(values), values, np.nan)
    computed = ~np.isnan(values)
    if with_demo:
        demo = np.where(computed, demo, own_demo)
    values = np.where(computed, values, own_values)
    return Panel(own.codes, first, values, all(p.complete for p in group), demo)


def _from(panel: Panel, first: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The panel's values (and demo marks) from month index ``first`` on."""
    cut = first - panel.first
    return panel.values[:, cut:], (panel.demo[:, cut:] if panel.demo is not None else None)


def population_matrix(population, codes: Sequence[str], first: int, n_months: int) -> np.ndarray:
    """Population of each region in each month (the latest year at or before it, else the earliest)."""
    years = (first + np.arange(n_months)) // 12
    distinct = np.unique(years)
    return population.values_by_year(codes, distinct.tolist())[:, np.searchsorted(distinct, years)]


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


def _level_edge(indicator: Indicator) -> int:
    """The first column of a window whose level is exact: a monthly flow's 12-month sum needs the
    11 months before it."""
    return 11 if indicator.kind == "flow" and indicator.frequency == "monthly" else 0


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

    def set(self, rows, **numbers) -> None:
        for name, value in numbers.items():
            self.numbers[name][rows] = np.broadcast_to(value, self.numbers[name].shape)[rows]

    def _columns(self) -> dict[str, np.ndarray]:
        return {**{k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}, **self.numbers}

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
    values, first = panel.values, panel.first
    anchor = _anchor(target)
    short = anchor is not None and month_index(anchor) < first
    if short:  # the target indexes a month before the panel: give it that column (empty)
        values = np.pad(values, ((0, 0), (first - month_index(anchor), 0)), constant_values=np.nan)
        if reference is not None:
            reference = np.pad(reference, (first - month_index(anchor), 0), constant_values=np.nan)
        first = month_index(anchor)
    end = month_index(as_of) - first  # the as-of column: nothing right of it is seen
    values = values[:, : end + 1] if end + 1 <= values.shape[1] else np.pad(
        values, ((0, 0), (0, end + 1 - values.shape[1])), constant_values=np.nan)
    n = len(values)
    out = _Result(n)
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
        _line_target(out, target, indicator, first, values, as_of, goal, window)
    else:
        raise TypeError(f"cannot evaluate target type {type(target).__name__}")
    if short and not panel.complete:
        out.unsure[:] = True  # the window misses a month the target reads directly
    return out


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
    the latest level at or before the start month, else the first one after it (as evaluate_target)."""
    n = len(points)
    if document is not None:
        t0 = month_index(document.period) - first
        return np.ones(n, dtype=bool), np.full(n, t0), np.full(n, document.value), np.zeros(n, dtype=bool)
    start_col = month_index(target.start) - first
    before, b_col, b_val = _latest(points, -1, start_col)
    after, a_col, a_val = _first_after(points, start_col)
    return before | after, np.where(before, b_col, a_col), np.where(before, b_val, a_val), \
        window.search(before, b_col, -1)


def _observed(out: _Result, values: np.ndarray, points: np.ndarray, window: _Window) -> None:
    """What a level's NO_DATA sentence says was there (evaluation._level_no_data_text)."""
    out.observed = (~np.isnan(values)).any(axis=1)
    out.levels = (~np.isnan(points)).any(axis=1)
    if not window.complete:
        out.unsure_words |= ~(out.observed & out.levels)


def _line_target(out: _Result, target, indicator: Indicator, first: int, values: np.ndarray, as_of: str,
                 goal: np.ndarray, window: _Window) -> None:
    """Level, increase and growth targets: a straight line from (t0, B) to (deadline, T)."""
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
        points = level_points(indicator, values)
        _observed(out, values, points, window)
        has_base, t0, base, unsure = _baselines(target, document, points, first, window)
        out.unsure |= unsure
        first_current = t0
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
            points = cumulative_points(indicator, values, start_col)
            measured = np.ones(n, dtype=bool)
        else:
            found, col, level = _latest(values, -1, t0_col)
            out.unsure |= window.search(found, col, -1, edge=0)
            if document is not None:
                level = np.where(found, level, document.value)
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
            if jan_prev >= 0:  # last year's running total, for "同比" in the words
                prior_sums = np.cumsum(np.where(np.isnan(prev_year), 0.0, prev_year), axis=1)
        elif monthly:
            reference = values[:, t0_col] if t0_col >= 0 else np.full(n, np.nan)
        else:
            _, _, reference = _latest(values, max(jan_prev, 0), t0_col)
        measured = ~np.isnan(reference)
        out.status[~measured] = _CODE[Status.NO_DATA]
        out.growth_base[:] = reference
        goal = reference * (1 + target.value / 100)
        if flow:
            points = cumulative_points(indicator, values, jan)
            base = np.zeros(n)
            edge = None
        else:
            points = values
            base = reference
            edge = 0  # a stock's trend runs over its own values
        t0 = np.full(n, t0_col)
        first_current = np.full(n, jan)

    deadline_col = month_index(target.deadline) - first
    final = as_of >= target.deadline
    has, col, value = _latest(points, first_current, min(as_of_col, deadline_col))
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
        months_left = np.zeros(n) if final else np.maximum(0, deadline_col - col)
        needed = np.where((gap > 0) & (months_left > 0), gap / np.where(months_left > 0, months_left, 1), np.nan)
        paced = (elapsed > 0) & (span > 0) & moves
        pace = np.where(paced, ((value - base) / np.where(elapsed > 0, elapsed, 1))
                        / ((goal - base) / np.where(span > 0, span, 1)), np.nan)
    reached = _at_or_beyond(sign, value, goal)
    if final:
        status = np.where(reached, _CODE[Status.ACHIEVED], _CODE[Status.MISSED])
        projection = np.full(n, np.nan)
    else:
        upto = np.where(rows, col, 0)
        line = _trend(points, upto, indicator.frequency)
        projection = line.at(deadline_col + first, first)
        status = np.select(
            [reached, _at_or_beyond(sign, value, expected), line.ok & _at_or_beyond(sign, projection, goal)],
            [_CODE[Status.ACHIEVED], _CODE[Status.ON_TRACK], _CODE[Status.NEEDS_ACCELERATION]],
            _CODE[Status.BEHIND],
        )
        out.trend = rows & line.ok
        if edge is not None:
            out.unsure |= rows & window.trend(line, indicator.frequency, upto, edge)
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
    _observed(out, values, points, window)
    has_base, t0, base, unsure = _baselines(target, document, points, first, window)
    out.unsure |= unsure
    out.status[~has_base] = _CODE[Status.NO_DATA]
    deadline_col = month_index(target.deadline) - first
    as_of_col = month_index(as_of) - first
    has, col, value = _latest(points, t0, min(as_of_col, deadline_col))
    out.unsure |= has_base & window.search(has, col, t0)
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
        status = np.select([improved & trending, improved | trending],
                           [_CODE[Status.ON_TRACK], _CODE[Status.NEEDS_ACCELERATION]], _CODE[Status.BEHIND])
        out.trend, out.rising = rows & line.ok, rows & trending
        out.unsure |= rows & window.trend(line, indicator.frequency, upto)
    out.status[rows] = status[rows]
    out.current_month[rows] = first + col[rows]
    out.baseline_month[rows] = first + t0[rows]
    months_left = np.zeros(n) if final else np.maximum(0, deadline_col - col)
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
    other = np.broadcast_to(level_points(indicator, reference[None, :]), own.shape)
    cols = np.arange(own.shape[1])[None, :]
    common = ~np.isnan(own) & ~np.isnan(other) & (cols <= cutoff)
    own_c, other_c = np.where(common, own, np.nan), np.where(common, other, np.nan)
    has, col, value = _latest(own_c, -1, cutoff)
    out.unsure |= window.search(has, col, -1)
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
    months_left = np.zeros(n) if final else np.maximum(0, deadline_col - col)
    out.status[has] = status[has]
    out.current_month[has] = first + col[has]
    out.set(has, current=value, target_value=ref_value, reference_value=ref_value, gap=gap, progress=progress,
            months_left=months_left, projection=projection)


# --------------------------------------------------------------------------- target sets, many regions


def evaluate_regions(ctx, set_id: str, as_of: str, codes: Sequence[str] | None = None, *,
                     targets: Sequence[str] | None = None, explain: bool = False,
                     panels: dict[str, Panel] | None = None, panel_codes: list[str] | None = None) -> pd.DataFrame:
    """Every indicator target of a set (or the ``targets`` named) for every region in ``codes``
    (None: every region with observations), applied as ``overview.scale_for_region`` applies them:
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
                    np.where(known, panel.demo[take], False) if panel.demo is not None else None)
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
        out = _evaluate_panel(scaled, ind, sub, as_of, target_values=np.round(target.value * factor, 2))
        mine = np.flatnonzero(own)
        if len(mine):  # the set region itself: the target as written
            written = Panel([codes[k] for k in mine], sub.first, sub.values[mine], sub.complete,
                            sub.demo[mine] if sub.demo is not None else None)
            out.take(mine, _evaluate_panel(target, ind, written, as_of))
        adjusted = np.where(own, -1, noted)
        missing = ~own & ~np.isfinite(factor)
        if missing.any():  # as scale_for_region: no population figure, no scaled target to judge
            out.clear(missing, _CODE[Status.NO_DATA])
    cols = {"status": out.status, "current_period": out.current_month, "baseline_period": out.baseline_month,
            **out.numbers, "adjusted": adjusted, "unsure": out.unsure | (out.unsure_words if explain else False)}
    if explain:
        cols["explanation"] = _explanations(target, ind, as_of, out)
        cols["explanation"][missing] = NO_POPULATION
        cols["has_demo"] = _has_demo(sub, out, as_of) & ~missing
    return cols


def _explanations(target, indicator: Indicator, as_of: str, out: _Result) -> np.ndarray:
    """Each row's sentence, in evaluation.explain's words."""
    def number(x: float) -> float | None:
        return None if x != x else x

    nums = {name: column.tolist() for name, column in out.numbers.items()}
    growth_base, prior = out.growth_base.tolist(), out.prior.tolist()
    texts = np.empty(len(out.status), dtype=object)
    current, baseline = _month_names(out.current_month), _month_names(out.baseline_month)
    for k, status in enumerate(out.status.tolist()):
        standing = Standing(
            STATUSES[status], current[k], number(nums["current"][k]), number(nums["target_value"][k]),
            number(nums["baseline"][k]), baseline[k], number(nums["expected_now"][k]),
            number(nums["gap"][k]), number(nums["needed_per_month"][k]), number(nums["projection"][k]),
            trend=bool(out.trend[k]), rising=bool(out.rising[k]), observed=bool(out.observed[k]),
            levels=bool(out.levels[k]), growth_base=number(growth_base[k]), prior=number(prior[k]))
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
