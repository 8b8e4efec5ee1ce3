"""Units as data staff write them: parsing, conversion to an indicator's unit, and units in headers."""

from __future__ import annotations

import pytest

from etl.units import UnitError, conversion_factor, is_unit, parse_unit, split_header

# --------------------------------------------------------------------------- parse_unit


@pytest.mark.parametrize(
    ("written", "base", "factor"),
    [
        ("件", "件", 1.0),
        ("万件", "件", 1e4),
        ("万元", "元", 1e4),
        ("亿元", "元", 1e8),
        ("百万元", "元", 1e6),
        ("千万元", "元", 1e7),
        ("万亿元", "元", 1e12),
        ("万美元", "美元", 1e4),
        ("件/万人", "件/万人", 1.0),
    ],
)
def test_a_unit_is_read_as_a_multiplier_on_a_base(written, base, factor):
    unit = parse_unit(written)
    assert (unit.text, unit.base, unit.factor) == (written, base, factor)


@pytest.mark.parametrize("written", ["%", "％", "百分比", " % ", "单位：%", "单位:％"])
def test_every_spelling_of_percent_is_the_same_unit(written):
    assert parse_unit(written).base == "%"


def test_per_ten_thousand_people_is_read_in_either_spelling():
    assert parse_unit("件/万人口") == parse_unit("件/万人")


def test_an_empty_unit_is_an_error_that_says_so():
    with pytest.raises(UnitError, match="^单位为空$"):
        parse_unit("　")


# --------------------------------------------------------------------------- conversion_factor


@pytest.mark.parametrize(
    ("from_unit", "to_unit", "factor"),
    [
        ("万元", "亿元", 1e-4),
        ("亿元", "万元", 1e4),
        ("万件", "件", 1e4),
        ("件", "万件", 1e-4),
        ("元", "万元", 1e-4),
        ("%", "%", 1.0),
        ("％", "%", 1.0),
        ("亿元", "亿元", 1.0),
    ],
)
def test_units_of_the_same_base_convert_by_the_ratio_of_their_multipliers(from_unit, to_unit, factor):
    assert conversion_factor(from_unit, to_unit) == pytest.approx(factor, rel=1e-12)


def test_a_value_in_wan_yuan_becomes_the_same_amount_in_yi_yuan():
    assert 35000 * conversion_factor("万元", "亿元") == pytest.approx(3.5)


@pytest.mark.parametrize(("from_unit", "to_unit"), [("件", "家"), ("万元", "件"), ("件/万人", "件"), ("万元", "美元")])
def test_units_of_different_bases_never_convert(from_unit, to_unit):
    with pytest.raises(UnitError):
        conversion_factor(from_unit, to_unit)


def test_the_conversion_error_names_both_units():
    with pytest.raises(UnitError) as caught:
        conversion_factor("件", "家")
    assert str(caught.value) == "单位「件」无法换算为指标单位「家」"


def test_a_unit_error_is_also_a_value_error_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        conversion_factor("件", "家")


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("有效发明专利（件）", ("有效发明专利", "件")),
        ("有效发明专利(件)", ("有效发明专利", "件")),
        ("知识产权质押融资额(单位:万元)", ("知识产权质押融资额", "万元")),
        ("知识产权质押融资额（单位：万元）", ("知识产权质押融资额", "万元")),
        ("专利授权量【件】", ("专利授权量", "件")),
        ("质押融资金额 [亿元]", ("质押融资金额", "亿元")),
        ("专利密集型产业增加值占GDP比重（％）", ("专利密集型产业增加值占GDP比重", "%")),
        ("每万人口发明专利拥有量（件/万人）", ("每万人口发明专利拥有量", "件/万人")),
    ],
)
def test_a_unit_in_brackets_at_the_end_of_a_header_is_split_off(header, expected):
    assert split_header(header) == expected


@pytest.mark.parametrize(
    "header",
    ["国内(不含港澳台)发明专利有效量", "商标注册量(当年)", "地理标志产品(累计获批)", "有效发明专利拥有量", "地区"],
)
def test_a_header_whose_brackets_are_not_a_unit_is_left_whole(header):
    assert split_header(header) == (header, None)


def test_spaces_around_a_header_are_dropped_whether_or_not_it_has_a_unit():
    assert split_header("  有效发明专利（件） ") == ("有效发明专利", "件")
    assert split_header(" 地区 ") == ("地区", None)


@pytest.mark.parametrize("text", ["件", "万元", "亿元", "%", "％", "家", "项", "万户", "件/万人", "单位：万元"])
def test_common_units_read_as_units(text):
    assert is_unit(text)


@pytest.mark.parametrize("text", ["", "不含港澳台", "当年", "累计获批", "2024", "说明", "一二三四五六七"])
def test_words_that_are_not_units_do_not_read_as_units(text):
    assert not is_unit(text)
