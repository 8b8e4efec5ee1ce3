"""The words of a verdict: one Chinese sentence per target and region, written from a ``Standing``
(the verdict's numbers and the few facts its words need), never from the series itself, so every
view says the same thing in the same words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from monitor.domain.config import (
    GrowthTarget,
    IncreaseTarget,
    Indicator,
    IndicatorTarget,
    LevelTarget,
    ReferenceTarget,
    SteadyTarget,
)
from monitor.domain.periods import add_months, format_month_cn, parse_month, year_of
from monitor.evaluation.status import Status

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
    places: int | None = None  # more than ``decimals`` where the verdict's numbers would read alike

    def value(self, x: float) -> str:
        return _format(x, self.places or self.decimals, self.decimals) + self.unit

    def computed(self, x: float) -> str:
        return _format(x, (self.places or self.decimals) + 1, self.decimals) + self.unit


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


def _not_started_text(start: str, as_of: str) -> str:
    return f"目标期自{format_month_cn(start)}开始，截至{format_month_cn(as_of)}尚未开始"


def _no_data_text(as_of: str) -> str:
    return f"截至{format_month_cn(as_of)}尚无该指标数据"


_Style = Literal["level", "increase"]


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


def _level_no_data_text(observed: bool, levels: bool, as_of: str, since: str | None) -> str:
    """Why a level has no current value: no data at all, no complete 12 months, or none since t0."""
    if not observed:
        return _no_data_text(as_of)
    if not levels:
        return f"截至{format_month_cn(as_of)}尚无连续12个月的该指标数据，无法计算近12个月合计"
    return f"截至{format_month_cn(as_of)}尚无{format_month_cn(since or as_of)}以来的该指标数据"


def _explain_line(
    words: _LineWords,
    numbers: _Numbers,
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
        text = f"{head}，{ahead}；{more}{amount(gap)}即可于{deadline}{reach}"
        return text if trend_label else text + "；数据尚少，趋势尚无法判断"

    should = "按线性进度" + (line_value if increase else f"{'应降至' if lower else '应达'}{line_value}")
    text = f"{head}，{should}，差{numbers.computed(words.sign * (expected - value))}"
    if needed is not None:
        text += f"；需月均{'减少' if lower else '新增'}{numbers.computed(needed)}方可于{deadline}{reach}"
    if projection is not None and trend_label:
        text += f"；按{trend_label}趋势预计届时{'新增' if increase else '为'}{numbers.computed(projection)}"
    return text


def _explain_calendar(target: LevelTarget, indicator: Indicator, as_of: str, s: Standing, numbers: _Numbers) -> str:
    """A level target on a monthly flow, judged on the deadline year's 1–12月 total: within that
    year its running total, before it the latest complete calendar year's total."""
    year = year_of(target.deadline)
    in_year = as_of >= f"{year}-01"
    final = as_of >= target.deadline
    if s.status is Status.NO_DATA:
        if in_year:
            return f"截至{format_month_cn(as_of)}尚无{year}年1月的该指标数据，无法计算{year}年累计"
        return f"截至{format_month_cn(as_of)}尚无完整年度（1—12月）的该指标数据，无法计算年度合计"
    goal = f"{year}年全年{numbers.value(s.target_value)}" if not final else f"全年目标{numbers.value(s.target_value)}"
    month = int(s.current_period[5:7])
    if not in_year:
        head = f"{s.current_period[:4]}年全年合计{numbers.value(s.current)}"
        monthly = numbers.computed(s.needed_per_month) if s.needed_per_month is not None else None
        keep = f"；{year}年需月均新增{monthly}方可全年达到{numbers.value(s.target_value)}" if monthly else ""
        if s.status is Status.ON_TRACK:
            if s.current >= s.target_value - _tolerance(s.target_value):
                return f"{head}，已达到{goal}的水平；{year}年须保持（月均{monthly}）" if monthly else \
                    f"{head}，已达到{goal}的水平；{year}年须保持"
            return f"{head}，高于线性进度{numbers.computed(s.expected_now)}{keep}"
        text = f"{head}，按线性进度应达{numbers.computed(s.expected_now)}，" \
               f"差{numbers.computed(s.expected_now - s.current)}{keep}"
        if s.projection is not None and s.trend:
            text += f"；按近3年趋势预计{year}年全年为{numbers.computed(s.projection)}"
        return text
    months = "1月" if month == 1 else f"1—{month}月"
    head = f"{year}年{months}累计{numbers.value(s.current)}"
    if s.missing and s.missing_from:
        more = f"等{s.missing}个月" if s.missing > 1 else ""
        head += f"（缺少{format_month_cn(s.missing_from)}{more}的数据，累计只算到{month}月）"
    if s.status is Status.ACHIEVED:
        return f"{head}，达到{goal}" if final else f"{head}，已达到{goal}"
    if s.status is Status.MISSED:
        return f"{head}，未达到{goal}，差{numbers.value(s.gap)}"
    rest = ""
    if s.needed_per_month is not None:
        left = 12 - int(as_of[5:7])
        rest = f"；后{left}个月需月均新增{numbers.computed(s.needed_per_month)}方可全年达到{numbers.value(s.target_value)}"
    if s.status is Status.ON_TRACK:
        text = f"{head}，不低于全年目标的线性进度{numbers.computed(s.expected_now)}{rest}"
        return text if s.trend else text + "；数据尚少，趋势尚无法判断"
    text = f"{head}，按全年目标的线性进度应达{numbers.computed(s.expected_now)}，" \
           f"差{numbers.computed(s.expected_now - s.current)}{rest}"
    if s.projection is not None and s.trend:
        text += f"；按{year}年以来趋势预计全年为{numbers.computed(s.projection)}"
    return text

# --------------------------------------------------------------------------- sentences


@dataclass(frozen=True)
class Standing:
    """What the sentence about one verdict is written from: every view's verdicts are described
    this way and worded by ``explain``, so each sentence is worded in one place."""

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
    missing: int = 0  # a deadline year's running total: months missing after it stops ...
    missing_from: str | None = None  # ... the first of them


def explain(target: IndicatorTarget, indicator: Indicator, as_of: str, standing: Standing) -> str:
    """The one Chinese sentence saying why ``target`` (as applied to the region: a value scaled per
    resident is ``standing.target_value``) stands where ``standing`` says as of ``as_of``."""
    as_of = parse_month(as_of)
    if standing.status is Status.NOT_STARTED:
        start = f"{year_of(target.deadline)}-01" if isinstance(target, GrowthTarget) else target.start
        return _not_started_text(start, as_of)
    # words never contradict the verdict: show the digits that carry the difference
    numbers = _Numbers(indicator.unit, indicator.decimals, _places(indicator, standing))
    if isinstance(target, LevelTarget) and indicator.kind == "flow" and indicator.frequency == "monthly":
        return _explain_calendar(target, indicator, as_of, standing, numbers)
    if isinstance(target, ReferenceTarget):
        return _explain_reference(target, indicator, as_of, standing, numbers)
    if isinstance(target, SteadyTarget):
        return _explain_steady(target, indicator, as_of, standing, numbers)
    if standing.status is Status.NO_DATA:
        return _line_no_data_text(target, indicator, as_of, standing)
    s = standing
    return _explain_line(
        _line_words(target, indicator, s, numbers), numbers, s.status, s.current_period, s.current, s.expected_now,
        s.gap, s.needed_per_month, s.projection, _trend_label(indicator) if s.trend else None,
        as_of >= target.deadline,
    )


def _places(indicator: Indicator, s: Standing) -> int | None:
    """The decimals the sentence needs so that the numbers a verdict sets apart read apart: a value
    short of its target never reads as the target (「6.80，未达到目标6.80，差0.00」), nor a value below
    its straight line as the line, nor a projection short of the target as the target. None: the
    indicator's own decimals do."""
    judged = s.current is not None and s.status not in (Status.NO_DATA, Status.NOT_STARTED)
    if not judged:
        return None
    pairs = []  # (a, how a is written, b, how b is written): "v" observed, "c" computed
    if s.status is not Status.ACHIEVED:
        if s.target_value is not None:
            pairs.append((s.current, "v", s.target_value, "v"))
        if s.gap is not None and s.gap > 0:
            pairs.append((s.gap, "v", 0.0, "v"))
        if s.expected_now is not None and s.status in (Status.BEHIND, Status.NEEDS_ACCELERATION):
            pairs.append((s.current, "v", s.expected_now, "c"))
        if s.projection is not None and s.target_value is not None and s.status is Status.BEHIND:
            pairs.append((s.projection, "c", s.target_value, "v"))
    if s.baseline is not None and s.target_value is None:  # steady: against the baseline
        pairs.append((s.current, "v", s.baseline, "v"))
    pairs = [p for p in pairs if abs(p[0] - p[2]) > _tolerance(p[2])]
    if not pairs:
        return None
    decimals = indicator.decimals
    for places in range(decimals, decimals + 5):
        numbers = _Numbers("", decimals, places)

        def written(x: float, how: str) -> str:
            return numbers.value(x) if how == "v" else numbers.computed(x)  # noqa: B023

        if all(written(a, ha) != written(b, hb) for a, ha, b, hb in pairs):
            return None if places == decimals else places
    return decimals + 4


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


def _line_words(target: IndicatorTarget, indicator: Indicator, s: Standing, numbers: _Numbers) -> _LineWords:
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


def _explain_reference(target: ReferenceTarget, indicator: Indicator, as_of: str, s: Standing,
                       numbers: _Numbers) -> str:
    if s.status is Status.NO_DATA:
        return f"截至{format_month_cn(as_of)}尚无本地区与参照地区同期的该指标数据"
    sign = 1 if indicator.direction == "higher" else -1
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


def _explain_steady(target: SteadyTarget, indicator: Indicator, as_of: str, s: Standing, numbers: _Numbers) -> str:
    if s.status is Status.NO_DATA:
        return _level_no_data_text(s.observed, s.levels, as_of, s.baseline_period)
    sign = 1 if indicator.direction == "higher" else -1
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



def measure_label(target: IndicatorTarget, indicator: Indicator, as_of: str | None = None) -> str:
    """What a target measures, in words: 「近12个月合计」, 「2022年新增」, 「2022年累计（1—当月）」 …
    (a level target on a monthly flow: the deadline year's running total once that year has begun
    as of ``as_of``, the latest complete year's total before)."""
    if isinstance(target, LevelTarget) and indicator.kind == "flow" and indicator.frequency == "monthly":
        year = year_of(target.deadline)
        if as_of is not None and as_of >= target.deadline:
            return f"{year}年全年合计（1—12月）"
        if as_of is None or as_of >= f"{year}-01":
            return f"{year}年累计（1—当月）"
        return "年度合计（1—12月）"
    if isinstance(target, IncreaseTarget):
        start = target.start
        if start.endswith("-01"):
            return f"{start[:4]}年新增" if year_of(start) == year_of(target.deadline) else f"{start[:4]}年以来新增"
        return f"{format_month_cn(start)}以来新增"
    if isinstance(target, GrowthTarget):
        year = year_of(target.deadline)
        if indicator.kind == "flow":
            return f"{year}年累计（1—当月）" if indicator.frequency == "monthly" else f"{year}年全年"
        return indicator.name
    return _level_measure(indicator)[0]


def projection_method(indicator: Indicator, projection: float | None) -> str:
    """How the value at the deadline was projected, or that it was not."""
    return f"{_trend_label(indicator)}线性趋势外推" if projection is not None else "数据不足，未外推"
