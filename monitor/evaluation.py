"""Target evaluation: where an indicator stands against a policy target as of a month.

Every function here is pure: it takes one target, its indicator and the observed series for the
target's region, and returns an ``Evaluation`` with a status, the numbers behind it and one Chinese
sentence saying why. Nothing is read or written.

Numeric targets (at_least, at_most, increase, growth) are reduced to one straight line from a
baseline (t0, B) to the target (tD, T) over a measured quantity Q(m); the status compares Q with
that line and with a least-squares projection to the deadline. Direction is carried by a sign
(+1: higher is better, -1: lower is better) so every comparison is written once.

An as-of evaluation sees only observations dated at or before ``as_of``: what the monitor would
have said at the end of that month.

The sentence is written by ``explain`` from a ``Standing`` (the verdict's numbers and the few facts
its words need), never from the series itself: the set-based evaluator (monitor/evaluation_batch.py)
describes its verdicts the same way, so both say the same thing in the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np
import pandas as pd

from monitor.config import (
    GrowthTarget,
    IncreaseTarget,
    Indicator,
    IndicatorTarget,
    LevelTarget,
    ReferenceTarget,
    SteadyTarget,
)
from monitor.periods import (
    add_months,
    format_month_cn,
    month_index,
    months_between,
    parse_month,
    year_of,
)


class Status(str, Enum):
    """The verdict on one target; the value is the label users see."""

    ACHIEVED = "已达成"
    ON_TRACK = "按期推进"
    NEEDS_ACCELERATION = "需加快"  # behind the straight line, but the projection reaches the target
    BEHIND = "滞后"
    MISSED = "未达成"  # deadline passed, not reached
    NO_DATA = "无数据"
    NOT_STARTED = "未开始"  # the as-of month is before the measured period begins


STATUS_ORDER: tuple[Status, ...] = (
    Status.ACHIEVED,
    Status.ON_TRACK,
    Status.NEEDS_ACCELERATION,
    Status.BEHIND,
    Status.MISSED,
    Status.NO_DATA,
    Status.NOT_STARTED,
)

# Traffic-light colours, from good to bad, then the two "nothing to judge yet" greys.
STATUS_COLORS: dict[Status, str] = {
    Status.ACHIEVED: "#1a9641",
    Status.ON_TRACK: "#4db6ac",
    Status.NEEDS_ACCELERATION: "#f5a623",
    Status.BEHIND: "#e8590c",
    Status.MISSED: "#a50f15",
    Status.NO_DATA: "#9e9e9e",
    Status.NOT_STARTED: "#d9d9d9",
}

PACE_BANDS: tuple[str, ...] = ("≥1", "0.5–1", "0–0.5", "<0")

BaselineOrigin = Literal["document", "observed"]


@dataclass(frozen=True)
class Evaluation:
    """Where one target stands as of a month, with the numbers behind the status."""

    target_id: str
    status: Status
    as_of: str
    measure: str  # what is measured, e.g. "有效发明专利拥有量", "2022年新增", "2022年累计（1—当月）"
    unit: str
    current: float | None
    current_period: str | None  # the observation month used, never after as_of (nor after a passed deadline)
    target_value: float | None  # in the same terms as current
    baseline: float | None
    baseline_period: str | None
    baseline_origin: BaselineOrigin | None
    expected_now: float | None  # on the straight line from baseline to target at current_period
    progress: float | None  # share of the distance baseline → target covered (may be < 0 or > 1)
    gap: float | None  # how far short of the target in the target's direction (> 0 short, <= 0 reached)
    months_left: int | None
    needed_per_month: float | None
    projection: float | None  # value projected at the deadline
    projection_method: str | None
    pace_ratio: float | None  # observed pace ÷ required pace
    pace_band: str | None
    reference_value: float | None = None  # above_reference: the reference region's value
    explanation: str = ""  # one Chinese sentence saying why


def pace_band(ratio: float) -> str:
    """The band of a pace ratio: "≥1", "0.5–1", "0–0.5" or "<0"."""
    if ratio >= 1:
        return PACE_BANDS[0]
    if ratio >= 0.5:
        return PACE_BANDS[1]
    if ratio >= 0:
        return PACE_BANDS[2]
    return PACE_BANDS[3]


def evaluate_target(
    target: IndicatorTarget,
    indicator: Indicator,
    series: pd.Series,
    as_of: str,
    *,
    reference: pd.Series | None = None,
) -> Evaluation:
    """Evaluate one target as of the end of month ``as_of``.

    ``series`` holds the indicator's values for the target's region, indexed by "YYYY-MM", sorted,
    without NaN (a flow holds the amount within each month; derived indicators are already
    computed). ``reference`` is the same for the reference region of an above_reference target.
    Observations after ``as_of`` are ignored.
    """
    if target.indicator != indicator.id:
        raise ValueError(f"target {target.id} measures {target.indicator!r}, not {indicator.id!r}")
    as_of = parse_month(as_of)
    view = _as_of_view(series, as_of)
    if isinstance(target, ReferenceTarget):
        ref_view = _as_of_view(reference if reference is not None else pd.Series(dtype=float), as_of)
        return _evaluate_reference(target, indicator, view, ref_view, as_of)
    if isinstance(target, SteadyTarget):
        return _evaluate_steady(target, indicator, view, as_of)
    plan = _line_plan(target, indicator, view, as_of)
    if plan is None:
        raise TypeError(f"cannot evaluate target type {type(target).__name__}")
    if isinstance(plan, Evaluation):
        return plan
    return _evaluate_line(plan, target, indicator, as_of)


# --------------------------------------------------------------------------- numbers and words


@dataclass(frozen=True)
class _Numbers:
    """Formats numbers in the indicator's unit.

    Observed and document values use the indicator's decimals; computed values (a point on the
    straight line, a monthly rate, a projection) get one more decimal, so "需月均新增7.3件" is not
    rounded to 7 when the indicator counts whole items.
    """

    unit: str
    decimals: int

    def value(self, x: float) -> str:
        return _format(x, self.decimals, self.decimals) + self.unit

    def computed(self, x: float) -> str:
        return _format(x, self.decimals + 1, self.decimals) + self.unit


def _format(x: float, places: int, min_places: int) -> str:
    rounded = round(x, places) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = f"{rounded:,.{places}f}"
    if places > min_places:
        keep = len(text) - (places - min_places)
        text = text[:keep] + text[keep:].rstrip("0")
        text = text.rstrip(".")
    return text


def _percent(share: float) -> str:
    """A relative change as words: 0.125 -> "增长12.5%", -0.03 -> "下降3.0%"."""
    if round(share * 100, 1) == 0:
        return "持平"
    return f"{'增长' if share > 0 else '下降'}{abs(share) * 100:.1f}%"


def _deadline_cn(month: str) -> str:
    """"2025-12" -> "2025年底", "2025-06" -> "2025年6月底"."""
    if month.endswith("-12"):
        return f"{month[:4]}年底"
    return f"{format_month_cn(month)}底"


def _tolerance(x: float) -> float:
    # sums of monthly amounts carry float noise; a target met to 1e-9 is met
    return 1e-9 * max(1.0, abs(x))


def _at_or_beyond(sign: int, value: float, mark: float) -> bool:
    """True when ``value`` is at ``mark`` or past it in the good direction."""
    return sign * (value - mark) >= -_tolerance(mark)


def _beyond(sign: int, value: float, mark: float) -> bool:
    """True when ``value`` is strictly past ``mark`` in the good direction."""
    return sign * (value - mark) > _tolerance(mark)


# --------------------------------------------------------------------------- series helpers


def _as_of_view(series: pd.Series, as_of: str) -> pd.Series:
    """The observations an evaluation as of ``as_of`` may see."""
    view = series.astype(float)
    view.index = view.index.astype(str)
    return view[view.index <= as_of]


def _level_points(indicator: Indicator, view: pd.Series) -> pd.Series:
    """The level Q(m) at each month it is known.

    A stock or derived indicator is its own level. A monthly flow's level is the sum of the 12
    months ending at m, defined only where all 12 are present (a gap would understate the year);
    an annual flow's level is the latest year's amount.
    """
    if indicator.kind != "flow" or indicator.frequency == "annual":
        return view
    idx = np.array([month_index(m) for m in view.index], dtype=int)
    csum = np.concatenate([[0.0], np.cumsum(view.to_numpy(dtype=float))])
    months, sums = [], []
    for i in range(11, len(view)):
        if idx[i] - idx[i - 11] == 11:
            months.append(view.index[i])
            sums.append(float(csum[i + 1] - csum[i - 11]))
    return pd.Series(sums, index=pd.Index(months, dtype=object), dtype=float)


def _cumulative_points(indicator: Indicator, view: pd.Series, first: str) -> pd.Series:
    """The sum of a flow from month ``first`` to m, with the empty sum 0 at the month before.

    Monthly: defined through the last month of the unbroken run starting at ``first``; after a
    missing month the running total is unknown. Annual: the sum of the years reported since ``first``.
    """
    amounts = view[view.index >= first]
    if indicator.frequency == "monthly":
        idx = np.array([month_index(m) for m in amounts.index], dtype=int)
        run = idx == month_index(first) + np.arange(len(idx))
        unbroken = int(np.argmin(run)) if not run.all() else len(run)
        amounts = amounts.iloc[:unbroken]
    start = pd.Series([0.0], index=pd.Index([add_months(first, -1)], dtype=object), dtype=float)
    running = amounts.cumsum()
    running.index = pd.Index(list(running.index), dtype=object)
    return pd.concat([start, running]) if len(running) else start


@dataclass(frozen=True)
class _Line:
    """A least-squares line through recent points, in value per month."""

    slope: float
    x_mean: float
    y_mean: float
    label: str  # "近12个月" / "近3年"

    def at(self, month: str) -> float:
        return self.y_mean + self.slope * (month_index(month) - self.x_mean)


def _recent_trend(
    points: pd.Series, upto: str, frequency: str, *, min_points: int | None = None
) -> tuple[_Line | None, str]:
    """Fit the points of the last 12 months up to ``upto`` (monthly, >= 3 points) or the last 3
    annual points (annual, >= 2). Returns (line or None when too few points, window label)."""
    known = points[points.index <= upto]
    if frequency == "monthly":
        window, label, need = known[known.index >= add_months(upto, -11)], "近12个月", 3
    else:
        window, label, need = known.iloc[-3:], "近3年", 2
    if len(window) < (min_points or need):
        return None, label
    x = np.array([month_index(m) for m in window.index], dtype=float)
    y = window.to_numpy(dtype=float)
    x_mean, y_mean = float(x.mean()), float(y.mean())
    slope = float(((x - x_mean) * (y - y_mean)).sum() / ((x - x_mean) ** 2).sum())
    return _Line(slope, x_mean, y_mean, label), label


def _projection_method(line: _Line | None) -> str:
    return f"{line.label}线性趋势外推" if line else "数据不足，未外推"


def _latest(points: pd.Series, first: str | None, last: str) -> tuple[str, float] | None:
    """The latest point with first <= month <= last."""
    chosen = points[points.index <= last]
    if first is not None:
        chosen = chosen[chosen.index >= first]
    if chosen.empty:
        return None
    return str(chosen.index[-1]), float(chosen.iloc[-1])


# --------------------------------------------------------------------------- empty verdicts


def _empty(
    target: IndicatorTarget,
    indicator: Indicator,
    as_of: str,
    status: Status,
    measure: str,
    *,
    target_value: float | None = None,
    baseline: tuple[str, float, BaselineOrigin] | None = None,
    observed: bool = False,
    levels: bool = False,
) -> Evaluation:
    """A verdict with nothing to measure yet: NOT_STARTED or NO_DATA (``observed``/``levels``:
    what the series does hold, for the words)."""
    standing = Standing(status, target_value=target_value, baseline=baseline[1] if baseline else None,
                        baseline_period=baseline[0] if baseline else None, observed=observed, levels=levels)
    return Evaluation(
        target_id=target.id,
        status=status,
        as_of=as_of,
        measure=measure,
        unit=indicator.unit,
        current=None,
        current_period=None,
        target_value=target_value,
        baseline=baseline[1] if baseline else None,
        baseline_period=baseline[0] if baseline else None,
        baseline_origin=baseline[2] if baseline else None,
        expected_now=None,
        progress=None,
        gap=None,
        months_left=None,
        needed_per_month=None,
        projection=None,
        projection_method=None,
        pace_ratio=None,
        pace_band=None,
        explanation=explain(target, indicator, as_of, standing),
    )


def _not_started_text(start: str, as_of: str) -> str:
    return f"目标期自{format_month_cn(start)}开始，截至{format_month_cn(as_of)}尚未开始"


def _no_data_text(as_of: str) -> str:
    return f"截至{format_month_cn(as_of)}尚无该指标数据"


# --------------------------------------------------------------------------- straight-line targets


_Style = Literal["level", "increase"]


@dataclass(frozen=True)
class _Plan:
    """A numeric target as a straight line from (t0, B) to (deadline, T) over a measured Q."""

    measure: str
    sign: int
    points: pd.Series  # Q(m) in the as-of view; for cumulative measures including Q(t0) = 0
    first_current: str  # earliest month whose point counts as a current value
    t0: str
    baseline: float
    origin: BaselineOrigin
    target: float
    deadline: str
    observed: bool = True  # the as-of view holds a value (for the words when no current point exists)
    levels: bool = True  # ... and a level
    growth_base: float | None = None  # growth: the previous year's value R
    prior_year: pd.Series | None = None  # growth of a monthly flow: the previous year's months


def _period_start(target: LevelTarget | SteadyTarget) -> str:
    """First month a level target is measured: the month after a document baseline, or start."""
    if target.baseline is not None:
        return min(target.start, add_months(target.baseline.period, 1))
    return target.start


def _level_baseline(
    target: LevelTarget | SteadyTarget, points: pd.Series
) -> tuple[tuple[str, float, BaselineOrigin], str] | None:
    """(t0, B, origin) and the first month that may serve as a current value.

    A document baseline wins; otherwise the level at start (latest at or before it), else the
    first level after start, which then becomes t0.
    """
    if target.baseline is not None:
        return (target.baseline.period, target.baseline.value, "document"), target.baseline.period
    before = points[points.index <= target.start]
    if not before.empty:
        return (str(before.index[-1]), float(before.iloc[-1]), "observed"), str(before.index[-1])
    after = points[points.index > target.start]
    if after.empty:
        return None
    return (str(after.index[0]), float(after.iloc[0]), "observed"), str(after.index[0])


def _level_measure(indicator: Indicator) -> tuple[str, str]:
    """(measure label, words before "为" in a sentence) for a level."""
    if indicator.kind == "flow":
        return ("近12个月合计", "近12个月合计") if indicator.frequency == "monthly" else ("年度值", "")
    return indicator.name, ""


def _level_head(numbers: _Numbers, prefix: str) -> Callable[[str, float, bool], str]:
    def head(month: str, value: float, final: bool) -> str:
        when = format_month_cn(month) if final else f"截至{format_month_cn(month)}"
        return f"{when}{prefix}为{numbers.value(value)}"

    return head


def _level_plan(target: LevelTarget, indicator: Indicator, view: pd.Series, as_of: str) -> _Plan | Evaluation:
    sign = 1 if target.type == "at_least" else -1
    measure, _ = _level_measure(indicator)
    document = (
        (target.baseline.period, target.baseline.value, "document") if target.baseline is not None else None
    )
    if as_of < _period_start(target):
        return _empty(target, indicator, as_of, Status.NOT_STARTED, measure, target_value=target.value,
                      baseline=document)
    points = _level_points(indicator, view)
    found = _level_baseline(target, points)
    if found is None:
        return _empty(target, indicator, as_of, Status.NO_DATA, measure, target_value=target.value,
                      observed=not view.empty, levels=not points.empty)
    (t0, baseline, origin), first_current = found
    return _Plan(
        measure=measure,
        sign=sign,
        points=points,
        first_current=first_current,
        t0=t0,
        baseline=baseline,
        origin=origin,
        target=target.value,
        deadline=target.deadline,
        observed=not view.empty,
        levels=not points.empty,
    )


def _level_no_data_text(observed: bool, levels: bool, as_of: str, since: str | None) -> str:
    """Why a level has no current value: no data at all, no complete 12 months, or none since t0."""
    if not observed:
        return _no_data_text(as_of)
    if not levels:
        return f"截至{format_month_cn(as_of)}尚无连续12个月的该指标数据，无法计算近12个月合计"
    return f"截至{format_month_cn(as_of)}尚无{format_month_cn(since or as_of)}以来的该指标数据"


def _increase_plan(
    target: IncreaseTarget, indicator: Indicator, view: pd.Series, as_of: str
) -> _Plan | Evaluation:
    start, t0 = target.start, add_months(target.start, -1)
    if start.endswith("-01"):
        same_year = year_of(start) == year_of(target.deadline)
        measure = f"{start[:4]}年新增" if same_year else f"{start[:4]}年以来新增"
    else:
        measure = f"{format_month_cn(start)}以来新增"
    if as_of < start:
        return _empty(target, indicator, as_of, Status.NOT_STARTED, measure, target_value=target.value)
    origin: BaselineOrigin = "observed"
    if indicator.kind == "flow":
        points = _cumulative_points(indicator, view, start)
    else:
        before = view[view.index <= t0]
        if not before.empty:
            level_at_t0 = float(before.iloc[-1])
        elif target.baseline is not None:
            level_at_t0, origin = target.baseline.value, "document"
        else:
            return _empty(target, indicator, as_of, Status.NO_DATA, measure, target_value=target.value)
        points = pd.concat(
            [
                pd.Series([0.0], index=pd.Index([t0], dtype=object), dtype=float),
                view[view.index >= start] - level_at_t0,
            ]
        )

    return _Plan(
        measure=measure,
        sign=1,  # 新增 X (X > 0) always asks for more
        points=points,
        first_current=start,
        t0=t0,
        baseline=0.0,
        origin=origin,
        target=target.value,
        deadline=target.deadline,
    )


def _growth_plan(target: GrowthTarget, indicator: Indicator, view: pd.Series, as_of: str) -> _Plan | Evaluation:
    sign = 1 if indicator.direction == "higher" else -1
    year = year_of(target.deadline)
    prev = year - 1
    t0, first = f"{prev}-12", f"{year}-01"
    flow = indicator.kind == "flow"
    monthly = indicator.frequency == "monthly"
    if flow:
        measure = f"{year}年累计（1—当月）" if monthly else f"{year}年全年"
    else:
        measure = indicator.name
    if year_of(as_of) < year:
        return _empty(target, indicator, as_of, Status.NOT_STARTED, measure)

    prev_year = view[(view.index >= f"{prev}-01") & (view.index <= t0)]
    reference: float | None = None
    if flow and monthly:
        if len(prev_year) == 12:
            reference = float(prev_year.sum())
    elif monthly:
        if t0 in prev_year.index:
            reference = float(prev_year[t0])
    else:
        if not prev_year.empty:
            reference = float(prev_year.iloc[-1])
    if reference is None:
        return _empty(target, indicator, as_of, Status.NO_DATA, measure)

    goal_value = reference * (1 + target.value / 100)
    if flow:
        points = _cumulative_points(indicator, view, first)
        baseline = 0.0
    else:
        points = view
        baseline = reference

    return _Plan(
        measure=measure,
        sign=sign,
        points=points,
        first_current=first,
        t0=t0,
        baseline=baseline,
        origin="observed",
        target=goal_value,
        deadline=target.deadline,
        growth_base=reference,
        prior_year=prev_year if flow and monthly else None,
    )


def _evaluate_line(plan: _Plan, target: IndicatorTarget, indicator: Indicator, as_of: str) -> Evaluation:
    sign, t0, deadline, baseline, goal = plan.sign, plan.t0, plan.deadline, plan.baseline, plan.target
    final = as_of >= deadline
    current = _latest(plan.points, plan.first_current, min(as_of, deadline))
    if current is None:
        return _empty(target, indicator, as_of, Status.NO_DATA, plan.measure, target_value=goal,
                      baseline=(t0, baseline, plan.origin), observed=plan.observed, levels=plan.levels)
    month, value = current

    span = months_between(t0, deadline)
    elapsed = months_between(t0, month)
    share = min(max(elapsed / span, 0.0), 1.0) if span > 0 else 1.0
    expected = baseline + (goal - baseline) * share
    # progress along baseline → target only means something when the target lies ahead of the
    # baseline; a region that started beyond it (common when a city target is applied per
    # capita to another city) has no distance to cover: no progress figure, not -186 %.
    ahead = sign * (goal - baseline) > 0
    progress = (value - baseline) / (goal - baseline) if ahead else None
    gap = sign * (goal - value)
    months_left = 0 if final else max(0, months_between(month, deadline))
    needed = gap / months_left if gap > 0 and months_left > 0 else None

    pace_ratio = None
    if elapsed > 0 and span > 0 and ahead:
        pace_ratio = ((value - baseline) / elapsed) / ((goal - baseline) / span)

    projection, method, line = None, None, None
    if final:
        status = Status.ACHIEVED if _at_or_beyond(sign, value, goal) else Status.MISSED
    else:
        line, _ = _recent_trend(plan.points, month, indicator.frequency)
        projection = line.at(deadline) if line else None
        method = _projection_method(line)
        if _at_or_beyond(sign, value, goal):
            status = Status.ACHIEVED
        elif _at_or_beyond(sign, value, expected):
            status = Status.ON_TRACK
        elif projection is not None and _at_or_beyond(sign, projection, goal):
            status = Status.NEEDS_ACCELERATION
        else:
            status = Status.BEHIND

    prior = None
    if plan.prior_year is not None:  # growth of a monthly flow: compared with the same months last year
        prior = float(plan.prior_year[plan.prior_year.index <= f"{year_of(t0)}-{month[5:7]}"].sum())
    standing = Standing(status, month, value, goal, baseline, t0, expected, gap, needed, projection,
                        trend=line is not None, growth_base=plan.growth_base, prior=prior)
    return Evaluation(
        target_id=target.id,
        status=status,
        as_of=as_of,
        measure=plan.measure,
        unit=indicator.unit,
        current=value,
        current_period=month,
        target_value=goal,
        baseline=baseline,
        baseline_period=t0,
        baseline_origin=plan.origin,
        expected_now=expected,
        progress=progress,
        gap=gap,
        months_left=months_left,
        needed_per_month=needed,
        projection=projection,
        projection_method=method,
        pace_ratio=pace_ratio,
        pace_band=pace_band(pace_ratio) if pace_ratio is not None else None,
        explanation=explain(target, indicator, as_of, standing),
    )


def _explain_line(
    words: _LineWords,
    indicator: Indicator,
    status: Status,
    month: str,
    value: float,
    expected: float,
    gap: float,
    needed: float | None,
    projection: float | None,
    trend_label: str | None,
    final: bool,
) -> str:
    numbers = _Numbers(indicator.unit, indicator.decimals)
    amount = numbers.computed if words.target_is_computed else numbers.value
    head = words.head(month, value, final)
    deadline = _deadline_cn(words.deadline)
    increase, lower = words.style == "increase", words.sign < 0

    if status is Status.ACHIEVED:
        if increase:
            tail = f"完成{words.goal}的目标" if final else f"已完成{deadline}{words.goal}的目标"
        elif lower:
            tail = f"降至目标{words.goal}以内" if final else f"已降至{deadline}目标{words.goal}以内"
        else:
            tail = f"达到目标{words.goal}" if final else f"已达到{deadline}目标{words.goal}"
        return f"{head}，{tail}"
    if status is Status.MISSED:
        if increase:
            tail = f"未完成{words.goal}的目标"
        else:
            tail = f"未降至目标{words.goal}以内" if lower else f"未达到目标{words.goal}"
        return f"{head}，{tail}，差{amount(gap)}"

    if increase:
        reach = f"完成{words.goal}的目标"
    else:
        reach = f"降至{words.goal}" if lower else f"达到{words.goal}"
    line_value = f"应新增{numbers.computed(expected)}" if increase else numbers.computed(expected)
    if status is Status.ON_TRACK:
        if abs(value - expected) <= _tolerance(expected):
            ahead = f"与线性进度持平（{line_value}）"
        elif increase:
            ahead = f"超过线性进度（{line_value}）"
        else:
            ahead = f"{'低于' if lower else '高于'}线性进度{line_value}"
        more = "再新增" if increase else ("再降" if lower else "再增")
        return f"{head}，{ahead}；{more}{amount(gap)}即可于{deadline}{reach}"

    should = "按线性进度" + (line_value if increase else f"{'应降至' if lower else '应达'}{line_value}")
    text = f"{head}，{should}，差{numbers.computed(words.sign * (expected - value))}"
    if needed is not None:
        text += f"；需月均{'减少' if lower else '新增'}{numbers.computed(needed)}方可于{deadline}{reach}"
    if projection is not None and trend_label:
        text += f"；按{trend_label}趋势预计届时{'新增' if increase else '为'}{numbers.computed(projection)}"
    return text


# --------------------------------------------------------------------------- above_reference


def _evaluate_reference(
    target: ReferenceTarget, indicator: Indicator, view: pd.Series, ref_view: pd.Series, as_of: str
) -> Evaluation:
    sign = 1 if indicator.direction == "higher" else -1
    measure, _ = _level_measure(indicator)
    if as_of < target.start:
        return _empty(target, indicator, as_of, Status.NOT_STARTED, measure)
    final = as_of >= target.deadline
    cutoff = min(as_of, target.deadline)
    own, other = _level_points(indicator, view), _level_points(indicator, ref_view)
    common = [m for m in own.index if m in other.index and m <= cutoff]
    if not common:
        return _empty(target, indicator, as_of, Status.NO_DATA, measure)
    own, other = own[common], other[common]
    month = common[-1]
    value, ref_value = float(own.iloc[-1]), float(other.iloc[-1])
    gap = sign * (ref_value - value)
    above = _beyond(sign, value, ref_value)

    projection, method, trend = None, None, False
    if final:
        status = Status.ACHIEVED if above else Status.MISSED
    elif above:
        status = Status.ON_TRACK
        line, _ = _recent_trend(own, month, indicator.frequency, min_points=2)
        projection, method = (line.at(target.deadline) if line else None), _projection_method(line)
    else:
        # Fitting own and reference on the same months and subtracting is the fit of the difference.
        line, _ = _recent_trend(own, month, indicator.frequency, min_points=2)
        ref_line, _ = _recent_trend(other, month, indicator.frequency, min_points=2)
        method = _projection_method(line)
        trend = line is not None and ref_line is not None
        status = Status.BEHIND
        if trend:
            projection = line.at(target.deadline)
            if _beyond(sign, projection, ref_line.at(target.deadline)):
                status = Status.NEEDS_ACCELERATION
    standing = Standing(status, month, value, ref_value, gap=gap, projection=projection, trend=trend)
    return Evaluation(
        target_id=target.id,
        status=status,
        as_of=as_of,
        measure=measure,
        unit=indicator.unit,
        current=value,
        current_period=month,
        target_value=ref_value,
        baseline=None,
        baseline_period=None,
        baseline_origin=None,
        expected_now=None,
        progress=value / ref_value if ref_value else None,
        gap=gap,
        months_left=0 if final else max(0, months_between(month, target.deadline)),
        needed_per_month=None,
        projection=projection,
        projection_method=method,
        pace_ratio=None,
        pace_band=None,
        reference_value=ref_value,
        explanation=explain(target, indicator, as_of, standing),
    )


# --------------------------------------------------------------------------- steady_increase


def _evaluate_steady(target: SteadyTarget, indicator: Indicator, view: pd.Series, as_of: str) -> Evaluation:
    sign = 1 if indicator.direction == "higher" else -1
    measure, _ = _level_measure(indicator)
    document = (
        (target.baseline.period, target.baseline.value, "document") if target.baseline is not None else None
    )
    if as_of < _period_start(target):
        return _empty(target, indicator, as_of, Status.NOT_STARTED, measure, baseline=document)
    points = _level_points(indicator, view)
    found = _level_baseline(target, points)
    if found is None:
        return _empty(target, indicator, as_of, Status.NO_DATA, measure, observed=not view.empty,
                      levels=not points.empty)
    (t0, baseline, origin), first_current = found
    final = as_of >= target.deadline
    current = _latest(points, first_current, min(as_of, target.deadline))
    if current is None:
        return _empty(target, indicator, as_of, Status.NO_DATA, measure, baseline=(t0, baseline, origin),
                      observed=not view.empty, levels=not points.empty)
    month, value = current
    improved = _beyond(sign, value, baseline)

    projection, method, line, trending = None, None, None, False
    if final:
        status = Status.ACHIEVED if improved else Status.MISSED
    else:
        line, _ = _recent_trend(points, month, indicator.frequency)
        projection, method = (line.at(target.deadline) if line else None), _projection_method(line)
        trending = line is not None and sign * line.slope > 0
        if improved and trending:
            status = Status.ON_TRACK
        elif improved or trending:
            status = Status.NEEDS_ACCELERATION
        else:
            status = Status.BEHIND
    standing = Standing(status, month, value, baseline=baseline, baseline_period=t0, projection=projection,
                        trend=line is not None, rising=trending)
    return Evaluation(
        target_id=target.id,
        status=status,
        as_of=as_of,
        measure=measure,
        unit=indicator.unit,
        current=value,
        current_period=month,
        target_value=None,
        baseline=baseline,
        baseline_period=t0,
        baseline_origin=origin,
        expected_now=None,
        progress=None,
        gap=None,
        months_left=0 if final else max(0, months_between(month, target.deadline)),
        needed_per_month=None,
        projection=projection,
        projection_method=method,
        pace_ratio=None,
        pace_band=None,
        explanation=explain(target, indicator, as_of, standing),
    )


# --------------------------------------------------------------------------- sentences


@dataclass(frozen=True)
class Standing:
    """What the sentence about one verdict is written from. ``evaluate_target`` and the set-based
    evaluator (monitor/evaluation_batch.py) both describe their verdicts this way and call
    ``explain``, so each sentence is worded in one place."""

    status: Status
    current_period: str | None = None
    current: float | None = None
    target_value: float | None = None  # above_reference: the reference region's value
    baseline: float | None = None
    baseline_period: str | None = None
    expected_now: float | None = None
    gap: float | None = None
    needed_per_month: float | None = None
    projection: float | None = None
    trend: bool = False  # a recent-trend line was fitted (above_reference: for both regions)
    rising: bool = False  # steady_increase: that line moves in the good direction
    observed: bool = False  # NO_DATA: the as-of view holds some value ...
    levels: bool = False  # ... and some level (a monthly flow: a full 12-month sum)
    growth_base: float | None = None  # growth: the previous year's value R the growth is measured on
    prior: float | None = None  # growth of a monthly flow: the previous year's sum over the same months


def explain(target: IndicatorTarget, indicator: Indicator, as_of: str, standing: Standing) -> str:
    """The one Chinese sentence saying why ``target`` (as applied to the region: a value scaled per
    resident is ``standing.target_value``) stands where ``standing`` says as of ``as_of``."""
    as_of = parse_month(as_of)
    if standing.status is Status.NOT_STARTED:
        start = f"{year_of(target.deadline)}-01" if isinstance(target, GrowthTarget) else target.start
        return _not_started_text(start, as_of)
    if isinstance(target, ReferenceTarget):
        return _explain_reference(target, indicator, as_of, standing)
    if isinstance(target, SteadyTarget):
        return _explain_steady(target, indicator, as_of, standing)
    if standing.status is Status.NO_DATA:
        return _line_no_data_text(target, indicator, as_of, standing)
    s = standing
    return _explain_line(
        _line_words(target, indicator, s), indicator, s.status, s.current_period, s.current, s.expected_now,
        s.gap, s.needed_per_month, s.projection, _trend_label(indicator) if s.trend else None,
        as_of >= target.deadline,
    )


def _trend_label(indicator: Indicator) -> str:
    """The window ``_recent_trend`` fits, in words."""
    return "近12个月" if indicator.frequency == "monthly" else "近3年"


@dataclass(frozen=True)
class _LineWords:
    """How a straight-line target is worded."""

    sign: int
    style: _Style  # "increase" words things as 新增; "level" as 达到 / 降至
    goal: str  # the target in words: "700件", "新增3件", "1,100件（较2024年增长10%）"
    head: Callable[[str, float, bool], str]  # (month, Q, final) -> "截至2024年6月为612件"
    deadline: str
    target_is_computed: bool = False  # growth: T = R × (1 + x%) is not a round document number


def _line_words(target: IndicatorTarget, indicator: Indicator, s: Standing) -> _LineWords:
    numbers = _Numbers(indicator.unit, indicator.decimals)
    if isinstance(target, LevelTarget):
        sign = 1 if target.type == "at_least" else -1
        head = _level_head(numbers, _level_measure(indicator)[1])
        return _LineWords(sign, "level", numbers.value(s.target_value), head, target.deadline)
    if isinstance(target, IncreaseTarget):
        start = target.start

        def head(month: str, value: float, final: bool) -> str:
            return f"{format_month_cn(start)}至{format_month_cn(month)}新增{numbers.value(value)}"

        return _LineWords(1, "increase", f"新增{numbers.value(s.target_value)}", head, target.deadline)
    assert isinstance(target, GrowthTarget)
    year = year_of(target.deadline)
    prev = year - 1
    flow, monthly = indicator.kind == "flow", indicator.frequency == "monthly"

    def growth_so_far(value: float) -> str:
        if flow and monthly:
            return f"同比{_percent(value / s.prior - 1)}" if s.prior else ""
        if not s.growth_base:
            return ""
        since = f"较{prev}年底" if monthly else "较上年"
        return f"{since}{_percent(value / s.growth_base - 1)}"

    def head(month: str, value: float, final: bool) -> str:
        if flow and monthly:
            months = "1月" if month.endswith("-01") else f"1—{int(month[5:7])}月"
            text = f"{year}年{months}累计{numbers.value(value)}"
        elif flow:
            text = f"{year}年为{numbers.value(value)}"
        else:
            when = format_month_cn(month) if final else f"截至{format_month_cn(month)}"
            text = f"{when}为{numbers.value(value)}"
        change = growth_so_far(value)
        return f"{text}，{change}" if change else text

    change = f"增长{target.value:g}%" if target.value >= 0 else f"下降{-target.value:g}%"
    sign = 1 if indicator.direction == "higher" else -1
    return _LineWords(sign, "level", f"{numbers.computed(s.target_value)}（较{prev}年{change}）", head,
                      target.deadline, target_is_computed=True)


def _line_no_data_text(target: IndicatorTarget, indicator: Indicator, as_of: str, s: Standing) -> str:
    """Why a straight-line target has no current value. A verdict without a baseline period never
    got as far as a baseline (level), the level before the period (increase of a stock) or last
    year's value (growth)."""
    if isinstance(target, LevelTarget):
        return _level_no_data_text(s.observed, s.levels, as_of, s.baseline_period)
    if isinstance(target, IncreaseTarget):
        if s.baseline_period is None:
            t0 = add_months(target.start, -1)
            return f"缺少{format_month_cn(t0)}及以前的该指标数值，无法计算目标期内的新增量"
        return f"截至{format_month_cn(as_of)}尚无目标期内的该指标数据"
    year = year_of(target.deadline)
    prev = year - 1
    if s.baseline_period is not None:
        return f"截至{format_month_cn(as_of)}尚无{year}年的该指标数据"
    if indicator.kind == "flow" and indicator.frequency == "monthly":
        return f"缺少{prev}年完整12个月的该指标数据，无法计算{year}年增长"
    if indicator.frequency == "monthly":
        return f"缺少{prev}年12月的该指标数据，无法计算{year}年增长"
    return f"缺少{prev}年的该指标数据，无法计算{year}年增长"


def _explain_reference(target: ReferenceTarget, indicator: Indicator, as_of: str, s: Standing) -> str:
    if s.status is Status.NO_DATA:
        return f"截至{format_month_cn(as_of)}尚无本地区与参照地区同期的该指标数据"
    sign = 1 if indicator.direction == "higher" else -1
    numbers = _Numbers(indicator.unit, indicator.decimals)
    prefix = _level_measure(indicator)[1]
    month, value, ref_value, gap = s.current_period, s.current, s.target_value, s.gap
    final = as_of >= target.deadline
    above = _beyond(sign, value, ref_value)
    better, worse = ("低于", "高于") if sign < 0 else ("高于", "低于")
    deadline = _deadline_cn(target.deadline)
    when = format_month_cn(month) if final else f"截至{format_month_cn(month)}"
    head = f"{when}{prefix}为{numbers.value(value)}"
    if abs(value - ref_value) <= _tolerance(ref_value):
        short_of = f"与参照地区同期的{numbers.value(ref_value)}持平"
    else:
        short_of = f"未{better}参照地区同期的{numbers.value(ref_value)}，差{numbers.value(gap)}"
    if final:
        return f"{head}，{better}参照地区同期的{numbers.value(ref_value)}，达到目标" if above else f"{head}，{short_of}"
    if above:
        return f"{head}，{better}参照地区同期的{numbers.value(ref_value)}，须保持至{deadline}"
    text = f"{head}，{short_of}"
    if not s.trend:
        return text + "；数据不足，无法判断差距走势"
    label = _trend_label(indicator)
    if s.status is Status.NEEDS_ACCELERATION:
        return text + f"；按{label}趋势预计{deadline}前可{better}参照地区"
    return text + f"；按{label}趋势预计{deadline}仍{worse}或持平于参照地区"


def _explain_steady(target: SteadyTarget, indicator: Indicator, as_of: str, s: Standing) -> str:
    if s.status is Status.NO_DATA:
        return _level_no_data_text(s.observed, s.levels, as_of, s.baseline_period)
    sign = 1 if indicator.direction == "higher" else -1
    numbers = _Numbers(indicator.unit, indicator.decimals)
    prefix = _level_measure(indicator)[1]
    month, value, baseline = s.current_period, s.current, s.baseline
    final = as_of >= target.deadline
    better = "低于" if sign < 0 else "高于"
    rising = "下降" if sign < 0 else "上升"
    improved = _beyond(sign, value, baseline)
    when = format_month_cn(month) if final else f"截至{format_month_cn(month)}"
    versus = f"{'' if improved else '未'}{better}基期{format_month_cn(s.baseline_period)}的{numbers.value(baseline)}"
    head = f"{when}{prefix}为{numbers.value(value)}，{versus}"
    if final:
        return f"{head}，{'' if improved else '未'}实现稳步{'下降' if sign < 0 else '提升'}"
    if not s.trend:
        return f"{head}；近期数据不足，无法判断趋势"
    trend = f"{_trend_label(indicator)}{'呈' if s.rising else '未呈'}{rising}趋势"
    return f"{head}{'，且' if improved == s.rising else '，但'}{trend}"


# --------------------------------------------------------------------------- charts


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


def measure_path(target: IndicatorTarget, indicator: Indicator, series: pd.Series, as_of: str) -> MeasurePath:
    """The same measure ``evaluate_target`` judges, as a series for drawing."""
    as_of = parse_month(as_of)
    view = _as_of_view(series, as_of)
    plan = _line_plan(target, indicator, view, as_of)
    if isinstance(plan, _Plan):
        return MeasurePath(plan.measure, plan.points, plan.t0, plan.baseline, plan.deadline, plan.target)
    points = _level_points(indicator, view)
    baseline = getattr(target, "baseline", None)
    return MeasurePath(
        _level_measure(indicator)[0] if indicator.kind == "flow" else indicator.name,
        points,
        baseline.period if baseline else None,
        baseline.value if baseline else None,
        target.deadline,
        getattr(target, "value", None) if isinstance(target, LevelTarget) else None,
    )


def _line_plan(target, indicator: Indicator, view: pd.Series, as_of: str) -> _Plan | Evaluation | None:
    """The straight-line plan of a level, increase or growth target; None for other types."""
    if isinstance(target, LevelTarget):
        return _level_plan(target, indicator, view, as_of)
    if isinstance(target, IncreaseTarget):
        return _increase_plan(target, indicator, view, as_of)
    if isinstance(target, GrowthTarget):
        return _growth_plan(target, indicator, view, as_of)
    return None
