"""Writes the upload test files in this folder, as data staff's systems produce them.

The files are committed; this script documents how each was made (encoding, separators, title
rows, sheets) and rewrites them: `python tests/data/uploads/make_files.py`. The tests read the
committed files, never this script. Months assume "today" is 2025-01-15 (the tests fix it).

good_*: every supported shape, each with known values (tests/test_upload_files.py).
bad_*:  exactly one problem each (an error: nothing may be written).
warn_*: exactly one warning each (loads only after confirmation).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def text(name: str, content: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(content.encode(encoding))


def xlsx(name: str, sheets: dict[str, list[list]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if rows and len(rows[0]) == 1 and len(rows) > 1:  # a title row spanning the table, merged as in Excel
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
    book.save(HERE / name)


WIDE_TITLE = "2024年6月山西省知识产权主要指标"


def main() -> None:
    # ----------------------------------------------------------------- good files
    text("good_long_english.csv",
         "region,indicator,period,value\n140500,invention_patents,2024-06,612\n140100,trademarks,2024-06,\"151,200\"\n")
    text("good_long_bom.csv",
         "地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-06,612\n太原市,有效注册商标,2024年6月,１５１２００\n",
         "utf-8-sig")
    text("good_long_gbk_tab.txt",
         "地区\t指标\t期间\t数值\n晋城\t有效发明专利拥有量\t2024-06\t612\n太原\t有效注册商标\t2024/6\t151200\n", "gbk")
    text("good_long_utf16.txt",  # Excel's "Unicode text": UTF-16 with BOM, tab separated
         "地区\t指标\t期间\t数值\r\n晋城\t有效发明专利拥有量\t2024-06\t612\r\n太原市\t有效注册商标量\t2024-06\t151200\r\n", "utf-16")
    # the done-when file: GBK, a title row, short names, 万元 amounts, a 合计 row, a footnote
    text("good_wide_gbk_title.csv",
         f"{WIDE_TITLE},,,\n"
         "地区,有效发明专利（件）,知识产权质押融资额（万元）,序号\n"
         "太原,12000,\"35,000\",1\n"
         "大同,1500,—,2\n"
         "晋城,612,8000,3\n"
         "合计,14112,43000,\n"
         "注：质押融资额为当月登记金额,,,\n", "gbk")
    text("good_long_units.csv",
         "地区,指标,期间,数值,单位\n"
         "晋城,有效发明专利拥有量,2024-06,0.0612,万件\n"
         "晋城,知识产权质押融资金额,2024-06,8000,万元\n"
         "晋城,专利密集型产业增加值占GDP比重,2024-06,8.5%,%\n"
         "晋城,有效注册商标量,2024-06,1.5万件,\n")
    text("good_ytd_flows.csv",  # year-to-date flows; the tests load 1 and 2 月 first
         "2024年1-3月晋城市知识产权质押融资情况\n地区,知识产权质押融资金额（亿元）,知识产权质押融资项目数（项）\n"
         "晋城,1.5,12\n", "gbk")
    xlsx("good_wide.xlsx", {
        "说明": [["本工作簿第二个工作表为报送数据"]],
        "6月": [[WIDE_TITLE], ["地区", "有效发明专利（件）", "有效注册商标（件）"],
               ["太原", 12000, 151200], ["晋城市", 612, 15000], ["合计", 12612, 166200]],
    })
    xlsx("good_long.xlsx", {"数据": [["地区", "指标", "期间", "数值"],
                                   ["晋城", "有效发明专利拥有量", "2024-06", 612],
                                   ["140100", "有效注册商标量", "2024-06", 151200.0]]})

    # ----------------------------------------------------------------- one error each
    head = "地区,指标,期间,数值\n"
    good = "晋城,有效发明专利拥有量,2024-05,600\n"
    text("bad_unknown_region.csv", head + good + "晋阳市,有效发明专利拥有量,2024-06,5\n")
    text("bad_ambiguous_region.csv", head + good + "城区,有效发明专利拥有量,2024-06,5\n")
    text("bad_unknown_indicator.csv", head + good + "晋城,有效发明专利数量,2024-06,5\n")
    text("bad_period.csv", head + good + "晋城,有效发明专利拥有量,2024-13,5\n")
    text("bad_future.csv", head + good + "晋城,有效发明专利拥有量,2025-01,612\n")
    text("bad_not_a_number.csv", head + good + "晋城,有效发明专利拥有量,2024-06,六百\n")
    text("bad_negative.csv", head + good + "晋城,有效发明专利拥有量,2024-06,-3\n")
    text("bad_conflicting_duplicate.csv", head + good + "晋城市,invention_patents,2024-05,601\n")
    text("bad_unit.csv", head.replace("数值", "数值,单位") + "晋城,有效发明专利拥有量,2024-05,600,\n"
         "晋城,有效发明专利拥有量,2024-06,612,万元\n")
    text("bad_percent_on_count.csv", head + good + "晋城,有效发明专利拥有量,2024-06,61%\n")
    text("bad_no_period.csv", "地区,有效发明专利（件）\n晋城,612\n")
    text("bad_no_header.csv", "甲,乙,丙\n1,2,3\n")
    text("bad_empty.csv", "\n\n")
    (HERE / "bad_old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    (HERE / "bad_not_really.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")

    # ----------------------------------------------------------------- one warning each
    text("warn_outlier.csv", head + "晋城,有效发明专利拥有量,2024-05,600\n晋城,有效发明专利拥有量,2024-06,900\n")
    text("warn_stock_falls.csv", head + "晋城,有效发明专利拥有量,2024-05,600\n晋城,有效发明专利拥有量,2024-06,590\n")
    text("warn_per_capita.csv", head + "晋城,有效发明专利拥有量,2024-06,612\n晋城,每万人口发明专利拥有量,2024-06,9.9\n")
    text("warn_total_mismatch.csv",
         f"{WIDE_TITLE}\n地区,有效发明专利（件）\n太原,12000\n晋城,612\n全省合计,13000\n", "gbk")
    text("warn_unknown_column.csv", "地区,期间,有效发明专利（件）,专利质押（件）\n晋城,2024-06,612,3\n")


if __name__ == "__main__":
    main()
