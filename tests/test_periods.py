"""etl/periods.py: one reader of periods for cells, titles and headers, and the month a period of
an indicator is stored under. (Loading files with every spelling: tests/test_upload_shapes.py.)"""

from __future__ import annotations

from datetime import date

import pytest

from etl.periods import MAX_DISTINCT_PERIODS, Period, find_period, month_for, parse_period, parse_periods
from monitor.errors import LimitError, PeriodError


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("2024-07", "2024-07"), ("2024-7", "2024-07"), ("2024/07", "2024-07"), ("2024.07", "2024-07"), ("2024.10", "2024-10"),
     ("202407", "2024-07"), ("2024年7月", "2024-07"), ("2024年07月", "2024-07"), ("２０２４－０７", "2024-07"),
     ("45474", "2024-07"), ("45474.0", "2024-07"), ("2024-07-31 00:00:00", "2024-07"), ("20240731", "2024-07"),
     ("7月", "2024-07"), ("七月", "2024-07"), ("2024年7月末", "2024-07")],
)
def test_a_month_is_read_however_it_is_written(cell, expected):
    assert parse_period(cell, year=2024) == Period(int(expected[:4]), int(expected[5:]), int(expected[5:]), "month")
    assert parse_period(date(2024, 7, 31)).month == "2024-07"


@pytest.mark.parametrize(
    ("cell", "first", "last", "form"),
    [("1-7月", 1, 7, "range"), ("1—7月", 1, 7, "range"), ("1～7月", 1, 7, "range"), ("1~7月", 1, 7, "range"),
     ("1至7月", 1, 7, "range"), ("2024年1月-7月", 1, 7, "range"), ("上半年", 1, 6, "range"), ("前三季度", 1, 9, "range"),
     ("全年", 1, 12, "year"), ("2024年", 1, 12, "year"), ("2024", 1, 12, "year"), ("2024年度", 1, 12, "year"),
     ("2024Q2", 4, 6, "quarter"), ("2024年二季度", 4, 6, "quarter"), ("2024年第2季度", 4, 6, "quarter")],
)
def test_ranges_quarters_and_years_are_read_with_their_months(cell, first, last, form):
    assert parse_period(cell, year=2024) == Period(2024, first, last, form)


@pytest.mark.parametrize(
    ("cell", "message"),
    [("2024.1", "「2024.1」可能是 2024年1月，也可能是被 Excel 当作数字而去掉末尾 0 的 2024.10（10 月）"),
     ("2024-13", "「2024-13」不是有效月份（月份应在 1–12 之间）"),
     ("2024年2月30日", "「2024年2月30日」不是存在的日期；期间只需写月份，例如 2024-02"),
     ("7月", "「7月」没有写年份，标题中也没有年份；请写作 2024-07 这样的年-月"),
     ("2024年7-3月", "「2024年7-3月」的起始月份晚于结束月份；1 月起累计请写作 2024年1-7月"),
     ("下月", "「下月」不是可识别的期间；期间请写作 2024-06（月份）、2024年1-6月（1 月起累计）、2024Q2（季度）或 2024年（年度）")],
)
def test_an_ambiguous_or_impossible_period_says_how_to_write_it(cell, message):
    with pytest.raises(PeriodError) as caught:
        parse_period(cell)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("表 3　2025年各地区有效发明专利　Inventions in Force by Region, 2025", Period(2025, 1, 12, "year")),
     ("3-1　2024年1-6月主要指标", Period(2024, 1, 6, "range")),
     ("2024年第一季度", Period(2024, 1, 3, "quarter")),
     ("山西省知识产权主要指标（晋政发〔2021〕20号）", None),  # a document's year is not a period
     ("2021—2025年规划目标", None), ("2024年13月", None)],
)
def test_a_period_is_found_inside_a_title_only_when_it_names_one(text, expected):
    found = find_period(text)
    assert (found[0] if found else None) == expected


def test_a_header_gives_its_period_and_the_rest_of_its_text():
    period, rest = find_period("1-6月知识产权质押融资金额（万元）", year=2024)
    assert period == Period(2024, 1, 6, "range") and rest == "知识产权质押融资金额（万元）"


def test_the_month_stored_depends_on_the_indicator(config):
    stock, flow, annual = (config.indicator(i) for i in ("invention_patents", "patent_grants", "ip_royalty_trade"))
    year, q2, q1 = Period(2024, 1, 12, "year"), Period(2024, 4, 6, "quarter"), Period(2024, 1, 3, "quarter")
    assert month_for(year, annual) == ("2024-12", False)  # an annual value, recorded in December
    assert month_for(year, flow) == ("2024-12", True)  # the 1–12月 total
    assert month_for(year, stock) == ("2024-12", True)
    assert month_for(q2, stock) == ("2024-06", False)  # the value at the quarter's end
    assert month_for(q1, flow) == ("2024-03", True)  # 一季度 is 1-3月 so far this year
    with pytest.raises(PeriodError, match="「2024年第2季度」是 4—6 月的合计，不能作为「专利授权量」某一个月的数值导入"):
        month_for(q2, flow)


@pytest.mark.parametrize("year", [1899, 1900, 2024, 2200, 2201])
@pytest.mark.parametrize("shape", ["{y}-{m:02d}", "{y}-{m}", "{y}/{m:02d}", "{y}/{m}", "{y}年{m}月", "{y}年{m:02d}月"])
def test_the_common_spellings_of_a_month_read_as_that_month_or_say_which_part_is_out_of_range(shape, year):
    for month in range(0, 14):
        cell = shape.format(y=year, m=month)
        if 1900 <= year <= 2200 and 1 <= month <= 12:
            assert parse_period(cell) == Period(year, month, month, "month")
            assert parse_period(f" {cell} ", year=2000) == Period(year, month, month, "month")
            continue
        with pytest.raises(PeriodError) as caught:
            parse_period(cell)
        part = "年份应在 1900–2200 之间" if not 1900 <= year <= 2200 else "月份应在 1–12 之间"
        assert str(caught.value) == f"「{cell}」不是有效月份（{part}）"


def test_a_month_in_digits_of_another_script_is_read_as_before():
    assert parse_period("٢٠٢٤-07") == Period(2024, 7, 7, "month")  # Arabic-Indic digits, as Python reads them


def test_more_distinct_periods_than_a_hundred_years_of_months_are_refused_before_any_is_read():
    texts = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(MAX_DISTINCT_PERIODS)]
    assert parse_periods(texts)[-1] == Period(2099, 12, 12, "month")
    with pytest.raises(LimitError) as caught:
        parse_periods([*texts, "not a period"], file_name="期间.csv")
    assert caught.value.limit == "periods"
    assert str(caught.value).startswith(f"期间.csv 的期间列有 {MAX_DISTINCT_PERIODS + 1:,} 种不同的期间，超过 1,200 种")
    assert "拆分" in str(caught.value)
