"""A grid of cells → the raw long frame: periods in titles, totals rows, the header, long and wide shapes.

Tables are written inline as the CSV a statistical office would export, title rows and footnotes
included, and read through etl.readers so line numbers are the ones a person sees.
"""

from __future__ import annotations

from datetime import date

import pytest

from etl.layout import canonical_of, find_layout, is_total, period_from_title, similar_indicators, to_raw
from etl.loader import plan_upload
from etl.readers import Grid, read_grid
from monitor.errors import LoadError, UnknownColumnsError


def grid_of(text: str, name: str = "表.csv") -> Grid:
    return read_grid(text.encode("utf-8"), name)


def records(raw) -> list[tuple]:
    return [tuple(r) for r in raw[["region", "indicator", "period", "value", "line"]].itertuples(index=False)]


# --------------------------------------------------------------------------- periods in titles


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("2024年1-6月山西省知识产权主要指标", ("2024-06", True)),
        ("2024年1—6月", ("2024-06", True)),
        ("2024年1至9月", ("2024-09", True)),
        ("2024年1月-6月", ("2024-06", True)),
        ("2024年6月晋城市知识产权主要指标", ("2024-06", False)),
        ("2024 年 12 月", ("2024-12", False)),
        ("2024年上半年", ("2024-06", True)),
        ("2024年前三季度", ("2024-09", True)),
        ("2024年第一季度", ("2024-03", True)),
        ("2024年十二月", ("2024-12", False)),
        ("2024年十月", ("2024-10", False)),
        ("2024年二月", ("2024-02", False)),
        ("2024年度知识产权统计", ("2024-12", True)),
        ("２０２４年１－６月", ("2024-06", True)),
        ("２０２４年６月", ("2024-06", False)),
        ("统计期：2024-06", ("2024-06", False)),
    ],
)
def test_the_period_and_whether_it_is_year_to_date_are_read_from_a_title(title, expected):
    assert period_from_title(title) == expected


def test_a_range_within_one_month_is_that_month_and_not_year_to_date():
    assert period_from_title("2024年6-6月") == ("2024-06", False)


@pytest.mark.parametrize("title", ["晋城市知识产权主要指标", "2024年13月", "", "单位：件"])
def test_a_title_without_a_period_gives_none(title):
    assert period_from_title(title) is None


# --------------------------------------------------------------------------- totals rows


@pytest.mark.parametrize("text", ["合计", "总计", "小计", "全省", "全市合计", "全省合计", "总 计", "全市", "汇总"])
def test_totals_rows_are_recognised(text):
    assert is_total(text)


@pytest.mark.parametrize("text", ["晋城市", "城区", "沁水县", "山西省", "高平市"])
def test_a_region_is_not_a_totals_row(text):
    assert not is_total(text)


@pytest.mark.parametrize("text", ["万全区", "天全县"])
def test_a_county_whose_name_happens_to_end_like_a_total_is_not_a_totals_row(text):
    # 万全区 (130708, 张家口) and 天全县 (511825, 雅安) are real counties; as totals they would never load
    assert not is_total(text)


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "canonical"),
    [("地区", "region"), ("区划代码", "region"), ("Region", "region"), ("指标名称", "indicator"),
     ("月份", "period"), ("期间", "period"), ("数值", "value"), ("本期数", "value"), ("计量单位", "unit"),
     ("备注", "note"), ("有效发明专利", None), ("序号", None)],
)
def test_a_header_is_matched_to_its_canonical_column(header, canonical):
    assert canonical_of(header) == canonical


def test_similar_indicator_names_are_offered_best_first(config):
    assert similar_indicators(config, "有效发明专利数量") == ["有效发明专利拥有量", "高价值发明专利拥有量", "每万人口发明专利拥有量"]
    assert similar_indicators(config, "完全无关的列") == []


# --------------------------------------------------------------------------- long tables


def test_a_long_table_gives_one_record_per_row_with_the_line_a_person_sees(config):
    raw, layout, notes = to_raw(grid_of(
        "地区,指标,期间,数值,单位\n"
        "晋城,有效发明专利拥有量,2024-06,612,件\n"
        "阳泉,专利质押融资额（万元）,2024-06,3500,\n"
    ), config)
    assert (layout.shape, layout.header_row, layout.title, layout.period) == ("long", 1, None, None)
    assert records(raw) == [("晋城", "有效发明专利拥有量", "2024-06", "612", 2),
                            ("阳泉", "专利质押融资额", "2024-06", "3500", 3)]
    assert raw["unit"].tolist() == ["件", "万元"]
    assert raw["column"].tolist() == ["数值", "数值"]
    assert notes == []


def test_an_indicator_name_that_itself_ends_in_brackets_keeps_them(config):
    raw, _, _ = to_raw(grid_of("地区,指标,期间,数值\n晋城,商标注册量(当年),2024-06,50\n"), config)
    assert raw["indicator"].tolist() == ["商标注册量(当年)"] and raw["unit"].tolist() == [""]


def test_title_rows_above_the_header_are_counted_in_line_numbers(config):
    raw, layout, _ = to_raw(grid_of(
        "2024年6月晋城市知识产权主要指标\n"
        "\n"
        "地区,指标,数值\n"
        "晋城,有效发明专利拥有量,612\n"
    ), config)
    assert layout.header_row == 3
    assert layout.title == "2024年6月晋城市知识产权主要指标"
    assert records(raw) == [("晋城", "有效发明专利拥有量", "2024-06", "612", 4)]


def test_a_year_to_date_title_marks_every_record_cumulative(config):
    raw, layout, _ = to_raw(grid_of("2024年1-6月主要指标\n地区,指标,数值\n晋城,专利授权量,300\n"), config)
    assert (layout.period, layout.period_source, layout.cumulative) == ("2024-06", "title", True)
    assert raw["cumulative"].tolist() == [True]
    assert layout.description == "长表（每行一个数值）；表头在第 2 行；标题「2024年1-6月主要指标」；期间 2024-06（来自标题，1 月起累计）"


def test_a_period_given_at_import_wins_over_the_title(config):
    raw, layout, _ = to_raw(grid_of("2024年1-6月主要指标\n地区,指标,数值\n晋城,专利授权量,300\n"), config,
                            period="2024-05")
    assert (layout.period, layout.period_source, layout.cumulative) == ("2024-05", "option", False)
    assert raw["period"].tolist() == ["2024-05"] and raw["cumulative"].tolist() == [False]
    assert "期间 2024-05（由导入参数指定）" in layout.description


def test_a_period_given_at_import_fills_only_the_blank_cells_of_a_period_column(config):
    raw, _, _ = to_raw(grid_of("地区,指标,期间,数值\n晋城,专利授权量,,300\n晋城,专利授权量,2024-04,280\n"), config,
                       period="2024-05")
    assert raw["period"].tolist() == ["2024-05", "2024-04"]


def test_a_period_column_wins_over_the_title(config):
    raw, layout, _ = to_raw(grid_of("2024年6月主要指标\n地区,指标,期间,数值\n晋城,专利授权量,2024-03,300\n"), config)
    assert layout.period is None
    assert raw["period"].tolist() == ["2024-03"]


def test_a_period_given_at_import_that_is_not_a_month_is_refused(config):
    with pytest.raises(LoadError, match="^导入参数中的期间：「2024-13」不是有效月份"):
        find_layout(grid_of("地区,指标,数值\n晋城,专利授权量,300\n"), config, period="2024-13")


def test_a_table_without_a_period_anywhere_is_refused_with_the_three_ways_to_give_one(config):
    with pytest.raises(LoadError) as caught:
        to_raw(grid_of("晋城市知识产权主要指标\n地区,指标,数值\n晋城,专利授权量,300\n", "无期间.csv"), config)
    assert str(caught.value) == (
        "无期间.csv 没有「期间」列，标题中也没有可识别的月份；"
        "请加一列「期间」（如 2024-06），或在标题中写明（如「2024年6月……」），或在导入时指定期间"
    )


def test_a_header_missing_a_required_column_names_what_is_missing_and_what_is_there(config):
    with pytest.raises(LoadError) as caught:
        find_layout(grid_of("说明文字\n地区,期间,件数\n晋城,2024-06,1\n", "缺列.csv"), config)
    message = str(caught.value)
    assert message.startswith("缺列.csv 第 2 行像是表头，但缺少必需的列：指标、数值。")
    assert "现有列：地区、期间、件数。第 2 行的列「件数」不是已知指标；如果是指标，可在数据导入页面把这些列对应到指标" in message
    # the page offers the unknown columns for mapping (etl/mappings.py)
    assert isinstance(caught.value, UnknownColumnsError) and caught.value.unknown == ["件数"]


def test_a_file_without_any_header_says_what_its_first_row_is(config):
    with pytest.raises(LoadError) as caught:
        find_layout(grid_of("\nfoo,bar\n1,2\n", "无表头.csv"), config)
    message = str(caught.value)
    assert message.startswith("无表头.csv 中找不到表头：需要「地区」列")
    assert message.endswith("文件第一行是：foo、bar")


def test_footnotes_below_the_table_are_skipped_and_said(config):
    raw, _, notes = to_raw(grid_of(
        "地区,指标,期间,数值\n"
        "晋城,专利授权量,2024-06,300\n"
        "\n"
        "注：数据来源于国家知识产权局统计年报及各县区报送\n"
        "制表人,,,\n"
    ), config)
    assert records(raw) == [("晋城", "专利授权量", "2024-06", "300", 2)]
    assert [(n.row, n.check, n.severity) for n in notes] == [(4, "footnote", "info"), (5, "footnote", "info")]
    assert notes[0].message == "第 4 行「注：数据来源于国家知识产权局统计年报及各」看起来是注释或说明行，已跳过"


# --------------------------------------------------------------------------- wide tables

WIDE = (
    "2024年1-6月晋城市知识产权主要指标\n"
    "序号,地区,有效发明专利（件）,专利授权量,专利数,排名\n"
    "1,城区,120,30,5,1\n"
    "2,沁水县,,12,,2\n"
    ",合计,120,42,5,\n"
)


def test_a_wide_table_gives_one_record_per_filled_cell_and_none_for_blank_cells(config):
    raw, layout, _ = to_raw(grid_of(WIDE), config)
    assert layout.shape == "wide" and layout.header_row == 2
    assert layout.indicator_columns == {"有效发明专利（件）": "invention_patents", "专利授权量": "patent_grants"}
    assert records(raw) == [
        ("城区", "invention_patents", "2024-06", "120", 3),
        ("合计", "invention_patents", "2024-06", "120", 5),
        ("城区", "patent_grants", "2024-06", "30", 3),
        ("沁水县", "patent_grants", "2024-06", "12", 4),
        ("合计", "patent_grants", "2024-06", "42", 5),
    ]
    assert raw["unit"].tolist() == ["件", "件", "", "", ""]
    assert raw["column"].tolist()[:3] == ["有效发明专利（件）", "有效发明专利（件）", "专利授权量"]


def test_the_totals_row_of_a_wide_table_is_flagged(config):
    raw, _, _ = to_raw(grid_of(WIDE), config)
    assert raw.loc[raw["is_total"], "region"].unique().tolist() == ["合计"]
    assert not raw.loc[raw["region"] != "合计", "is_total"].any()


def test_an_unknown_wide_column_is_a_warning_that_suggests_close_indicator_names(config):
    _, layout, notes = to_raw(grid_of(WIDE, "宽表.csv"), config)
    assert [(n.file, n.row, n.column, n.check, n.severity) for n in notes] == [
        ("宽表.csv", 2, "专利数", "columns", "warning")]
    assert notes[0].message == ("第 2 行的列「专利数」不是已知指标，该列不导入；是否是：专利授权量、专利转让次数、有效发明专利拥有量？"
                                "如果它是指标，可在数据导入页面把它对应到指标（以后同样表头的文件自动按此导入），"
                                "或改用 indicators.yaml 中的指标名称或别名")
    assert layout.ignored_columns == ["序号", "专利数", "排名"]
    assert layout.unknown_columns == ["专利数"]  # what the upload page offers to map


def test_serial_number_and_rank_columns_are_dropped_without_a_word(config):
    raw, _, notes = to_raw(grid_of("序号,地区,期间,专利授权量,排名\n1,晋城,2024-06,300,1\n"), config)
    assert notes == []
    assert records(raw) == [("晋城", "patent_grants", "2024-06", "300", 2)]


def test_a_wide_table_with_a_period_column_takes_each_row_s_period(config):
    raw, layout, _ = to_raw(grid_of("地区,期间,专利授权量\n晋城,2024-05,280\n晋城,2024-06,300\n"), config)
    assert layout.period is None
    assert records(raw) == [("晋城", "patent_grants", "2024-05", "280", 2), ("晋城", "patent_grants", "2024-06", "300", 3)]


def test_a_wide_table_with_only_blank_indicator_cells_gives_no_records(config):
    raw, _, _ = to_raw(grid_of("地区,期间,专利授权量,有效注册商标量\n晋城,2024-06,,\n城区,2024-06,,\n"), config)
    assert raw.empty


def test_a_row_for_wanquan_district_is_loaded_and_not_set_aside_as_a_total(store, config, regions):
    data = "地区,指标,期间,数值\n万全区,有效发明专利拥有量,2024-06,100\n".encode()
    plan = plan_upload(store, config, regions, data, "万全.csv", today=date(2025, 1, 15))
    assert plan.rows[["region_code", "value"]].values.tolist() == [["130708", 100.0]]
    assert plan.ok
