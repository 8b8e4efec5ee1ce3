"""Year-to-date values (1–N月累计) of monthly flows: stored as reported, months derived from them.

Most Chinese statistics report a flow as 1–N月累计, and an office's first file usually has only
that: 「2024年1-6月」 with no January–May. Such a value is a fact about the year so far, not about
June, so it is stored as it was reported, under the flow's year-to-date series (``ytd_id``: the
indicator id with ``YTD_SUFFIX``), keyed like any observation (region, series, month N). Keeping
it as its own series means every writer (commit, rollback, history, the as-published view) handles
it with no special case, and every reader that asks for the monthly series does not see it.

What is derived, at read time (never stored, so a later upload of an earlier month or a revised
cumulative changes it at once):
- a month's own amount, where it was not reported: 1–N月累计 minus the year-to-date of the month
  before (reported, or built from every earlier month); January's is its own 1–1月累计;
- the year-to-date itself where none was reported: the sum of every month since January.
A reported value always wins over a derived one: a reported month is the month's amount, a
reported 1–N月累计 is the year's total so far (targets on annual flows read it directly). A month
whose derived amount would be negative (earlier months revised upwards since) is left unknown.
"""

from __future__ import annotations

import numpy as np

YTD_SUFFIX = "@ytd"
_TOLERANCE = 1e-9


def ytd_id(indicator_id: str) -> str:
    """The id the year-to-date values of a monthly flow are stored under."""
    return indicator_id + YTD_SUFFIX


def is_ytd(stored_id: str) -> bool:
    return stored_id.endswith(YTD_SUFFIX)


def base_id(stored_id: str) -> str:
    """The indicator a stored id belongs to (itself, or the flow of a year-to-date series)."""
    return stored_id[: -len(YTD_SUFFIX)] if is_ytd(stored_id) else stored_id


def has_year_to_date(indicator) -> bool:
    """Whether an indicator's values may be reported as 1–N月累计: a monthly flow, stored itself."""
    return indicator.kind == "flow" and indicator.frequency == "monthly" and indicator.formula is None


def series_name(config, stored_id: str, month: str | None = None) -> str:
    """The name of a stored series for people: the indicator's, with 「（1—6月累计）」 for a
    year-to-date value at 2024-06 (「（1—N月累计）」 without a month)."""
    name = config.indicator(base_id(stored_id)).name
    if not is_ytd(stored_id):
        return name
    return f"{name}（1—{int(month[5:7])}月累计）" if month else f"{name}（1—N月累计）"


def span_label(month: str) -> str:
    """「2024年1—6月累计」 for the year-to-date value at 2024-06."""
    n = int(month[5:7])
    return f"{month[:4]}年1月" if n == 1 else f"{month[:4]}年1—{n}月累计"


def combine(values: np.ndarray, ytd: np.ndarray | None, first: int) -> tuple[np.ndarray, np.ndarray]:
    """(monthly amounts, year-to-date) of a regions × months panel whose column 0 is month index
    ``first`` (monitor.domain.periods.month_index), from the reported monthly amounts ``values`` and the
    reported year-to-date values ``ytd`` (None: none reported). NaN where not known.

    Column by column: the year-to-date at a month is the reported one, else the one before plus
    the month's amount; a missing month's amount is the reported year-to-date less the one before.
    A column before the first January of the panel has no year-to-date before it (the panel may
    start mid-year), so nothing there is derived from it."""
    monthly = np.array(values, dtype=float, copy=True)
    to_date = np.full(monthly.shape, np.nan)
    n, m = monthly.shape
    previous = np.full(n, np.nan)
    for c in range(m):
        if (first + c) % 12 == 0:
            previous = np.zeros(n)
        if ytd is not None:
            derived = ytd[:, c] - previous
            fill = np.isnan(monthly[:, c]) & (derived >= -_TOLERANCE)
            monthly[:, c] = np.where(fill, np.maximum(derived, 0.0), monthly[:, c])
            reported = ~np.isnan(ytd[:, c])
            to_date[:, c] = np.where(reported, ytd[:, c], previous + monthly[:, c])
        else:
            to_date[:, c] = previous + monthly[:, c]
        previous = to_date[:, c]
    return monthly, to_date


def running_total(values: np.ndarray, to_date: np.ndarray, first: int, first_col: int) -> np.ndarray:
    """The amount added from column ``first_col`` on, at every column from it, by way of the
    year-to-date: within ``first_col``'s year the year-to-date less the one before ``first_col``
    (0 when it is January), in later years the total at the December before plus the year-to-date.
    NaN where that is not known; the column before ``first_col`` is 0."""
    n, m = values.shape
    out = np.full((n, m), np.nan)
    if first_col - 1 >= 0:
        out[:, first_col - 1] = 0.0
    if first_col >= m:
        return out
    if (first + first_col) % 12 == 0:
        base = np.zeros(n)
    elif first_col - 1 >= 0:
        base = to_date[:, first_col - 1]
    else:
        base = np.full(n, np.nan)
    carried = -base  # the total before this year's January, relative to first_col
    for c in range(first_col, m):
        if (first + c) % 12 == 0 and c > first_col:
            carried = out[:, c - 1]
        out[:, c] = carried + to_date[:, c]
    return out


def derived_months(monthly, ytd):
    """The months of a flow whose amount follows from reported year-to-date values (``combine``),
    as rows to add to ``monthly``: frames of region_code, month, value, origin, source_url, note
    (``series.read_observations``' columns, one indicator). A derived month takes the origin of
    the 1–N月累计 it comes from, and a note that says so."""
    import pandas as pd

    from monitor.domain.periods import month_from_index, month_index

    columns = ["region_code", "month", "value", "origin", "source_url", "note"]
    if ytd.empty:
        return pd.DataFrame(columns=columns)
    both = pd.concat([monthly[["region_code", "month"]], ytd[["region_code", "month"]]])
    codes = list(dict.fromkeys(both["region_code"]))
    index = {m: month_index(m) for m in both["month"].unique()}
    first = min(index.values()) // 12 * 12  # from a January, so the first year's months can be derived
    width = max(index.values()) - first + 1
    grid = {}
    for name, frame in (("monthly", monthly), ("ytd", ytd)):
        matrix = np.full((len(codes), width), np.nan)
        rows = pd.Index(codes).get_indexer(frame["region_code"])
        cols = np.array([index[m] for m in frame["month"]], dtype=np.int64) - first
        matrix[rows, cols] = frame["value"].to_numpy(dtype=float)
        grid[name] = matrix
    filled, _ = combine(grid["monthly"], grid["ytd"], first)
    new = np.isnan(grid["monthly"]) & ~np.isnan(filled)
    r, c = np.nonzero(new)
    if not len(r):
        return pd.DataFrame(columns=columns)
    months = [month_from_index(first + int(k)) for k in c]
    origin_of = {(a, b): o for a, b, o in zip(ytd["region_code"], ytd["month"], ytd["origin"])}
    added = pd.DataFrame({"region_code": [codes[k] for k in r], "month": months, "value": filled[r, c]})
    # the origin of the 1–N月累计 at that month (the one the amount comes from)
    added["origin"] = [origin_of.get((a, b), "upload") for a, b in zip(added["region_code"], added["month"])]
    added["source_url"] = None
    added["note"] = [f"由{span_label(m)}推算" for m in months]
    return added
