"""Panels: one indicator's values for many regions over consecutive months, read from the store in
one query, derived indicators computed from their parts.

Layout: a panel is a float matrix, one row per region and one column per consecutive month
(NaN where nothing was observed), so "the latest value at or before a month" is the last non-NaN
column at or left of it. One region is a one-row panel.

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

from monitor.domain.config import GrowthTarget, IncreaseTarget, Indicator, LevelTarget, RatioFormula, SumFormula
from monitor.domain.periods import add_months, month_from_index, month_index, month_range, parse_month, year_of
from monitor.domain.yeartodate import combine, has_year_to_date, running_total, ytd_id


@dataclass(frozen=True)
class Panel:
    """One indicator's values for ``codes`` (rows) over consecutive months from ``first`` (columns)."""

    codes: list[str]
    first: int  # month index (periods.month_index) of column 0
    values: np.ndarray  # float64, regions × months, NaN where not observed
    complete: bool = True  # False: read from a window, observations before ``first`` may exist
    demo: np.ndarray | None = None  # bool, regions × months: the value is (computed from) demo data
    # a monthly flow's year-to-date (monitor/domain/yeartodate.py): reported 1–N月累计, else built from its
    # months; ``values`` then holds the months' amounts, reported or derived from it
    to_date: np.ndarray | None = None

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
    if calendar_basis(target, indicator):
        # calendar years' totals: the one ended before the start, and three for a trend, each 12 months
        recent = add_months(min(parse_month(as_of), target.deadline), -36)
        twelve = 23
    return add_months(min(add_months(anchor, -search), recent), -twelve)


def panel_windows(config, targets, as_of: str) -> dict[str, str]:
    """``earliest_month`` per indicator over ``targets``: the ``since`` for ``read_panels``."""
    windows: dict[str, str] = {}
    for target in targets:
        month = earliest_month(target, config.indicator(target.indicator), as_of)
        windows[target.indicator] = min(windows.get(target.indicator, month), month)
    return windows


def calendar_basis(target, indicator: Indicator) -> bool:
    """Whether a level target on a monthly flow, judged on the deadline year's 1–12月 total.

    「作品著作权登记数量达到60件」 by 2025 asks for 60 registrations in 2025: within 2025 the year-to-date
    total counts (never a rolling 12-month sum, most of whose months would be 2024's); before 2025,
    the latest complete calendar year's total shows where the region stands."""
    return isinstance(target, LevelTarget) and indicator.kind == "flow" and indicator.frequency == "monthly"


def _anchor(target, indicator: Indicator) -> str | None:
    """A month whose column an evaluation indexes directly (not by searching back), if any."""
    if calendar_basis(target, indicator):
        return f"{year_of(target.deadline) - 1}-12"
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


def panel_from_values(values: pd.DataFrame, codes: Sequence[str], until: str,
                      year_to_date: pd.DataFrame | None = None) -> Panel:
    """The panel of an indicator's values as ``series.indicator_values`` gives them (all history up
    to ``until``; region_code, month, value, origin), for a caller that has read them already;
    ``year_to_date``: a monthly flow's 1–N月累计 values (``series.year_to_date_values``)."""
    end = month_index(until)
    frames = [values] if year_to_date is None or year_to_date.empty else [values, year_to_date]
    placed = [_place(f[f["month"] <= until], codes) for f in frames]
    found = [months[keep] for _, months, keep in placed if keep.any()]
    first = int(min(m.min() for m in found)) if found else end
    if len(frames) == 2:
        first = first // 12 * 12  # from a January: the year-to-date is known from there
    matrices = []
    for frame, (rows, months, keep) in zip(frames, placed):
        frame = frame[frame["month"] <= until]
        matrix = np.full((len(codes), end - first + 1), np.nan)
        demo = np.zeros(matrix.shape, dtype=bool)
        matrix[rows[keep], months[keep] - first] = frame["value"].to_numpy(dtype=float)[keep]
        demo[rows[keep], months[keep] - first] = (frame["origin"] == "demo").to_numpy()[keep]
        matrices.append((matrix, demo))
    (panel, demo), *rest = matrices
    if not rest:
        return Panel(list(codes), first, panel, demo=demo)
    monthly, to_date = combine(panel, rest[0][0], first)
    demo = np.where(np.isnan(panel), rest[0][1], demo)  # a derived month: as its 1–N月累计
    return Panel(list(codes), first, monthly, demo=demo, to_date=to_date)


def _place(frame: pd.DataFrame, codes: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = pd.Index(list(codes)).get_indexer(frame["region_code"])
    months = np.array([month_index(m) for m in frame["month"]], dtype=np.int64)
    return rows, months, rows >= 0


def _stored_group(ind: Indicator) -> list[str]:
    """The stored series a panel of ``ind`` is computed from: itself and its parts, and a monthly
    flow's year-to-date values."""
    parts = ind.formula.parts if ind.formula else []
    own = [ind.id, ytd_id(ind.id)] if has_year_to_date(ind) else [ind.id]
    return list(dict.fromkeys([*own, *[p for p in parts if p != "population"]]))


_MONTH_NUMBER = "(CAST(substr(o.month, 1, 4) AS INTEGER) * 12 + CAST(substr(o.month, 6, 2) AS INTEGER) - 1)"


def _observations_sql(store) -> tuple[str, list]:
    """The observations relation (as published, for a store opened ``as_published``) and its parameters."""
    if store.published_at is None:
        # the official view: values of batches waiting for approval are left out (monitor/store/approval.py)
        return "official_observations", []
    from monitor.store.history import as_published_sql

    inner = as_published_sql(False, False).replace(" AND indicator_id IN (SELECT unnest(?))", "")
    return f"({inner})", [store.published_at] * 3


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
    if has_year_to_date(ind):
        ytd = stored[ytd_id(ind.id)]
        if np.isnan(ytd.values).all():  # none reported: the months are all there is (the usual case)
            return Panel(own.codes, own.first, own.values, own.complete and ytd.complete, own.demo)
        monthly, to_date = combine(own.values, ytd.values, own.first)
        demo = own.demo
        if demo is not None:  # a derived month is as demo as the year-to-date it comes from
            demo = np.where(np.isnan(own.values), ytd.demo, demo)
        return Panel(own.codes, own.first, monthly, own.complete and ytd.complete, demo, to_date)
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


def year_totals(values: np.ndarray, first: int, to_date: np.ndarray | None = None) -> np.ndarray:
    """Each calendar year's total of a monthly flow, at its December column (NaN elsewhere, and
    where any month of that year is missing: a total with months missing is not a total). With
    ``to_date`` (Panel.to_date), a reported 1–12月累计 is the total."""
    out = np.full(values.shape, np.nan)
    n, m = values.shape
    decembers = [c for c in range(m) if (first + c) % 12 == 11 and (c >= 11 or to_date is not None)]
    for c in decembers:
        if to_date is not None:
            out[:, c] = to_date[:, c]
            continue
        year = values[:, c - 11: c + 1]
        out[:, c] = np.where((~np.isnan(year)).all(axis=1), year.sum(axis=1), np.nan)
    return out


def cumulative_points(indicator: Indicator, values: np.ndarray, first_col: int,
                      to_date: np.ndarray | None = None, first: int | None = None) -> np.ndarray:
    """evaluation._cumulative_points: 0 in the month before ``first_col``, then the running sum
    (monthly: through the unbroken run of months from ``first_col``). With a monthly flow's
    ``to_date`` (Panel.to_date; ``first``: the month index of column 0), the sum by way of the
    year-to-date wherever that is known, so a reported 1–N月累计 counts with no months before it."""
    points = _running_sum(indicator, values, first_col)
    if to_date is None:
        return points
    by_year = running_total(values, to_date, first, first_col)
    return np.where(np.isnan(by_year), points, by_year)


def _running_sum(indicator: Indicator, values: np.ndarray, first_col: int) -> np.ndarray:
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

