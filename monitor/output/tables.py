"""Tables to files people open in Excel: CSV (UTF-8 with BOM) and xlsx.

Excel reads a CSV without a byte-order mark in the machine's legacy code page, which turns Chinese
into mojibake: the BOM makes it read UTF-8. A cell whose text begins with = + - @ (or a tab or
carriage return) is taken by spreadsheet programs as a formula, so text from uploads or notes could
run as one ("CSV injection", OWASP). Such text cells are written with a leading apostrophe, which
makes them plain text; numbers stay numbers.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


def neutralise_cell(value):
    """The value as a spreadsheet must show it: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every formula-like text cell (and column name) neutralised."""
    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column])):
            continue
        out[column] = out[column].astype(object).map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a BOM, formula-like text neutralised, no index column."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _cell_value(value):
    """A value openpyxl can write: missing values become empty cells, numpy scalars Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (str, int, float, bool, date, datetime)):
        return value
    return str(value)


def xlsx_bytes(frame: pd.DataFrame, *, sheet_name: str = "数据") -> bytes:
    """An xlsx workbook of one sheet: a bold, frozen header row, then the rows as values.

    Text cells are written as strings explicitly: openpyxl would otherwise store any text that
    begins with "=" as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    data = neutralise(frame)
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name[:31]
    sheet.append([str(c) for c in data.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in data.itertuples(index=False, name=None):
        sheet.append([_cell_value(v) for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for i, column in enumerate(data.columns, start=1):
        longest = max([len(str(column))] + [len(str(v)) for v in data[column].head(200) if v is not None])
        # CJK characters are about twice as wide as Latin ones.
        sheet.column_dimensions[get_column_letter(i)].width = min(max(8, longest * 2 + 2), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# The evaluated target set (monitor.evaluation.targetset.evaluate_target_set) as people read it.
TARGET_TABLE_COLUMNS = {
    "indicator_name": "指标", "target_text": "目标", "status": "状态", "current": "当前值", "unit": "单位",
    "current_period": "观测月份", "target_value": "目标值", "progress": "进度", "gap": "差距",
    "needed_per_month": "需月均", "explanation": "说明", "adjusted": "目标调整", "clause": "原文",
    "has_demo": "含示例数据",
}


def target_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The 总览 targets with Chinese column names, for download."""
    if "status_label" in frame.columns:  # a reference target's verdict reads 「已达成（参考）」
        frame = frame.assign(status=frame["status_label"])
    table = frame[list(TARGET_TABLE_COLUMNS)].rename(columns=TARGET_TABLE_COLUMNS)
    table["含示例数据"] = table["含示例数据"].map(lambda v: "是" if v is True or v == 1 else "否")
    return table
