"""Blank upload templates: their regions, indicators and files, and the round trip through the loader.

A template for 晋城市 (140500), 2024-06, is filled in as a person would (pandas for the CSV, openpyxl
for the workbook) and loaded with ``plan_upload``; what is staged must be exactly what was filled in.
"""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook

from etl.loader import commit_plan, plan_upload
from etl.templates import template_csv, template_frame, template_title, template_xlsx
from monitor.errors import LoadError

TODAY = date(2025, 1, 15)
SCOPE, MONTH = "140500", "2024-06"
JINCHENG = ["晋城市", "晋城市城区", "沁水县", "阳城县", "陵川县", "泽州县", "高平市"]

# (region, indicator name) -> value as a person types it, and what it must load as
FILLED = {
    ("晋城市", "有效发明专利拥有量"): 612,
    ("晋城市城区", "有效发明专利拥有量"): 120,
    ("沁水县", "专利授权量"): 12,
    ("高平市", "知识产权质押融资金额"): 3.5,
}
EXPECTED = {
    ("140500", "invention_patents", MONTH, 612.0),
    ("140502", "invention_patents", MONTH, 120.0),
    ("140521", "patent_grants", MONTH, 12.0),
    ("140581", "pledge_amount", MONTH, 3.5),
}
UNITS = {"有效发明专利拥有量": "件", "专利授权量": "件", "知识产权质押融资金额": "亿元"}


@pytest.fixture
def plan_of(store, config, regions):
    def plan(data: bytes, name: str):
        return plan_upload(store, config, regions, data, name, today=TODAY)

    return plan


def loaded(plan) -> set[tuple]:
    return {tuple(r) for r in plan.rows[["region_code", "indicator_id", "month", "value"]].itertuples(index=False)}


def filled_wide(frame: pd.DataFrame, values: dict) -> pd.DataFrame:
    frame = frame.copy()
    for (region, name), value in values.items():
        frame.loc[frame["地区"] == region, f"{name}（{UNITS[name]}）"] = str(value)
    return frame


def filled_workbook(data: bytes, values: dict) -> bytes:
    """Type numbers into the 报送表 sheet of a template workbook, found by region row and header."""
    book = load_workbook(io.BytesIO(data))
    sheet = book["报送表"]
    column_of = {cell.value: cell.column for cell in sheet[2]}
    row_of = {row[0].value: row[0].row for row in sheet.iter_rows(min_row=3)}
    for (region, name), value in values.items():
        sheet.cell(row=row_of[region], column=column_of[f"{name}（{UNITS[name]}）"], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- the frame


def test_a_wide_template_has_a_row_per_region_and_a_column_per_indicator_with_its_unit(config, regions):
    frame = template_frame(config, regions, SCOPE, MONTH, "wide")
    assert frame["地区"].tolist() == JINCHENG
    assert frame["期间"].unique().tolist() == [MONTH]
    assert frame.columns[:4].tolist() == ["地区", "期间", "有效发明专利拥有量（件）", "高价值发明专利拥有量（件）"]
    assert "知识产权质押融资金额（亿元）" in frame.columns and "市场主体数量（户）" in frame.columns
    assert (frame.iloc[:, 2:] == "").all().all()


def test_a_long_template_has_a_row_per_region_and_indicator_with_the_unit_and_no_value(config, regions):
    frame = template_frame(config, regions, SCOPE, MONTH, "long")
    assert frame.columns.tolist() == ["地区", "指标", "期间", "数值", "单位"]
    indicators = frame.loc[frame["地区"] == "晋城市", "指标"].tolist()
    assert len(frame) == len(JINCHENG) * len(indicators)
    assert frame["地区"].drop_duplicates().tolist() == JINCHENG
    assert frame.iloc[0].tolist() == ["晋城市", "有效发明专利拥有量", MONTH, "", "件"]
    assert (frame["数值"] == "").all()


def test_both_forms_ask_for_the_same_indicators(config, regions):
    wide = template_frame(config, regions, SCOPE, MONTH, "wide").columns[2:].tolist()
    long = template_frame(config, regions, SCOPE, MONTH, "long")
    assert wide == [f"{n}（{u}）" for n, u in long.loc[long["地区"] == "晋城市", ["指标", "单位"]].values]


def test_annual_indicators_are_asked_for_only_in_december(config, regions):
    june = template_frame(config, regions, SCOPE, "2024-06").columns
    december = template_frame(config, regions, SCOPE, "2024-12").columns
    annual = "专利密集型产业增加值占GDP比重（%）"
    assert annual not in june and annual in december
    assert set(june) < set(december)


def test_derived_indicators_are_never_asked_for(config, regions):
    columns = template_frame(config, regions, SCOPE, "2024-12").columns
    assert not any(c.startswith(("每万人口发明专利拥有量", "地理标志总数")) for c in columns)


def test_a_province_template_lists_the_province_its_cities_and_zones(config, regions):
    names = template_frame(config, regions, "140000", MONTH)["地区"].tolist()
    assert names[:3] == ["山西省", "太原市", "大同市"]
    assert "晋城市" in names and names[-1] == "山西转型综合改革示范区"
    assert len(names) == 13


def test_a_template_never_lists_a_grouping_such_as_shixiaqu(config, regions):
    assert any(r.is_grouping for r in regions.children("500000"))  # 重庆: 市辖区 and 县
    assert template_frame(config, regions, "500000", MONTH)["地区"].tolist() == ["重庆市"]


def test_the_month_is_written_in_the_form_the_loader_expects(config, regions):
    assert template_frame(config, regions, SCOPE, "2024年6月")["期间"].unique().tolist() == [MONTH]


def test_an_unknown_form_is_refused(config, regions):
    with pytest.raises(ValueError, match="form must be one of"):
        template_frame(config, regions, SCOPE, MONTH, "tall")


# --------------------------------------------------------------------------- the files


def test_the_csv_template_is_utf8_with_a_byte_order_mark_for_excel(config, regions):
    frame = template_frame(config, regions, SCOPE, MONTH)
    data = template_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf" + "地区,期间,有效发明专利拥有量（件）".encode())
    again = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(again, frame)


def test_the_title_names_the_month_and_the_region(regions):
    assert template_title(regions, SCOPE, MONTH) == "2024年6月晋城市知识产权主要指标报送表"


def test_the_workbook_template_has_a_title_row_the_header_and_a_sheet_explaining_the_indicators(config, regions):
    frame = template_frame(config, regions, SCOPE, MONTH)
    book = load_workbook(io.BytesIO(template_xlsx(frame, config, title=template_title(regions, SCOPE, MONTH))))
    assert book.sheetnames == ["报送表", "指标说明"]
    sheet = book["报送表"]
    assert sheet["A1"].value == "2024年6月晋城市知识产权主要指标报送表"
    assert [c.value for c in sheet[2]] == frame.columns.tolist()
    assert [row[0].value for row in sheet.iter_rows(min_row=3)] == JINCHENG
    assert sheet.freeze_panes == "B3"
    notes = book["指标说明"]
    assert [c.value for c in notes[1]] == ["指标", "单位", "口径", "别名（导入时也可识别）"]
    explained = {row[0].value: row[1].value for row in notes.iter_rows(min_row=2)}
    assert explained["知识产权质押融资金额"] == "亿元"
    assert "每万人口发明专利拥有量" not in explained  # derived: nobody reports it


# --------------------------------------------------------------------------- round trips


def test_a_filled_in_wide_csv_template_loads_exactly_the_values_filled_in(config, regions, plan_of):
    frame = filled_wide(template_frame(config, regions, SCOPE, MONTH, "wide"), FILLED)
    plan = plan_of(template_csv(frame), "晋城_2024-06.csv")
    assert loaded(plan) == EXPECTED
    assert plan.ok and not plan.warnings
    lines = dict(zip(plan.rows["region_code"], plan.rows["line"]))
    assert lines == {"140500": 2, "140502": 3, "140521": 4, "140581": 8}


def test_a_filled_in_wide_workbook_template_loads_exactly_the_values_filled_in(config, regions, plan_of):
    frame = template_frame(config, regions, SCOPE, MONTH, "wide")
    blank = template_xlsx(frame, config, title=template_title(regions, SCOPE, MONTH))
    plan = plan_of(filled_workbook(blank, FILLED), "晋城_2024-06.xlsx")
    assert loaded(plan) == EXPECTED
    assert plan.ok and not plan.warnings
    assert dict(zip(plan.rows["region_code"], plan.rows["line"]))["140500"] == 3  # below the title row
    assert plan.layout.title == "2024年6月晋城市知识产权主要指标报送表"


def test_a_filled_in_long_csv_template_loads_exactly_the_values_filled_in(config, regions, plan_of):
    frame = template_frame(config, regions, SCOPE, MONTH, "long")
    for (region, name), value in FILLED.items():
        frame.loc[(frame["地区"] == region) & (frame["指标"] == name), "数值"] = str(value)
    plan = plan_of(template_csv(frame), "晋城_长表.csv")
    assert loaded(plan) == EXPECTED
    assert plan.ok and not plan.warnings
    # every row left blank is said to be missing, never loaded as 0
    assert sum(p.check == "value" and p.severity == "info" for p in plan.problems) == len(frame) - len(FILLED)


def test_a_filled_in_long_workbook_template_loads_exactly_the_values_filled_in(config, regions, plan_of):
    frame = template_frame(config, regions, SCOPE, MONTH, "long")
    book = load_workbook(io.BytesIO(template_xlsx(frame, config, title=template_title(regions, SCOPE, MONTH))))
    sheet = book["报送表"]
    for row in sheet.iter_rows(min_row=3):
        if (row[0].value, row[1].value) in FILLED:
            row[3].value = FILLED[row[0].value, row[1].value]
    out = io.BytesIO()
    book.save(out)
    plan = plan_of(out.getvalue(), "晋城_长表.xlsx")
    assert loaded(plan) == EXPECTED
    assert plan.ok


def test_a_county_that_fills_in_only_its_own_row_of_the_wide_template_is_loaded(config, regions, plan_of):
    # 城区 is also a district of 阳泉 and 汕尾; in a 晋城市 template it can only be 晋城's 城区
    frame = filled_wide(template_frame(config, regions, SCOPE, MONTH, "wide"), {("晋城市城区", "有效发明专利拥有量"): 120})
    plan = plan_of(template_csv(frame), "城区.csv")
    assert [p.message for p in plan.errors] == []
    assert loaded(plan) == {("140502", "invention_patents", MONTH, 120.0)}


@pytest.mark.parametrize("form", ["wide", "long"])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_unfilled_template_is_refused_because_it_has_no_values(config, regions, plan_of, store, form, kind):
    frame = template_frame(config, regions, SCOPE, MONTH, form)
    name = f"空白模板.{kind}"
    data = template_csv(frame) if kind == "csv" else template_xlsx(
        frame, config, title=template_title(regions, SCOPE, MONTH))
    plan = plan_of(data, name)
    assert not plan.ok and plan.rows.empty
    assert [p.message for p in plan.errors] == [f"{name} 中没有可导入的数值（所有数值单元格都为空）；请填写数值后再导入"]
    with pytest.raises(LoadError, match=f"^{name} 有 1 处错误，未写入任何数据$"):
        commit_plan(store, plan)
