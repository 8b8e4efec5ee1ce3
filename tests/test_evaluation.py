"""Target evaluation: every target type against hand-calculated numbers.

Each expected number carries its arithmetic in a comment. Series are built inline; months are
"YYYY-MM" strings, as the store hands them over.
"""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.domain.config import (
    Baseline,
    GrowthTarget,
    IncreaseTarget,
    Indicator,
    LevelTarget,
    ReferenceTarget,
    SteadyTarget,
)
from monitor.domain.periods import add_months, month_range
from monitor.evaluation import (
    PACE_BANDS,
    STATUS_COLORS,
    STATUS_ORDER,
    Evaluation,
    Status,
    evaluate_target,
    pace_band,
)

# --------------------------------------------------------------------------- builders


def make_indicator(
    *,
    kind: str = "stock",
    frequency: str = "monthly",
    direction: str = "higher",
    unit: str = "件",
    decimals: int = 0,
    name: str = "有效发明专利拥有量",
) -> Indicator:
    derived = kind == "derived"
    return Indicator(
        id="x",
        name=name,
        aliases=[],
        unit=unit,
        description="测试用指标口径说明",
        kind=kind,
        frequency=frequency,
        direction=direction,
        aggregation="recompute" if derived else "sum",
        decimals=decimals,
        formula={"numerator": "a", "denominator": "population", "scale": 10000} if derived else None,
        plausible_max=None if derived else 100 if unit == "%" else 1e9,
    )


def level(
    value: float = 700,
    *,
    type: str = "at_least",
    start: str = "2021-01",
    deadline: str = "2025-12",
    baseline: tuple[float, str] | None = (500, "2020-12"),
) -> LevelTarget:
    return LevelTarget(
        id="t",
        type=type,
        indicator="x",
        start=start,
        deadline=deadline,
        value=value,
        clause="到2025年达到700件",
        baseline=Baseline(value=baseline[0], period=baseline[1]) if baseline else None,
    )


def increase(value: float = 3, *, baseline: tuple[float, str] | None = None) -> IncreaseTarget:
    return IncreaseTarget(
        id="t",
        type="increase",
        indicator="x",
        start="2022-01",
        deadline="2022-12",
        value=value,
        clause="新增地理标志3件",
        baseline=Baseline(value=baseline[0], period=baseline[1]) if baseline else None,
    )


def growth(value: float = 10) -> GrowthTarget:
    return GrowthTarget(
        id="t", type="growth", indicator="x", start="2022-01", deadline="2022-12", value=value,
        clause="惠及中小企业数量增长10%以上",
    )


def above_reference() -> ReferenceTarget:
    return ReferenceTarget(
        id="t", type="above_reference", indicator="x", reference_region="100000",
        start="2022-01", deadline="2022-12", clause="知识产权保护社会满意度超过全国平均水平",
    )


def steady(*, baseline: tuple[float, str] | None = (4.4, "2020-12"), start: str = "2021-01") -> SteadyTarget:
    return SteadyTarget(
        id="t", type="steady_increase", indicator="x", start=start, deadline="2025-12",
        clause="每万人口发明专利拥有量稳步提升",
        baseline=Baseline(value=baseline[0], period=baseline[1]) if baseline else None,
    )


def points(**values: float) -> pd.Series:
    """points(m2024_06=612) -> a series indexed "2024-06"."""
    return pd.Series({k[1:5] + "-" + k[6:8]: float(v) for k, v in values.items()}, dtype=float)


def monthly(first: str, values: list[float]) -> pd.Series:
    """Consecutive months starting at ``first``."""
    return pd.Series([float(v) for v in values], index=[add_months(first, i) for i in range(len(values))])


def join(*parts: pd.Series) -> pd.Series:
    return pd.concat(parts).sort_index()


STOCK = make_indicator()
EMPTY = pd.Series(dtype=float)


# --------------------------------------------------------------------------- statuses


def test_every_status_has_an_order_position_and_a_colour():
    assert set(STATUS_ORDER) == set(Status)
    assert set(STATUS_COLORS) == set(Status)
    assert all(colour.startswith("#") and len(colour) == 7 for colour in STATUS_COLORS.values())


def test_status_values_are_the_chinese_labels_users_see():
    assert [s.value for s in STATUS_ORDER] == ["已达成", "按期推进", "需加快", "滞后", "未达成", "无数据", "未开始"]


# --------------------------------------------------------------------------- at_least on a stock


def test_the_example_sentence_is_reproduced_for_a_target_behind_its_straight_line():
    result = evaluate_target(level(), STOCK, points(m2024_06=612), "2024-06")
    assert result.status is Status.BEHIND  # one point: no projection, so behind the line is BEHIND
    assert result.expected_now == pytest.approx(640)  # 500 + 200 × 42/60
    assert result.gap == pytest.approx(88)  # 700 − 612
    assert result.months_left == 18  # 2024-06 → 2025-12
    assert result.needed_per_month == pytest.approx(88 / 18)  # 4.888…, shown as 4.9
    assert result.progress == pytest.approx(0.56)  # (612 − 500) / (700 − 500) = 112/200
    assert result.projection is None
    assert result.projection_method == "数据不足，未外推"
    assert result.explanation == (
        "截至2024年6月为612件，按线性进度应达640件，差28件；需月均新增4.9件方可于2025年底达到700件"
    )  # 640 − 612 = 28


def test_the_example_sentence_with_a_trend_projection_is_reproduced_word_for_word():
    # baseline 450 at 2020-12 → expected at 2024-12 = 450 + 250 × 48/60 = 650
    # 12 monthly points rising 17/3 a month, ending at 612 in 2024-12:
    # projection = 612 + 12 × 17/3 = 680 < 700 → BEHIND
    series = monthly("2024-01", [612 - 17 / 3 * (11 - k) for k in range(12)])
    result = evaluate_target(level(baseline=(450, "2020-12")), STOCK, series, "2024-12")
    assert result.status is Status.BEHIND
    assert result.expected_now == pytest.approx(650)
    assert result.projection == pytest.approx(680)
    assert result.projection_method == "近12个月线性趋势外推"
    assert result.needed_per_month == pytest.approx(88 / 12)  # (700 − 612) / 12 = 7.33…
    assert result.explanation == (
        "截至2024年12月为612件，按线性进度应达650件，差38件；需月均新增7.3件方可于2025年底达到700件；"
        "按近12个月趋势预计届时为680件"
    )


def test_a_target_behind_the_line_whose_trend_reaches_it_needs_acceleration():
    # 2023-07 … 2024-06 rising 6 a month to 612: projection = 612 + 18 × 6 = 720 ≥ 700
    series = monthly("2023-07", [546 + 6 * k for k in range(12)])
    result = evaluate_target(level(), STOCK, series, "2024-06")
    assert result.status is Status.NEEDS_ACCELERATION
    assert result.projection == pytest.approx(720)
    assert result.explanation.endswith("；按近12个月趋势预计届时为720件")


def test_a_target_above_its_straight_line_is_on_track():
    # baseline 550 at 2021-06, deadline 2025-12: 54 months; 2024-06 is 36 months in
    # expected = 550 + 150 × 36/54 = 650; 660 ≥ 650
    result = evaluate_target(level(baseline=(550, "2021-06")), STOCK, points(m2024_06=660), "2024-06")
    assert result.status is Status.ON_TRACK
    assert result.expected_now == pytest.approx(650)
    assert result.progress == pytest.approx(110 / 150)  # (660 − 550) / (700 − 550)
    assert result.needed_per_month == pytest.approx(40 / 18)  # 700 − 660 over 18 months
    # one point: on track, and the words say the trend cannot be judged yet
    assert result.explanation == "截至2024年6月为660件，高于线性进度650件；再增40件即可于2025年底达到700件；数据尚少，趋势尚无法判断"


def test_a_target_reached_before_its_deadline_is_achieved():
    result = evaluate_target(level(), STOCK, points(m2024_06=712), "2024-06")
    assert result.status is Status.ACHIEVED
    assert result.gap == pytest.approx(-12)  # 700 − 712: reached
    assert result.needed_per_month is None
    assert result.explanation == "截至2024年6月为712件，已达到2025年底目标700件"


def test_a_region_that_started_beyond_its_target_has_no_progress_or_pace_figure():
    # 城市 B judged on 城市 A's target scaled per capita: its baseline 800 is already above 700
    result = evaluate_target(level(baseline=(800, "2020-12")), STOCK, points(m2024_06=820), "2024-06")
    assert result.status is Status.ACHIEVED
    assert result.progress is None  # (820 − 800) / (700 − 800) = −0.2 would read as "behind"
    assert result.pace_ratio is None
    assert result.gap == pytest.approx(-120)  # 700 − 820: reached


def test_after_the_deadline_the_value_at_the_deadline_decides_even_if_it_falls_later():
    series = points(m2025_06=690, m2025_12=712, m2026_02=650)
    result = evaluate_target(level(), STOCK, series, "2026-03")
    assert result.status is Status.ACHIEVED
    assert (result.current, result.current_period) == (712, "2025-12")
    assert result.months_left == 0
    assert result.projection is None
    assert result.explanation == "2025年12月为712件，达到目标700件"


def test_a_target_not_reached_by_its_deadline_is_missed():
    result = evaluate_target(level(), STOCK, points(m2025_12=650), "2025-12")
    assert result.status is Status.MISSED
    assert result.gap == pytest.approx(50)  # 700 − 650
    assert result.explanation == "2025年12月为650件，未达到目标700件，差50件"


def test_a_missed_verdict_on_an_older_observation_names_that_month():
    result = evaluate_target(level(), STOCK, points(m2025_09=690), "2026-06")
    assert result.status is Status.MISSED
    assert result.current_period == "2025-09"
    assert result.explanation == "2025年9月为690件，未达到目标700件，差10件"  # 700 − 690


def test_a_target_without_observations_has_no_data():
    result = evaluate_target(level(), STOCK, EMPTY, "2024-06")
    assert result.status is Status.NO_DATA
    assert result.current is None and result.current_period is None
    assert result.target_value == 700
    assert result.explanation == "截至2024年6月尚无该指标数据"


def test_observations_older_than_the_document_baseline_are_not_a_current_value():
    result = evaluate_target(level(), STOCK, points(m2019_12=450), "2021-06")
    assert result.status is Status.NO_DATA
    assert result.explanation == "截至2021年6月尚无2020年12月以来的该指标数据"


def test_a_target_whose_period_has_not_begun_is_not_started():
    target = level(start="2022-01", baseline=None)
    result = evaluate_target(target, STOCK, points(m2021_03=480), "2021-06")
    assert result.status is Status.NOT_STARTED
    assert result.current is None
    assert result.explanation == "目标期自2022年1月开始，截至2021年6月尚未开始"


def test_a_document_baseline_in_the_past_means_the_target_has_started_before_its_start_month():
    target = level(start="2021-06", baseline=(500, "2020-12"))
    result = evaluate_target(target, STOCK, points(m2021_03=510), "2021-03")
    assert result.status is not Status.NOT_STARTED
    assert result.current_period == "2021-03"


def test_the_document_baseline_wins_over_the_observed_value():
    result = evaluate_target(level(), STOCK, points(m2020_12=480, m2024_06=612), "2024-06")
    assert (result.baseline, result.baseline_period, result.baseline_origin) == (500, "2020-12", "document")


def test_without_a_document_baseline_the_value_at_the_end_of_the_year_before_is_the_baseline():
    # start 2021-01: the latest value before the period is 500 (2020-12), not 505 (2021-01, in it)
    # deadline 60 months after 2020-12; expected at 2021-06 = 500 + 200 × 6/60 = 520 = the value
    target = level(start="2021-01", baseline=None)
    series = points(m2020_10=480, m2020_12=500, m2021_01=505, m2021_06=520)
    result = evaluate_target(target, STOCK, series, "2021-06")
    assert (result.baseline, result.baseline_period, result.baseline_origin) == (500, "2020-12", "observed")
    assert result.status is Status.ON_TRACK
    assert result.explanation == "截至2021年6月为520件，与线性进度持平（520件）；再增180件即可于2025年底达到700件"


def test_a_one_year_level_target_starts_from_the_end_of_the_year_before():
    # 2022 target 40 (start 2022-01): baseline 36 at 2021-12, not January's 37
    # expected at 2022-06 = 36 + 4 × 6/12 = 38; 37 < 38 → behind; needed (40 − 37) / 6 = 0.5
    target = level(40, start="2022-01", deadline="2022-12", baseline=None)
    result = evaluate_target(target, STOCK, points(m2021_12=36, m2022_01=37, m2022_06=37), "2022-06")
    assert (result.baseline, result.baseline_period) == (36, "2021-12")
    assert result.expected_now == pytest.approx(38)
    assert result.status is Status.BEHIND
    assert result.needed_per_month == pytest.approx(0.5)


def test_a_level_baseline_alone_is_not_a_current_value():
    # the only value is the baseline (2021-12): nothing in the period to judge yet
    target = level(40, start="2022-01", deadline="2022-12", baseline=None)
    result = evaluate_target(target, STOCK, points(m2021_12=36), "2022-03")
    assert result.status is Status.NO_DATA
    assert (result.baseline, result.baseline_period) == (36, "2021-12")
    assert result.current is None


def test_without_any_value_at_start_the_first_later_observation_is_the_baseline():
    # t0 moves to 2021-03 (510); 2021-03 → 2025-12 is 57 months
    # expected at 2021-09 = 510 + 190 × 6/57 = 530
    target = level(start="2020-12", baseline=None)
    result = evaluate_target(target, STOCK, points(m2021_03=510, m2021_09=530), "2021-09")
    assert (result.baseline, result.baseline_period) == (510, "2021-03")
    assert result.expected_now == pytest.approx(530)


def test_an_as_of_view_never_uses_observations_after_the_as_of_month():
    series = join(monthly("2023-07", [546 + 6 * k for k in range(12)]), points(m2024_07=900, m2024_09=990))
    result = evaluate_target(level(), STOCK, series, "2024-08")
    # latest at or before 2024-08 is 2024-07 = 900 (2024-09 is unseen)
    assert (result.current, result.current_period) == (900, "2024-07")
    assert result.status is Status.ACHIEVED
    earlier = evaluate_target(level(), STOCK, series, "2024-06")
    assert (earlier.current, earlier.current_period) == (612, "2024-06")
    assert earlier.projection == pytest.approx(720)  # the 2023-07…2024-06 line only: 612 + 18 × 6
    assert earlier.status is Status.NEEDS_ACCELERATION


def test_an_as_of_view_before_the_first_observation_sees_no_data_and_takes_no_baseline_from_the_future():
    target = level(start="2021-01", baseline=None)
    result = evaluate_target(target, STOCK, points(m2021_09=530), "2021-06")
    assert result.status is Status.NO_DATA
    assert result.baseline is None
    assert result.explanation == "截至2021年6月尚无该指标数据"


def test_the_current_period_is_the_latest_observation_not_the_as_of_month():
    result = evaluate_target(level(), STOCK, points(m2024_06=612), "2024-08")
    assert result.current_period == "2024-06"
    assert result.months_left == 16  # counted from now: 2024-08 → 2025-12
    assert result.needed_per_month == pytest.approx(88 / 16)  # (700 − 612) / 16 = 5.5
    assert result.explanation.startswith("截至2024年6月为612件")
    assert result.explanation.endswith("需月均新增5.5件方可于2025年底达到700件")


def test_needed_per_month_counts_from_the_as_of_month_not_from_the_latest_value():
    # a value from 2024-12 seen at 2025-06, 50 short of the 2025-12 target: 50 ÷ 6, not 50 ÷ 12
    result = evaluate_target(level(), STOCK, points(m2024_12=650), "2025-06")
    assert result.gap == pytest.approx(50)
    assert result.months_left == 6
    assert result.needed_per_month == pytest.approx(50 / 6)  # 8.33…, shown as 8.3
    assert "需月均新增8.3件" in result.explanation


# --------------------------------------------------------------------------- pace


@pytest.mark.parametrize(
    ("ratio", "band"),
    [(1.0, "≥1"), (2.3, "≥1"), (0.99, "0.5–1"), (0.5, "0.5–1"), (0.49, "0–0.5"), (0.0, "0–0.5"), (-0.01, "<0")],
)
def test_pace_ratios_fall_into_four_bands(ratio, band):
    assert pace_band(ratio) == band
    assert band in PACE_BANDS


@pytest.mark.parametrize(
    ("value", "ratio", "band"),
    [
        # required pace = 200/60 = 10/3 a month; observed = (value − 500)/42
        (640, 1.0, "≥1"),  # 140/42 = 10/3 → 1
        (612, 0.8, "0.5–1"),  # 112/42 ÷ 10/3 = 0.8
        (542, 0.3, "0–0.5"),  # 42/42 ÷ 10/3 = 0.3
        (479, -0.15, "<0"),  # −21/42 ÷ 10/3 = −0.15
    ],
)
def test_the_pace_ratio_compares_the_observed_with_the_required_monthly_pace(value, ratio, band):
    result = evaluate_target(level(), STOCK, points(m2024_06=value), "2024-06")
    assert result.pace_ratio == pytest.approx(ratio)
    assert result.pace_band == band


def test_there_is_no_pace_when_the_only_value_is_the_baseline_itself():
    target = level(start="2021-01", baseline=None)
    result = evaluate_target(target, STOCK, points(m2021_01=500), "2021-01")
    assert result.pace_ratio is None and result.pace_band is None


# --------------------------------------------------------------------------- at_most (direction lower)

DAYS = make_indicator(name="专利审查周期", unit="天", direction="lower")


def at_most() -> LevelTarget:
    return level(15, type="at_most", baseline=(30, "2020-12"))


def test_an_at_most_target_above_its_falling_line_is_behind():
    # expected at 2024-06 = 30 + (15 − 30) × 42/60 = 19.5; 20 is above it (worse)
    result = evaluate_target(at_most(), DAYS, points(m2024_06=20), "2024-06")
    assert result.status is Status.BEHIND
    assert result.expected_now == pytest.approx(19.5)
    assert result.gap == pytest.approx(5)  # 20 − 15: still 5 too high
    assert result.progress == pytest.approx(2 / 3)  # (20 − 30) / (15 − 30)
    assert result.pace_ratio == pytest.approx((10 / 42) / (15 / 60))  # 0.952…
    assert result.pace_band == "0.5–1"
    assert result.explanation == (
        "截至2024年6月为20天，按线性进度应降至19.5天，差0.5天；需月均减少0.3天方可于2025年底降至15天"
    )  # 5 / 18 = 0.28 → 0.3


def test_an_at_most_target_below_its_falling_line_is_on_track():
    result = evaluate_target(at_most(), DAYS, points(m2024_06=18), "2024-06")
    assert result.status is Status.ON_TRACK
    assert result.explanation == "截至2024年6月为18天，低于线性进度19.5天；再降3天即可于2025年底降至15天；数据尚少，趋势尚无法判断"


def test_an_at_most_target_at_or_below_its_value_is_achieved():
    result = evaluate_target(at_most(), DAYS, points(m2024_06=14), "2024-06")
    assert result.status is Status.ACHIEVED
    assert result.explanation == "截至2024年6月为14天，已降至2025年底目标15天以内"


def test_an_at_most_target_still_above_its_value_at_the_deadline_is_missed():
    result = evaluate_target(at_most(), DAYS, points(m2025_12=16), "2026-01")
    assert result.status is Status.MISSED
    assert result.gap == pytest.approx(1)  # 16 − 15
    assert result.explanation == "2025年12月为16天，未降至目标15天以内，差1天"


def test_an_at_most_target_whose_falling_trend_reaches_it_needs_acceleration():
    # falling 0.5 a day-month from 25.5 (2023-07) to 20 (2024-06): projection 20 − 18 × 0.5 = 11 ≤ 15
    series = monthly("2023-07", [25.5 - 0.5 * k for k in range(12)])
    result = evaluate_target(at_most(), DAYS, series, "2024-06")
    assert result.projection == pytest.approx(11)
    assert result.status is Status.NEEDS_ACCELERATION


# --------------------------------------------------------------------------- flows and derived levels

COPYRIGHT = make_indicator(kind="flow", name="作品著作权登记数量")


def copyright_60() -> LevelTarget:
    """「作品著作权登记数量达到60件」 by 2025: 60 registrations in 2025."""
    return level(60, start="2020-09", baseline=None)


def test_a_level_on_a_monthly_flow_is_the_deadline_years_running_total():
    # 2024: 4 a month; 2025-01…06: 5 a month → 1—6月累计 30
    # line from 0 (2024-12) to 60 (2025-12): expected at 2025-06 = 60 × 6/12 = 30 → level with it
    # needed: (60 − 30) / 6 months left = 5 a month, said in registrations, not as a rolling sum's rise
    series = join(monthly("2024-01", [4] * 12), monthly("2025-01", [5] * 6))
    result = evaluate_target(copyright_60(), COPYRIGHT, series, "2025-06")
    assert result.measure == "2025年累计（1—当月）"
    assert (result.baseline, result.baseline_period) == (0, "2024-12")
    assert (result.current, result.current_period) == (30, "2025-06")
    assert result.expected_now == pytest.approx(30)
    assert result.status is Status.ON_TRACK
    assert result.needed_per_month == pytest.approx(5)
    assert result.projection == pytest.approx(60)  # 0, 5, …, 30 over 2024-12…2025-06: 5 a month → 60
    assert result.explanation == "2025年1—6月累计30件，不低于全年目标的线性进度30件；后6个月需月均新增5件方可全年达到60件"


def test_a_rolling_sum_mostly_from_the_year_before_never_meets_an_annual_target():
    # 2024: 6 a month (72); 2025-01, 02: 5 each. The last 12 months (2024-03…2025-02) sum to
    # 10 × 6 + 2 × 5 = 70 ≥ 60, but 2025 so far holds 10: on track, not achieved
    series = join(monthly("2024-01", [6] * 12), monthly("2025-01", [5, 5]))
    result = evaluate_target(copyright_60(), COPYRIGHT, series, "2025-02")
    assert result.current == 10
    assert result.status is Status.ON_TRACK  # expected 60 × 2/12 = 10
    assert result.needed_per_month == pytest.approx(5)  # (60 − 10) / 10
    assert result.explanation == "2025年1—2月累计10件，不低于全年目标的线性进度10件；后10个月需月均新增5件方可全年达到60件"


def test_a_running_total_stops_at_a_missing_month_and_says_which():
    # 2025-03 missing: the total is known through February (10); as of June 6 months are left
    # needed (60 − 10) / 6 = 8.33…
    series = monthly("2025-01", [5] * 6).drop("2025-03")
    result = evaluate_target(copyright_60(), COPYRIGHT, series, "2025-06")
    assert (result.current, result.current_period) == (10, "2025-02")
    assert result.needed_per_month == pytest.approx(50 / 6)
    assert result.explanation == ("2025年1—2月累计10件（缺少2025年3月的数据，累计只算到2月），"
                                  "不低于全年目标的线性进度10件；后6个月需月均新增8.3件方可全年达到60件")


def test_an_annual_flow_target_is_achieved_once_the_years_total_reaches_it_and_missed_at_the_end_if_not():
    reached = evaluate_target(copyright_60(), COPYRIGHT, monthly("2025-01", [10] * 6), "2025-06")
    assert reached.status is Status.ACHIEVED  # 60 by June
    assert reached.explanation == "2025年1—6月累计60件，已达到2025年全年60件"
    missed = evaluate_target(copyright_60(), COPYRIGHT, monthly("2025-01", [4] * 12), "2026-01")
    assert missed.status is Status.MISSED and missed.gap == pytest.approx(12)  # 60 − 48
    assert missed.explanation == "2025年1—12月累计48件，未达到全年目标60件，差12件"


def test_before_the_deadline_year_an_annual_flow_target_reads_the_latest_complete_year():
    # totals: 2022 = 36, 2023 = 48; 2024 is incomplete at 2024-06. No year ends before the start
    # (2020-09), so the first complete one (2022-12, 36) is the baseline; the line from 36 to 60
    # over 2022-12…2025-12 (36 months) is at 36 + 24 × 12/36 = 44 in 2023-12; 48 ≥ 44
    # each month of 2025 needs 60 / 12 = 5
    series = join(monthly("2022-01", [3] * 12), monthly("2023-01", [4] * 12), monthly("2024-01", [5] * 6))
    result = evaluate_target(copyright_60(), COPYRIGHT, series, "2024-06")
    assert result.measure == "年度合计（1—12月）"
    assert (result.baseline, result.baseline_period) == (36, "2022-12")
    assert (result.current, result.current_period) == (48, "2023-12")
    assert result.expected_now == pytest.approx(44)
    assert result.status is Status.ON_TRACK
    assert result.needed_per_month == pytest.approx(5)
    assert result.explanation == "2023年全年合计48件，高于线性进度44件；2025年需月均新增5件方可全年达到60件"


def test_an_earlier_year_at_the_level_is_on_track_not_achieved():
    series = join(monthly("2022-01", [3] * 12), monthly("2023-01", [6] * 12))  # 2023: 72 ≥ 60
    result = evaluate_target(copyright_60(), COPYRIGHT, series, "2024-03")
    assert result.status is Status.ON_TRACK
    assert result.explanation == "2023年全年合计72件，已达到2025年全年60件的水平；2025年须保持（月均5件）"


def test_a_flow_without_a_complete_year_has_no_annual_total_yet():
    result = evaluate_target(copyright_60(), COPYRIGHT, monthly("2020-09", [5] * 6), "2021-02")
    assert result.status is Status.NO_DATA
    assert result.explanation == "截至2021年2月尚无完整年度（1—12月）的该指标数据，无法计算年度合计"


def test_a_derived_indicator_is_judged_on_its_own_values_like_a_stock():
    per_10k = make_indicator(kind="derived", name="每万人口发明专利拥有量", decimals=2)
    target = level(3, start="2020-09", baseline=(1.2, "2020-08"))
    # 2020-08 → 2025-12 = 64 months; 2024-12 is 52 months in: expected = 1.2 + 1.8 × 52/64 = 2.6625
    result = evaluate_target(target, per_10k, points(m2024_12=2.5), "2024-12")
    assert result.measure == "每万人口发明专利拥有量"
    assert result.expected_now == pytest.approx(2.6625)
    assert result.status is Status.BEHIND
    assert result.explanation.startswith("截至2024年12月为2.50件，按线性进度应达2.663件，差0.163件")


# --------------------------------------------------------------------------- annual frequency

ANNUAL_STOCK = make_indicator(frequency="annual")


def test_an_annual_indicator_projects_from_its_last_three_years():
    # 100, 112, 124 at December 2020–2022: 12 a year = 1 a month → 2025-12: 124 + 36 = 160
    # expected at 2022-12 = 100 + 100 × 24/60 = 140; needed from now (2023-06): (200 − 124)/30 = 2.53
    series = points(m2019_12=90, m2020_12=100, m2021_12=112, m2022_12=124)
    target = level(200, baseline=(100, "2020-12"))
    result = evaluate_target(target, ANNUAL_STOCK, series, "2023-06")
    assert result.current_period == "2022-12"
    assert result.projection == pytest.approx(160)  # 2019's 90 lies outside the three-year window
    assert result.projection_method == "近3年线性趋势外推"
    assert result.status is Status.BEHIND
    assert result.explanation == (
        "截至2022年12月为124件，按线性进度应达140件，差16件；需月均新增2.5件方可于2025年底达到200件；"
        "按近3年趋势预计届时为160件"
    )


def test_two_annual_points_are_enough_for_a_projection_and_one_is_not():
    target = level(200, baseline=(100, "2020-12"))
    two = evaluate_target(target, ANNUAL_STOCK, points(m2021_12=112, m2022_12=124), "2023-01")
    assert two.projection == pytest.approx(160)  # 124 + 3 years × 12
    one = evaluate_target(target, ANNUAL_STOCK, points(m2022_12=124), "2023-01")
    assert one.projection is None and one.projection_method == "数据不足，未外推"


# --------------------------------------------------------------------------- increase

GI = make_indicator(name="地理标志", unit="件")
UNITS = make_indicator(kind="flow", name="贯标单位", unit="家")


def test_an_increase_on_a_stock_counts_from_the_month_before_the_start():
    # 41 − 40 = 1 new; expected = 3 × 6/12 = 1.5; needed = (3 − 1)/6 = 0.33
    result = evaluate_target(increase(), GI, points(m2021_12=40, m2022_06=41), "2022-06")
    assert result.measure == "2022年新增"
    assert (result.current, result.baseline, result.baseline_period) == (1, 0, "2021-12")
    assert result.baseline_origin == "observed"
    assert result.expected_now == pytest.approx(1.5)
    assert result.status is Status.BEHIND  # two points (incl. 0 at 2021-12): too few to project
    assert result.explanation == (
        "2022年1月至2022年6月新增1件，按线性进度应新增1.5件，差0.5件；需月均新增0.3件方可于2022年底完成新增3件的目标"
    )


def test_an_increase_ahead_of_its_line_is_on_track():
    result = evaluate_target(increase(), GI, points(m2021_12=40, m2022_06=42), "2022-06")
    assert result.status is Status.ON_TRACK
    assert result.explanation == (
        "2022年1月至2022年6月新增2件，超过线性进度（应新增1.5件）；再新增1件即可于2022年底完成新增3件的目标；数据尚少，趋势尚无法判断"
    )


def test_an_increase_uses_the_document_baseline_when_nothing_was_observed_before_the_start():
    target = increase(baseline=(40, "2021-12"))
    result = evaluate_target(target, GI, points(m2022_03=41, m2022_06=43), "2022-06")
    assert result.current == 3  # 43 − 40
    assert result.baseline_origin == "document"
    assert result.status is Status.ACHIEVED
    assert result.explanation == "2022年1月至2022年6月新增3件，已完成2022年底新增3件的目标"


def test_an_increase_without_a_starting_level_has_no_data():
    result = evaluate_target(increase(), GI, points(m2022_03=41), "2022-06")
    assert result.status is Status.NO_DATA
    assert result.explanation == "缺少2021年12月及以前的该指标数值，无法计算目标期内的新增量"


def test_an_increase_without_observations_inside_its_period_has_no_data():
    result = evaluate_target(increase(), GI, points(m2021_12=40, m2022_09=44), "2022-03")
    assert result.status is Status.NO_DATA  # 2022-09 lies after the as-of month
    assert result.explanation == "截至2022年3月尚无目标期内的该指标数据"


def test_an_increase_before_its_start_is_not_started():
    result = evaluate_target(increase(), GI, points(m2021_10=40), "2021-11")
    assert result.status is Status.NOT_STARTED
    assert result.explanation == "目标期自2022年1月开始，截至2021年11月尚未开始"


def test_an_increase_on_a_flow_sums_the_months_since_the_start():
    # 2021-12's 99 is before the period; Jan–Jun 10 a month → 60; expected 150 × 6/12 = 75
    # cumulative 0, 10, …, 60 rises 10 a month → 2022-12: 60 + 6 × 10 = 120 < 150
    series = join(points(m2021_12=99), monthly("2022-01", [10] * 6))
    result = evaluate_target(increase(150), UNITS, series, "2022-06")
    assert result.current == 60
    assert result.projection == pytest.approx(120)
    assert result.needed_per_month == pytest.approx(15)  # (150 − 60) / 6
    assert result.status is Status.BEHIND
    assert result.explanation == (
        "2022年1月至2022年6月新增60家，按线性进度应新增75家，差15家；需月均新增15家方可于2022年底完成新增150家的目标；"
        "按近12个月趋势预计届时新增120家"
    )


def test_an_increase_on_a_flow_stops_at_the_first_missing_month():
    series = points(m2022_01=10, m2022_02=10, m2022_04=10)
    result = evaluate_target(increase(150), UNITS, series, "2022-06")
    assert (result.current, result.current_period) == (20, "2022-02")  # March unknown: 10 + 10


def test_an_increase_on_a_flow_completed_by_the_deadline_is_achieved():
    series = join(monthly("2022-01", [13] * 12), points(m2023_01=13))
    result = evaluate_target(increase(150), UNITS, series, "2023-01")
    assert result.status is Status.ACHIEVED
    assert result.current == 156  # 12 × 13; January 2023 is after the deadline
    assert result.explanation == "2022年1月至2022年12月新增156家，完成新增150家的目标"


def test_an_increase_short_at_the_deadline_is_missed():
    result = evaluate_target(increase(), GI, points(m2021_12=40, m2022_12=42), "2023-03")
    assert result.status is Status.MISSED
    assert result.explanation == "2022年1月至2022年12月新增2件，未完成新增3件的目标，差1件"


# --------------------------------------------------------------------------- growth

SMES = make_indicator(kind="flow", name="质押融资惠及中小企业数", unit="家")


def test_a_growth_target_on_a_flow_compares_year_to_date_with_the_straight_line():
    # 2021: 12 × 10 = 120 → target 120 × 1.1 = 132; 2022 Jan–Jun 12 a month → 72
    # expected = 132 × 6/12 = 66; same months 2021 = 60 → growth 72/60 − 1 = 20%
    series = join(monthly("2021-01", [10] * 12), monthly("2022-01", [12] * 6))
    result = evaluate_target(growth(), SMES, series, "2022-06")
    assert result.measure == "2022年累计（1—当月）"
    assert result.target_value == pytest.approx(132)
    assert (result.baseline, result.baseline_period) == (0, "2021-12")
    assert result.expected_now == pytest.approx(66)
    assert result.status is Status.ON_TRACK
    assert result.explanation == (
        "2022年1—6月累计72家，同比增长20.0%，高于线性进度66家；再增60家即可于2022年底达到132家（较2021年增长10%）"
    )


def test_a_growth_target_on_a_flow_behind_the_line_is_projected_on_the_cumulative_sum():
    # 2022 Jan–Jun 10 a month → 60 < 66; cumulative 0…60 → 2022-12: 120 < 132
    # same months 2021 = 60 → 持平; needed = (132 − 60)/6 = 12
    series = join(monthly("2021-01", [10] * 12), monthly("2022-01", [10] * 6))
    result = evaluate_target(growth(), SMES, series, "2022-06")
    assert result.projection == pytest.approx(120)
    assert result.status is Status.BEHIND
    assert result.explanation == (
        "2022年1—6月累计60家，同比持平，按线性进度应达66家，差6家；需月均新增12家方可于2022年底达到132家（较2021年增长10%）；"
        "按近12个月趋势预计届时为120家"
    )


def test_a_growth_target_without_the_whole_previous_year_has_no_data():
    series = join(monthly("2021-02", [10] * 11), monthly("2022-01", [12] * 6))
    result = evaluate_target(growth(), SMES, series, "2022-06")
    assert result.status is Status.NO_DATA
    assert result.explanation == "缺少2021年完整12个月的该指标数据，无法计算2022年增长"


def test_a_growth_target_before_its_year_is_not_started():
    result = evaluate_target(growth(), SMES, monthly("2021-01", [10] * 12), "2021-12")
    assert result.status is Status.NOT_STARTED
    assert result.explanation == "目标期自2022年1月开始，截至2021年12月尚未开始"


def test_a_growth_target_on_a_stock_is_measured_against_the_previous_december():
    # R = 200 (2021-12) → target 220; expected at 2022-06 = 200 + 20 × 6/12 = 210; 215/200 − 1 = 7.5%
    result = evaluate_target(growth(), STOCK, points(m2021_12=200, m2022_06=215), "2022-06")
    assert (result.baseline, result.target_value) == (200, pytest.approx(220))
    assert result.status is Status.ON_TRACK
    assert result.explanation == (
        "截至2022年6月为215件，较2021年底增长7.5%，高于线性进度210件；再增5件即可于2022年底达到220件（较2021年增长10%）；数据尚少，趋势尚无法判断"
    )


def test_a_growth_target_on_a_stock_short_at_the_deadline_is_missed():
    result = evaluate_target(growth(), STOCK, points(m2021_12=200, m2022_12=218), "2023-02")
    assert result.status is Status.MISSED
    assert result.gap == pytest.approx(2)  # 220 − 218
    assert result.explanation == "2022年12月为218件，较2021年底增长9.0%，未达到目标220件（较2021年增长10%），差2件"


def test_a_growth_target_on_a_stock_without_the_previous_december_has_no_data():
    result = evaluate_target(growth(), STOCK, points(m2021_11=200, m2022_06=215), "2022-06")
    assert result.status is Status.NO_DATA
    assert result.explanation == "缺少2021年12月的该指标数据，无法计算2022年增长"


def test_a_growth_target_on_an_annual_flow_waits_for_the_year_and_then_judges_it():
    annual_flow = make_indicator(kind="flow", frequency="annual")
    series = points(m2021_12=100, m2022_12=112)
    during = evaluate_target(growth(), annual_flow, series, "2022-06")
    assert during.status is Status.NO_DATA
    assert during.explanation == "截至2022年6月尚无2022年的该指标数据"
    after = evaluate_target(growth(), annual_flow, series, "2023-03")
    assert after.status is Status.ACHIEVED  # 112 ≥ 100 × 1.1 = 110
    assert after.explanation == "2022年为112件，较上年增长12.0%，达到目标110件（较2021年增长10%）"


# --------------------------------------------------------------------------- above_reference

SATISFACTION = make_indicator(name="知识产权保护社会满意度", unit="分", decimals=1)


def test_a_region_above_the_reference_before_the_deadline_is_on_track():
    result = evaluate_target(
        above_reference(), SATISFACTION, points(m2022_06=85), "2022-06", reference=points(m2022_06=84)
    )
    assert result.status is Status.ON_TRACK
    assert result.reference_value == 84
    assert result.gap == pytest.approx(-1)  # 84 − 85: ahead by 1
    assert result.progress == pytest.approx(85 / 84)
    assert result.pace_ratio is None
    assert result.explanation == "截至2022年6月为85.0分，高于参照地区同期的84.0分，须保持至2022年底"


def test_a_region_below_but_closing_on_the_reference_needs_acceleration():
    # differences −4, −3, −2 over Jan–Mar: +1 a month → December: −2 + 9 = +7 > 0
    own = points(m2022_01=80, m2022_02=81, m2022_03=82)
    ref = points(m2022_01=84, m2022_02=84, m2022_03=84)
    result = evaluate_target(above_reference(), SATISFACTION, own, "2022-03", reference=ref)
    assert result.status is Status.NEEDS_ACCELERATION
    assert result.gap == pytest.approx(2)  # 84 − 82
    assert result.projection == pytest.approx(91)  # 82 + 9 × 1
    assert result.explanation == (
        "截至2022年3月为82.0分，未高于参照地区同期的84.0分，差2.0分；按近12个月趋势预计2022年底前可高于参照地区"
    )


def test_a_region_below_and_falling_behind_the_reference_is_behind():
    own = points(m2022_01=82, m2022_02=81, m2022_03=80)
    ref = points(m2022_01=84, m2022_02=84, m2022_03=84)
    result = evaluate_target(above_reference(), SATISFACTION, own, "2022-03", reference=ref)
    assert result.status is Status.BEHIND
    assert result.explanation.endswith("；按近12个月趋势预计2022年底仍低于或持平于参照地区")


def test_after_the_deadline_the_latest_month_both_regions_report_decides():
    own = points(m2022_06=85, m2022_12=83)
    ref = points(m2022_06=84)  # the reference has no December value
    result = evaluate_target(above_reference(), SATISFACTION, own, "2023-03", reference=ref)
    assert result.status is Status.ACHIEVED
    assert result.current_period == "2022-06"
    assert result.explanation == "2022年6月为85.0分，高于参照地区同期的84.0分，达到目标"


def test_a_region_not_above_the_reference_at_the_deadline_has_missed():
    result = evaluate_target(
        above_reference(), SATISFACTION, points(m2022_12=84), "2023-01", reference=points(m2022_12=84)
    )
    assert result.status is Status.MISSED  # equal is not above
    assert result.explanation == "2022年12月为84.0分，与参照地区同期的84.0分持平"
    below = evaluate_target(
        above_reference(), SATISFACTION, points(m2022_12=83), "2023-01", reference=points(m2022_12=84.5)
    )
    assert below.status is Status.MISSED
    assert below.explanation == "2022年12月为83.0分，未高于参照地区同期的84.5分，差1.5分"  # 84.5 − 83


def test_a_reference_target_is_not_met_by_a_value_from_before_its_period():
    # the 2021 survey (85 against 80) says nothing about the 2022 target: no data until 2022's
    own, ref = points(m2021_12=85), points(m2021_12=80)
    during = evaluate_target(above_reference(), SATISFACTION, own, "2022-06", reference=ref)
    assert during.status is Status.NO_DATA and during.current is None
    after = evaluate_target(above_reference(), SATISFACTION, own, "2023-03", reference=ref)
    assert after.status is Status.NO_DATA
    own2, ref2 = points(m2021_12=85, m2022_12=83), points(m2021_12=80, m2022_12=84)
    judged = evaluate_target(above_reference(), SATISFACTION, own2, "2023-03", reference=ref2)
    assert (judged.status, judged.current_period) == (Status.MISSED, "2022-12")  # 83 < 84


def test_a_reference_target_before_its_start_is_not_started():
    result = evaluate_target(
        above_reference(), SATISFACTION, points(m2021_06=85), "2021-06", reference=points(m2021_06=84)
    )
    assert result.status is Status.NOT_STARTED
    assert result.explanation == "目标期自2022年1月开始，截至2021年6月尚未开始"


def test_a_reference_target_without_reference_data_has_no_data():
    result = evaluate_target(above_reference(), SATISFACTION, points(m2022_06=85), "2022-06")
    assert result.status is Status.NO_DATA
    assert result.explanation == "截至2022年6月尚无本地区与参照地区同期的该指标数据"


def test_a_reference_target_ignores_reference_values_after_the_as_of_month():
    own = points(m2022_03=85, m2022_06=85)
    ref = points(m2022_03=84, m2022_06=90)
    result = evaluate_target(above_reference(), SATISFACTION, own, "2022-05", reference=ref)
    assert (result.current_period, result.reference_value) == ("2022-03", 84)
    assert result.status is Status.ON_TRACK


def test_for_a_lower_is_better_indicator_being_below_the_reference_is_good():
    cycle = make_indicator(name="专利审查周期", unit="天", direction="lower")
    result = evaluate_target(
        above_reference(), cycle, points(m2022_06=10), "2022-06", reference=points(m2022_06=12)
    )
    assert result.status is Status.ON_TRACK
    assert result.gap == pytest.approx(-2)  # 10 − 12: 2 better than the reference
    assert result.explanation == "截至2022年6月为10天，低于参照地区同期的12天，须保持至2022年底"


# --------------------------------------------------------------------------- steady_increase

PER_10K = make_indicator(kind="derived", name="每万人口发明专利拥有量", decimals=2)


def test_a_steady_target_above_its_baseline_and_rising_is_on_track():
    # 5.0 … 5.5 over 2024-01…06: above 4.4 and rising 0.1 a month → 2025-12: 5.5 + 18 × 0.1 = 7.3
    series = monthly("2024-01", [5.0 + 0.1 * k for k in range(6)])
    result = evaluate_target(steady(), PER_10K, series, "2024-06")
    assert result.status is Status.ON_TRACK
    assert (result.baseline, result.baseline_origin) == (4.4, "document")
    assert result.target_value is None and result.gap is None and result.progress is None
    assert result.projection == pytest.approx(7.3)
    assert result.explanation == "截至2024年6月为5.50件，高于基期2020年12月的4.40件，且近12个月呈上升趋势"


def test_a_steady_target_above_its_baseline_but_falling_is_on_track_and_says_the_trend_falls():
    # 需加快 only below the line; above it, the words carry the falling trend
    series = monthly("2024-01", [5.5 - 0.1 * k for k in range(6)])
    result = evaluate_target(steady(), PER_10K, series, "2024-06")
    assert result.status is Status.ON_TRACK
    assert result.explanation == "截至2024年6月为5.00件，高于基期2020年12月的4.40件，但近12个月未呈上升趋势"


def test_a_steady_target_below_its_baseline_but_rising_needs_acceleration():
    series = monthly("2024-01", [3.5 + 0.1 * k for k in range(6)])
    result = evaluate_target(steady(), PER_10K, series, "2024-06")
    assert result.status is Status.NEEDS_ACCELERATION
    assert result.explanation == "截至2024年6月为4.00件，未高于基期2020年12月的4.40件，但近12个月呈上升趋势"


def test_a_steady_target_below_its_baseline_and_falling_is_behind():
    series = monthly("2024-01", [4.5 - 0.1 * k for k in range(6)])
    result = evaluate_target(steady(), PER_10K, series, "2024-06")
    assert result.status is Status.BEHIND
    assert result.explanation == "截至2024年6月为4.00件，未高于基期2020年12月的4.40件，且近12个月未呈上升趋势"


def test_a_steady_target_is_judged_at_the_deadline_against_its_baseline():
    achieved = evaluate_target(steady(), PER_10K, points(m2025_12=4.6, m2026_03=4.0), "2026-06")
    assert achieved.status is Status.ACHIEVED
    assert achieved.current_period == "2025-12"
    assert achieved.explanation == "2025年12月为4.60件，高于基期2020年12月的4.40件，实现稳步提升"
    missed = evaluate_target(steady(), PER_10K, points(m2025_12=4.4), "2026-01")
    assert missed.status is Status.MISSED  # equal to the baseline is not an increase
    assert missed.explanation == "2025年12月为4.40件，未高于基期2020年12月的4.40件，未实现稳步提升"


def test_a_steady_target_without_a_document_baseline_uses_the_value_at_start():
    series = points(m2020_12=4.0, m2021_06=4.2, m2021_09=4.3, m2021_12=4.4)
    result = evaluate_target(steady(baseline=None), PER_10K, series, "2021-12")
    assert (result.baseline, result.baseline_period, result.baseline_origin) == (4.0, "2020-12", "observed")  # the month the value was observed
    assert result.status is Status.ON_TRACK


def test_a_steady_target_never_compares_its_baseline_with_itself():
    # no document baseline, start 2022-01: the baseline is 2021-12's 4.0; nothing in 2022 yet
    target = steady(baseline=None, start="2022-01")
    result = evaluate_target(target, PER_10K, points(m2021_12=4.0), "2022-06")
    assert result.status is Status.NO_DATA
    assert (result.baseline, result.baseline_period) == (4.0, "2021-12")
    judged = evaluate_target(target, PER_10K, points(m2021_12=4.0, m2022_03=4.1), "2022-06")
    assert (judged.status, judged.current) == (Status.ON_TRACK, 4.1)


def test_a_steady_target_with_too_few_recent_points_cannot_show_a_trend():
    result = evaluate_target(steady(), PER_10K, points(m2024_06=5.0), "2024-06")
    assert result.status is Status.ON_TRACK  # above the baseline; the trend cannot be judged yet
    assert result.projection_method == "数据不足，未外推"
    assert result.explanation == "截至2024年6月为5.00件，高于基期2020年12月的4.40件；近期数据不足，无法判断趋势"


def test_a_steady_target_on_an_annual_indicator_reads_the_last_three_years():
    annual = make_indicator(kind="stock", frequency="annual", name="专利密集型产业增加值占比", unit="%", decimals=1)
    target = steady(baseline=(6.5, "2020-12"))
    result = evaluate_target(target, annual, points(m2021_12=6.6, m2022_12=6.9, m2023_12=7.2), "2024-03")
    assert result.status is Status.ON_TRACK
    assert result.projection == pytest.approx(7.8)  # +0.3 a year: 7.2 + 2 × 0.3
    assert result.explanation == "截至2023年12月为7.2%，高于基期2020年12月的6.5%，且近3年呈上升趋势"


def test_a_steady_target_before_its_period_is_not_started_and_without_data_has_no_data():
    early = evaluate_target(steady(baseline=None), PER_10K, points(m2020_06=4.0), "2020-06")
    assert early.status is Status.NOT_STARTED
    empty = evaluate_target(steady(), PER_10K, EMPTY, "2024-06")
    assert empty.status is Status.NO_DATA
    assert empty.explanation == "截至2024年6月尚无该指标数据"


# --------------------------------------------------------------------------- contract


def test_an_evaluation_is_an_immutable_record():
    result = evaluate_target(level(), STOCK, points(m2024_06=612), "2024-06")
    assert isinstance(result, Evaluation)
    with pytest.raises(AttributeError):
        result.status = Status.ACHIEVED  # type: ignore[misc]


def test_a_target_for_another_indicator_is_refused():
    other = level().model_copy(update={"indicator": "y"})
    with pytest.raises(ValueError, match="measures 'y'"):
        evaluate_target(other, STOCK, EMPTY, "2024-06")


# --------------------------------------------------------------------------- words never contradict the verdict


def test_a_value_just_short_of_its_target_shows_the_digits_that_differ():
    per_10k = make_indicator(kind="derived", name="每万人口高价值发明专利拥有量", decimals=2)
    target = level(6.8, start="2022-01", deadline="2022-12", baseline=None)
    result = evaluate_target(target, per_10k, points(m2021_12=6.0, m2022_12=6.7996), "2023-01")
    assert result.status is Status.MISSED
    # at 2 decimals both read 6.80 and the gap 0.00; at 4 the value and the gap show their digits
    assert result.explanation == "2022年12月为6.7996件，未达到目标6.80件，差0.0004件"


def test_a_projection_just_short_of_its_target_is_not_shown_as_the_target():
    units = make_indicator(name="示范试点单位", unit="家")
    target = level(40, start="2022-01", deadline="2022-12", baseline=None)
    # 30 at 2021-12, then + 0.83 a month: 32.49 in March, below the line's 30 + 10 × 3/12 = 32.5;
    # the fit through the four points reaches 30 + 12 × 0.83 = 39.96 in December: short of 40
    series = points(m2021_12=30, m2022_01=30.83, m2022_02=31.66, m2022_03=32.49)
    result = evaluate_target(target, units, series, "2022-03")
    assert result.status is Status.BEHIND
    assert result.projection == pytest.approx(39.96)
    # whole units would read 「为32家，应达32.5家……预计届时为40家」 beside 滞后; two decimals tell them
    # apart; needed (40 − 32.49) / 9 = 0.834…
    assert result.explanation == ("截至2022年3月为32.49家，按线性进度应达32.5家，差0.01家；"
                                  "需月均新增0.834家方可于2022年底达到40家；按近12个月趋势预计届时为39.96家")


def test_the_chart_of_an_annual_flow_target_stops_at_the_deadline_years_december():
    from monitor.evaluation import measure_path

    series = monthly("2025-01", [5] * 15)  # 2025-01 … 2026-03
    path = measure_path(copyright_60(), COPYRIGHT, series, "2026-03")
    assert path.measure == "2025年全年合计（1—12月）"
    assert list(path.points.index) == ["2024-12", *month_range("2025-01", "2025-12")]
    assert path.points.iloc[-1] == 60  # 12 × 5: the year's total, not a running sum into 2026
    assert (path.t0, path.baseline, path.target) == ("2024-12", 0, 60)
