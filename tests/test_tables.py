"""monitor.output.tables: CSV with a BOM and xlsx, Chinese intact, formula-like text made harmless."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from monitor.output.tables import csv_bytes, neutralise_cell, target_table, xlsx_bytes


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "地区": ["晋城市", "太原市", "=SUM(A1)"],
        "数值": [690.0, -12.5, None],
        "备注": ["+86 电话", "@导入", "-1+1"],
        "件数": pd.array([1, None, 3], dtype="Int64"),
    })


def test_csv_starts_with_the_utf8_bom_and_round_trips_chinese(frame):
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == ["地区", "数值", "备注", "件数"]
    assert back["地区"].tolist()[:2] == ["晋城市", "太原市"]


def test_csv_neutralises_cells_that_a_spreadsheet_would_run_as_formulas(frame):
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig", keep_default_na=False)
    assert back["地区"].iloc[2] == "'=SUM(A1)"
    assert back["备注"].tolist() == ["'+86 电话", "'@导入", "'-1+1"]
    assert back["数值"].iloc[1] == "-12.5"  # a negative number is a number, not text: left alone
    assert b"\n=SUM" not in csv_bytes(frame) and b",=SUM" not in csv_bytes(frame)


def test_neutralise_cell_leaves_ordinary_text_and_numbers_alone():
    assert neutralise_cell("晋城市") == "晋城市"
    assert neutralise_cell(-3) == -3
    assert neutralise_cell("\t=1") == "'\t=1"


def test_xlsx_opens_with_openpyxl_with_header_chinese_numbers_and_empty_cells(frame):
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, sheet_name="对比"))).active
    assert sheet.title == "对比"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("地区", "数值", "备注", "件数")
    assert rows[1] == ("晋城市", 690, "'+86 电话", 1)
    assert rows[2][1] == -12.5 and rows[2][3] is None
    assert sheet.freeze_panes == "A2"


def test_xlsx_stores_formula_like_text_as_text_not_as_a_formula(frame):
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame))).active
    cell = sheet["A4"]
    assert cell.value == "'=SUM(A1)"
    assert cell.data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_target_table_names_the_columns_in_chinese():
    frame = pd.DataFrame([{"indicator_name": "有效发明专利拥有量", "target_text": "达到 700件（2025年底）", "status": "未达成",
                           "current": 690.0, "unit": "件", "current_period": "2025-12", "target_value": 700.0,
                           "progress": 0.97, "gap": 10.0, "needed_per_month": None, "explanation": "差10件",
                           "adjusted": None, "clause": "达到 700 件", "has_demo": True, "type": "at_least"}])
    table = target_table(frame)
    assert list(table.columns[:3]) == ["指标", "目标", "状态"]
    assert table["含示例数据"].tolist() == ["是"]
