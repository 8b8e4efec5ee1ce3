"""One target for one region's series: a one-row panel through the same rules every view uses.

``evaluate_target`` is what the tests' hand calculations and a caller holding one series use;
``measure_path`` is what a chart of the target draws. Neither has rules of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.domain.config import Indicator, IndicatorTarget, LevelTarget, ReferenceTarget, SteadyTarget
from monitor.domain.periods import month_from_index, month_index, parse_month
from monitor.domain.yeartodate import combine
from monitor.evaluation.panels import Panel, level_points
from monitor.evaluation.rules import STATUSES, _evaluate_panel, _Result
from monitor.evaluation.status import Evaluation, Status, pace_band
from monitor.evaluation.words import Standing, explain, measure_label, projection_method


def series_panel(series: pd.Series | None, as_of: str, year_to_date: pd.Series | None = None) -> Panel:
    """A one-row panel of ``series`` (values indexed by "YYYY-MM") up to ``as_of``; with a monthly
    flow's reported 1–N月累计 values (``year_to_date``), its months and year-to-date as
    ``read_panels`` gives them (monitor/domain/yeartodate.py)."""
    end = month_index(as_of)
    if year_to_date is not None and year_to_date.dropna().empty:
        year_to_date = None
    found = [_months(s, end) for s in (series, year_to_date) if s is not None and not s.empty]
    found = [f for f in found if len(f[0])]
    if not found:
        return Panel(["_"], end, np.full((1, 1), np.nan))
    first = min(int(months.min()) for months, _ in found)
    if year_to_date is not None:
        first = first // 12 * 12  # from a January: the year-to-date is known from there
    own, ytd = (_aligned(s, first, end - first + 1)[None, :] for s in (series, year_to_date))
    if year_to_date is None:
        return Panel(["_"], first, own)
    monthly, to_date = combine(own, ytd, first)
    return Panel(["_"], first, monthly, to_date=to_date)


def _months(series: pd.Series, end: int) -> tuple[np.ndarray, np.ndarray]:
    months = np.array([month_index(str(m)) for m in series.index], dtype=np.int64)
    values = series.to_numpy(dtype=float)
    keep = (months <= end) & ~np.isnan(values)
    return months[keep], values[keep]


def _aligned(series: pd.Series | None, first: int, width: int) -> np.ndarray:
    """``series`` on the columns of a panel starting at month index ``first``."""
    out = np.full(width, np.nan)
    if series is None or series.empty:
        return out
    months = np.array([month_index(str(m)) for m in series.index], dtype=np.int64) - first
    inside = (months >= 0) & (months < width)
    out[months[inside]] = series.to_numpy(dtype=float)[inside]
    return out


def _run(target, indicator: Indicator, series: pd.Series, as_of: str,
         reference: pd.Series | None, year_to_date: pd.Series | None = None) -> tuple[Panel, _Result]:
    if target.indicator != indicator.id:
        raise ValueError(f"target {target.id} measures {target.indicator!r}, not {indicator.id!r}")
    panel = series_panel(series, as_of, year_to_date)
    ref = None
    if isinstance(target, ReferenceTarget):
        ref = _aligned(reference, panel.first, panel.values.shape[1])
    return panel, _evaluate_panel(target, indicator, panel, as_of, reference=ref)


def _number(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def evaluate_target(target: IndicatorTarget, indicator: Indicator, series: pd.Series, as_of: str, *,
                    reference: pd.Series | None = None, year_to_date: pd.Series | None = None) -> Evaluation:
    """Evaluate one target as of the end of month ``as_of``.

    ``series`` holds the indicator's values for the target's region, indexed by "YYYY-MM" (a flow
    holds the amount within each month; derived indicators are already computed). ``reference``
    is the same for the reference region of an above_reference target. ``year_to_date``: a
    monthly flow's reported 1–N月累计 values, indexed by their last month. Observations after
    ``as_of`` are ignored."""
    as_of = parse_month(as_of)
    _, out = _run(target, indicator, series, as_of, reference, year_to_date)
    return evaluation_of(target, indicator, as_of, out, 0)


def evaluation_of(target, indicator: Indicator, as_of: str, out: _Result, k: int) -> Evaluation:
    """Row ``k`` of a rule's result as an ``Evaluation``, with its sentence."""
    nums = {name: _number(column[k]) for name, column in out.numbers.items()}
    status = STATUSES[int(out.status[k])]
    current = month_from_index(int(out.current_month[k])) if out.current_month[k] >= 0 else None
    baseline_period = month_from_index(int(out.baseline_month[k])) if out.baseline_month[k] >= 0 else None
    standing = Standing(
        status, current, nums["current"], nums["target_value"], nums["baseline"], baseline_period,
        nums["expected_now"], nums["gap"], nums["needed_per_month"], nums["projection"],
        trend=bool(out.trend[k]), rising=bool(out.rising[k]), observed=bool(out.observed[k]),
        levels=bool(out.levels[k]), growth_base=_number(out.growth_base[k]), prior=_number(out.prior[k]),
        missing=int(out.missing[k]),
        missing_from=month_from_index(int(out.missing_from[k])) if out.missing_from[k] >= 0 else None)
    judged = current is not None and status not in (Status.NO_DATA, Status.NOT_STARTED)
    has_baseline = nums["baseline"] is not None and baseline_period is not None
    origin = None
    if has_baseline and not isinstance(target, ReferenceTarget):
        origin = "document" if out.document_base[k] else "observed"
    pace = nums["pace_ratio"]
    return Evaluation(
        target_id=target.id,
        status=status,
        as_of=as_of,
        measure=measure_label(target, indicator, as_of),
        unit=indicator.unit,
        current=nums["current"],
        current_period=current,
        target_value=nums["target_value"],
        baseline=nums["baseline"],
        baseline_period=baseline_period,
        baseline_origin=origin,
        expected_now=nums["expected_now"],
        progress=nums["progress"],
        gap=nums["gap"],
        months_left=int(nums["months_left"]) if nums["months_left"] is not None else None,
        needed_per_month=nums["needed_per_month"],
        projection=nums["projection"],
        projection_method=projection_method(indicator, nums["projection"]) if judged and as_of < target.deadline
        else None,
        pace_ratio=pace,
        pace_band=pace_band(pace) if pace is not None else None,
        reference_value=nums["reference_value"],
        explanation=explain(target, indicator, as_of, standing),
    )


@dataclass(frozen=True)
class MeasurePath:
    """What a chart of a target draws: the measured quantity Q over time and the straight line
    from (t0, baseline) to (deadline, target) it is judged against (None where the type has none)."""

    measure: str
    points: pd.Series
    t0: str | None
    baseline: float | None
    deadline: str
    target: float | None


def measure_path(target: IndicatorTarget, indicator: Indicator, series: pd.Series, as_of: str, *,
                 reference: pd.Series | None = None, year_to_date: pd.Series | None = None) -> MeasurePath:
    """The same measure ``evaluate_target`` judges, as a series for drawing."""
    as_of = parse_month(as_of)
    panel, out = _run(target, indicator, series, as_of, reference, year_to_date)
    values = out.points[0] if out.points is not None else level_points(indicator, panel.values)[0]
    first = out.points_first if out.points is not None else panel.first
    known = ~np.isnan(values)
    months = [month_from_index(first + int(c)) for c in np.flatnonzero(known)]
    points = pd.Series(values[known], index=pd.Index(months, dtype=object), dtype=float)
    line = not isinstance(target, (SteadyTarget, ReferenceTarget))
    if line and out.baseline_month[0] >= 0 and out.status[0] != STATUSES.index(Status.NOT_STARTED):
        return MeasurePath(measure_label(target, indicator, as_of), points, month_from_index(int(out.baseline_month[0])),
                           _number(out.numbers["baseline"][0]), target.deadline,
                           _number(out.numbers["target_value"][0]))
    document = getattr(target, "baseline", None)
    return MeasurePath(
        measure_label(target, indicator, as_of),
        points,
        document.period if document else None,
        document.value if document else None,
        target.deadline,
        target.value if isinstance(target, LevelTarget) else None,
    )
