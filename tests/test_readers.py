"""Files as received → a grid of cell texts: encodings, delimiters, workbooks and the refusals.

Files are written to tmp_path and read back as bytes, as the upload page and the CLI receive them.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from openpyxl import Workbook

from etl import readers
from etl.readers import ReadLimits, cell_text, max_upload_bytes, read_grid, sheet_names
from monitor.errors import LoadError, SettingError

TABLE = "地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-06,612\n"
ROWS = [["地区", "指标", "期间", "数值"], ["晋城", "有效发明专利拥有量", "2024-06", "612"]]


def saved(tmp_path: Path, name: str, data: bytes) -> bytes:
    """Write the bytes to a real file and read them back, as an upload would arrive."""
    path = tmp_path / name
    path.write_bytes(data)
    return path.read_bytes()


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("data", "encoding", "label"),
    [
        (TABLE.encode("utf-8"), "utf-8", "UTF-8"),
        (TABLE.encode("utf-8-sig"), "utf-8-sig", "UTF-8（带 BOM）"),
        (TABLE.encode("gbk"), "gb18030", "GBK/GB18030"),
        (TABLE.encode("utf-16"), "utf-16", "UTF-16"),
    ],
    ids=["utf-8", "utf-8 with BOM", "gbk", "utf-16"],
)
def test_a_csv_is_read_in_whatever_encoding_it_was_saved(tmp_path, data, encoding, label):
    grid = read_grid(saved(tmp_path, "表.csv", data), "表.csv")
    assert grid.rows == ROWS
    assert (grid.kind, grid.encoding) == ("csv", encoding)
    assert grid.description == f"CSV 文本，编码 {label}，逗号分隔"


def test_the_byte_order_mark_does_not_end_up_in_the_first_header(tmp_path):
    grid = read_grid(saved(tmp_path, "bom.csv", TABLE.encode("utf-8-sig")), "bom.csv")
    assert grid.rows[0][0] == "地区"


def test_a_big_endian_utf16_file_is_read_too(tmp_path):
    data = b"\xfe\xff" + TABLE.encode("utf-16-be")
    assert read_grid(saved(tmp_path, "be.txt", data), "be.txt").rows == ROWS


def test_gb18030_characters_outside_gbk_are_kept(tmp_path):
    text = "地区,备注\n晋城,𠀀字\n"  # U+20000 exists in GB18030 only
    grid = read_grid(saved(tmp_path, "gb.csv", text.encode("gb18030")), "gb.csv")
    assert grid.rows[1] == ["晋城", "𠀀字"]


def test_bytes_that_are_neither_utf8_nor_gbk_are_refused_with_advice(tmp_path):
    data = saved(tmp_path, "乱码.csv", b"a,b\n\xff\xff,1\n")
    with pytest.raises(LoadError) as caught:
        read_grid(data, "乱码.csv")
    assert str(caught.value) == "无法识别 乱码.csv 的文字编码（既不是 UTF-8 也不是 GBK）；请在 Excel 中另存为“CSV UTF-8”后再导入"


def test_a_gbk_file_behind_a_utf8_byte_order_mark_is_refused_with_a_load_error(tmp_path):
    # read_grid promises a LoadError a person can act on, never a bare UnicodeDecodeError
    data = saved(tmp_path, "混合.csv", b"\xef\xbb\xbf" + TABLE.encode("gbk"))
    with pytest.raises(LoadError, match="混合.csv"):
        read_grid(data, "混合.csv")


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize(
    ("text", "delimiter", "label"),
    [
        ("地区\t数值\n晋城\t1,234\n阳泉\t567\n", "\t", "制表符"),
        ("地区;数值\n晋城;1,234\n阳泉;567\n", ";", "分号"),
        ('地区,数值\n晋城,"1;234"\n阳泉,567\n', ",", "逗号"),
    ],
    ids=["tab", "semicolon", "comma"],
)
def test_the_delimiter_is_the_one_on_every_line_even_when_numbers_carry_another(text, delimiter, label):
    grid = read_grid(text.encode("utf-8"), "表.csv")
    assert grid.delimiter == delimiter
    assert grid.rows[1][0] == "晋城" and len(grid.rows[1]) == 2
    assert grid.description.endswith(f"{label}分隔")


def test_a_title_line_above_the_table_does_not_confuse_the_delimiter(tmp_path):
    text = "2024年6月晋城市知识产权主要指标\n地区\t数值\n晋城\t612\n"
    grid = read_grid(saved(tmp_path, "表.txt", text.encode("gbk")), "表.txt")
    assert grid.rows == [["2024年6月晋城市知识产权主要指标"], ["地区", "数值"], ["晋城", "612"]]


def test_cells_are_stripped_and_blank_lines_keep_their_place():
    grid = read_grid("地区 , 数值\n\n 晋城 ,  612 \n".encode(), "表.csv")
    assert grid.rows == [["地区", "数值"], [], ["晋城", "612"]]


def test_a_quoted_cell_with_a_comma_and_a_line_break_is_one_cell():
    grid = read_grid('地区,备注\n晋城,"含城区,\n沁水县"\n'.encode(), "表.csv")
    assert grid.rows[1] == ["晋城", "含城区,\n沁水县"]


# --------------------------------------------------------------------------- workbooks


def test_the_first_sheet_of_a_workbook_is_read_by_default(tmp_path):
    data = saved(tmp_path, "表.xlsx", workbook({"报送表": ROWS, "指标说明": [["指标", "单位"]]}))
    grid = read_grid(data, "表.xlsx")
    assert (grid.kind, grid.sheet, grid.sheets) == ("xlsx", "报送表", ["报送表", "指标说明"])
    assert grid.rows == ROWS
    assert grid.description == "Excel 工作簿，工作表「报送表」（共 2 个工作表）"


def test_a_workbook_with_one_sheet_does_not_count_its_sheets():
    grid = read_grid(workbook({"Sheet1": ROWS}), "表.xlsx")
    assert grid.description == "Excel 工作簿，工作表「Sheet1」"


@pytest.mark.parametrize("sheet", ["数据", "2"])
def test_a_sheet_is_chosen_by_name_or_by_its_number_counting_from_one(sheet):
    data = workbook({"说明": [["本表说明"]], "数据": ROWS})
    grid = read_grid(data, "表.xlsx", sheet=sheet)
    assert grid.sheet == "数据" and grid.rows == ROWS


def test_a_sheet_named_with_a_number_wins_over_the_sheet_in_that_position():
    data = workbook({"说明": [["本表说明"]], "1": ROWS})
    assert read_grid(data, "表.xlsx", sheet="1").sheet == "1"


@pytest.mark.parametrize("sheet", ["汇总", "3", "0"])
def test_a_sheet_that_is_not_there_is_refused_naming_the_sheets_that_are(sheet):
    data = workbook({"说明": [["本表说明"]], "数据": ROWS})
    with pytest.raises(LoadError) as caught:
        read_grid(data, "表.xlsx", sheet=sheet)
    assert str(caught.value) == f"表.xlsx 中没有工作表「{sheet}」；现有工作表：说明、数据"


def test_excel_values_read_as_the_text_a_person_sees():
    data = workbook({"数据": [
        ["地区", "期间", "数值", "占比"],
        ["晋城", datetime(2024, 6, 1), 612.0, 1.5],
        ["阳泉", date(2024, 7, 31), 13000, None],
    ]})
    assert read_grid(data, "表.xlsx").rows[1:] == [["晋城", "2024-06", "612", "1.5"], ["阳泉", "2024-07", "13000", ""]]


def test_short_rows_of_a_sheet_are_padded_to_the_widest_row():
    data = workbook({"数据": [["2024年6月"], ["地区", "数值"], ["晋城", 612]]})
    assert read_grid(data, "表.xlsx").rows == [["2024年6月", ""], ["地区", "数值"], ["晋城", "612"]]


def test_a_workbook_saved_without_its_suffix_is_recognised_by_its_content():
    assert read_grid(workbook({"数据": ROWS}), "download").kind == "xlsx"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (612.0, "612"),
        (-3.0, "-3"),
        (0.25, "0.25"),
        (13000, "13000"),
        (datetime(2024, 12, 31, 23, 59), "2024-12"),
        (date(2024, 1, 1), "2024-01"),
        ("  晋城 ", "晋城"),
        (True, "True"),
    ],
)
def test_cell_text_shows_dates_as_months_and_whole_numbers_without_a_decimal_point(value, text):
    assert cell_text(value) == text


def test_sheet_names_lists_the_sheets_of_a_workbook_and_nothing_for_other_files():
    assert sheet_names(workbook({"报送表": ROWS, "指标说明": []})) == ["报送表", "指标说明"]
    assert sheet_names(TABLE.encode()) == []
    assert sheet_names(b"PK\x03\x04 not really a zip") == []


# --------------------------------------------------------------------------- refusals


def old_workbook(sheets: dict[str, list[list]], at: tuple[int, int] = (0, 0)) -> bytes:
    """A real Excel 97–2003 (.xls, BIFF8) workbook, written by xlwt (a test-only dependency);
    each sheet's rows start at ``at`` (row, column), 0-based."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    dated = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for title, rows in sheets.items():
        sheet = book.add_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(at[0] + r, at[1] + c, value, dated if isinstance(value, (date, datetime)) else xlwt.Style.default_style)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_old_xls_workbook_is_read_like_an_xlsx_one(tmp_path):
    data = saved(tmp_path, "旧表.xls", old_workbook({"说明": [["见报送表"]], "报送表": ROWS}))
    assert data[:8] == readers.OLE_MAGIC
    grid = read_grid(data, "旧表.xls", sheet="报送表")
    assert grid.rows == ROWS
    assert grid.description == "旧版 Excel 工作簿（.xls），工作表「报送表」（共 2 个工作表）"
    assert read_grid(data, "旧表.xls").rows == [["见报送表"]]  # the first sheet by default
    assert read_grid(data, "旧表.xls", sheet="2").sheet == "报送表"
    assert sheet_names(data) == ["说明", "报送表"]
    with pytest.raises(LoadError, match="中没有工作表「3月」；现有工作表：说明、报送表"):
        read_grid(data, "旧表.xls", sheet="3月")


def test_an_old_xls_keeps_the_rows_and_columns_a_person_sees_and_shows_values_as_excel_does():
    data = old_workbook({"表": [["2024年6月主要指标", None, None], ["地区", "期间", "数值"],
                                [None, None, None], ["晋城", datetime(2024, 6, 30), 612.0], ["阳泉", 45474, 0.35]]},
                        at=(2, 1))
    grid = read_grid(data, "旧表.xls")
    assert grid.rows == [["", "", "", ""], ["", "", "", ""], ["", "2024年6月主要指标", "", ""],
                         ["", "地区", "期间", "数值"], ["", "", "", ""], ["", "晋城", "2024-06", "612"],
                         ["", "阳泉", "45474", "0.35"]]


def test_an_old_xls_is_read_within_the_same_limits(tmp_path):
    data = old_workbook({"表": [["地区", "数值"], *[["晋城", k] for k in range(30)]]})
    for limits, limit in [(ReadLimits(rows=20), "rows"), (ReadLimits(columns=1), "columns"), (ReadLimits(cells=50), "cells"),
                          (ReadLimits(xls_bytes=len(data) - 1), "xls_bytes")]:
        with pytest.raises(readers.LimitError) as caught:
            read_grid(data, "大.xls", limits=limits)
        assert caught.value.limit == limit
    assert "超过 20 行的上限" in str(read_limit_error(data, ReadLimits(rows=20)))
    assert "另存为” .xlsx 或 CSV" in str(read_limit_error(data, ReadLimits(xls_bytes=1024)))
    long_cell = old_workbook({"表": [["地区", "说明"], ["晋城", "很长" * 50]]})
    with pytest.raises(readers.LimitError, match="第 2 行第 2 列（B2）的单元格有 100 个字符"):
        read_grid(long_cell, "长.xls", limits=ReadLimits(cell_chars=99))


def read_limit_error(data: bytes, limits: ReadLimits) -> readers.LimitError:
    with pytest.raises(readers.LimitError) as caught:
        read_grid(data, "大.xls", limits=limits)
    return caught.value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (readers.OLE_MAGIC + b"\x00" * 504,
         "旧表.xls 不是有效的 Excel（.xls）文件，或已损坏（CalamineError）；请用 Excel 打开后“另存为” Excel 工作簿（.xlsx）再导入"),
        ("<html><body><table><tr><td>地区</td></tr></table></body></html>".encode(),
         "旧表.xls 的扩展名是 .xls，但内容是网页（HTML）或 XML 表格，不是 Excel 工作簿（许多业务系统这样导出）；"
         "请用 Excel 打开它，“另存为” Excel 工作簿（.xlsx）后再导入"),
        (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
         "旧表.xls 的扩展名是 .xls，但内容是网页（HTML）或 XML 表格"),
        (b"\x01\x02\x03 binary \x04\x05",
         "旧表.xls 不是有效的 Excel（.xls）文件（文件开头不是 Excel 格式，可能已损坏）；请用 Excel 打开后“另存为” Excel 工作簿（.xlsx）再导入"),
    ],
)
def test_a_damaged_xls_or_a_web_page_named_xls_is_refused_saying_what_to_do(tmp_path, data, message):
    with pytest.raises(LoadError) as caught:
        read_grid(saved(tmp_path, "旧表.xls", data), "旧表.xls")
    assert str(caught.value).startswith(message)


def test_an_xlsx_or_a_tab_separated_text_named_xls_is_read_as_what_it_is(tmp_path):
    assert read_grid(saved(tmp_path, "新表.xls", workbook({"表": ROWS})), "新表.xls").rows == ROWS
    text = TABLE.replace(",", "\t").encode("gbk")
    grid = read_grid(saved(tmp_path, "导出.xls", text), "导出.xls")
    assert grid.rows == ROWS and grid.description == "CSV 文本，编码 GBK/GB18030，制表符分隔"


def test_an_old_workbook_is_recognised_by_its_content_whatever_its_name(tmp_path):
    data = old_workbook({"表": ROWS})
    assert read_grid(saved(tmp_path, "旧表.csv", data), "旧表.csv").rows == ROWS


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(tmp_path):
    data = saved(tmp_path, "假的.xlsx", TABLE.encode())
    with pytest.raises(LoadError) as caught:
        read_grid(data, "假的.xlsx")
    assert str(caught.value) == "假的.xlsx 不是有效的 Excel（.xlsx）文件（BadZipFile）；请用 Excel 重新保存后再导入"


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t"])
def test_an_empty_file_is_refused(tmp_path, data):
    with pytest.raises(LoadError) as caught:
        read_grid(saved(tmp_path, "空.csv", data), "空.csv")
    assert str(caught.value) == "文件 空.csv 是空的"


def test_a_csv_file_with_a_sheet_asked_for_is_refused():
    with pytest.raises(LoadError, match="^表.csv 是 CSV 文件，没有工作表；请去掉工作表参数$"):
        read_grid(TABLE.encode(), "表.csv", sheet="2")


def test_a_file_over_the_size_limit_is_refused_with_its_size_and_the_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("IPMON_MAX_UPLOAD_MB", "1")
    data = saved(tmp_path, "大.csv", TABLE.encode() + b"0" * (3 * 1048576 // 2))
    with pytest.raises(LoadError) as caught:
        read_grid(data, "大.csv")
    assert str(caught.value) == "文件 大.csv 大小为 1.5 MB，超过上限 1 MB；请按月份或地区拆分后分别导入"


def test_a_file_just_at_the_size_limit_is_read():
    data = TABLE.encode()
    assert read_grid(data, "表.csv", max_bytes=len(data)).rows == ROWS
    with pytest.raises(LoadError, match="超过上限"):
        read_grid(data, "表.csv", max_bytes=len(data) - 1)


def test_the_refusal_states_a_fractional_limit_as_it_was_set(monkeypatch):
    monkeypatch.setenv("IPMON_MAX_UPLOAD_MB", "0.5")
    with pytest.raises(LoadError) as caught:
        read_grid(b"0" * 1048576, "大.csv")
    assert "超过上限 0.5 MB" in str(caught.value)


def test_the_size_limit_is_50_mb_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("IPMON_MAX_UPLOAD_MB", raising=False)
    assert max_upload_bytes() == 50 * 1048576
    monkeypatch.setenv("IPMON_MAX_UPLOAD_MB", "2.5")
    assert max_upload_bytes() == 2621440


def test_a_size_limit_that_is_not_a_number_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("IPMON_MAX_UPLOAD_MB", "fifty")
    with pytest.raises(SettingError, match="环境变量 IPMON_MAX_UPLOAD_MB=「fifty」无效：应为正数"):
        max_upload_bytes()


# --------------------------------------------------------------------------- large files: pyarrow below the head
# Rows after the first HEAD_ROWS are read by pyarrow when they are regular, by the csv module
# otherwise. Either way the grid is what the csv module reads: these tests shrink the head so that
# small texts take the pyarrow path, and compare.


def csv_module_rows(text: str, delimiter: str) -> list[list[str]]:
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


@pytest.fixture
def small_head(monkeypatch):
    monkeypatch.setattr(readers, "HEAD_ROWS", 2)


def test_a_regular_table_below_the_head_is_read_as_columns_with_the_same_rows(small_head):
    text = "2024年6月主要指标\n地区,指标,期间,数值\n" + "".join(f"晋城,专利授权量,2024-{m:02d},{m * 10}\n" for m in range(1, 13))
    grid = read_grid(text.encode("utf-8"), "表.csv")
    assert grid.tail is not None and grid.tail.num_rows == 12
    assert grid.rows == csv_module_rows(text, ",")
    assert grid.row_count == 14


def test_blank_lines_below_the_head_keep_every_row_on_the_line_a_person_sees(small_head):
    text = "地区,数值\n晋城,1\n阳泉,2\n\n大同,3\n,\n太原,4\n"
    grid = read_grid(text.encode("utf-8"), "表.csv")
    assert grid.tail is None  # the csv module read it
    assert grid.rows == [["地区", "数值"], ["晋城", "1"], ["阳泉", "2"], [], ["大同", "3"], ["", ""], ["太原", "4"]]


def test_ragged_rows_below_the_head_are_read_as_the_csv_module_reads_them(small_head):
    text = "地区,数值\n晋城,1\n阳泉,2,多\n大同\n注：单位为件\n"
    grid = read_grid(text.encode("gbk"), "表.csv")
    assert grid.tail is None
    assert grid.rows == csv_module_rows(text, ",")


def test_quotes_and_line_breaks_in_cells_below_the_head_are_read_alike(small_head):
    text = '地区,备注\n晋城,1\n阳泉,"含城区,\r\n沁水县"\n大同," 两端有空格 "\n太原,"说""明"\n朔州,"a"b\n'
    grid = read_grid(text.encode("utf-8-sig"), "表.csv")
    assert grid.tail is not None
    assert grid.rows == csv_module_rows(text, ",")


def test_a_long_quoted_cell_near_the_head_is_read_whole(small_head):
    # the head is read from a prefix of the text, longer until its rows end inside it
    text = '地区,备注\n晋城,1\n阳泉,"' + "长,\n" * 30000 + '"\n大同,2\n'
    grid = read_grid(text.encode("utf-8"), "表.csv", limits=ReadLimits(cell_chars=100_000))
    assert grid.rows == csv_module_rows(text, ",")
    assert grid.rows[2][1].count("长") == 30000 and grid.tail is not None


def test_the_columns_of_a_grid_are_its_rows_padded_or_cut_to_the_header(small_head):
    text = "地区,指标,数值\n晋城,a,1\n阳泉,b,2\n大同,c,3\n"
    grid = read_grid(text.encode("utf-8"), "表.csv")
    assert [column.tolist() for column in grid.columns(1, 2)] == [["晋城", "阳泉", "大同"], ["a", "b", "c"]]
    assert [column.tolist() for column in grid.columns(1, 4)][3] == ["", "", ""]
    assert all(str(column.dtype) == "str" for column in grid.columns(1, 4))


def test_pyarrow_strips_the_same_whitespace_as_python():
    # the pyarrow path strips cells with utf8_trim_whitespace, the csv module path with str.strip
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    others = ["\u200b", "\ufeff", "\u180e", "a"]
    cells = pa.array([f"{c}x{c}" for c in spaces + others])
    assert pc.utf8_trim_whitespace(cells).to_pylist() == [f"{c}x{c}".strip() for c in spaces + others]


def generated_text(seed: int) -> str:
    """A small table as exports write them: quotes, doubled quotes, line breaks and separators in
    quoted cells, stray quotes, padding, full-width text; some with ragged rows or blank lines."""
    rng = random.Random(seed)
    delimiter = rng.choice([",", "\t", ";"])
    pieces = ["晋城", "612", "1,234", '"1,234"', '"含""引号"""', '"两\n行"', '"两\r\n行"', " 空格 ", "\u3000全角\u3000", "",
              'a"b', '"x"y', "１２３", "—", "注：说明", '"a;b\tc"']
    width = rng.randint(1, 5)
    ragged, blank = rng.random() < 0.25, rng.random() < 0.25
    lines = [delimiter.join(rng.choice(pieces) for _ in range(rng.randint(1, 6) if ragged else width))
             for _ in range(rng.randint(3, 12))]
    if blank:
        lines.insert(rng.randrange(len(lines)), "")
    text = rng.choice(["\n", "\r\n", "\r"]).join(["2024年6月指标", "地区" + delimiter + "数值", *lines])
    return text + rng.choice(["", "\n"])


@pytest.mark.parametrize("seed", range(60))
def test_generated_text_reads_the_same_through_pyarrow_or_the_csv_module(small_head, seed):
    text = generated_text(seed)
    for encoding in ("utf-8", "gb18030", "utf-16"):
        data = text.encode(encoding)
        grid = read_grid(data, "表.csv")
        assert grid.rows == csv_module_rows(text, grid.delimiter)


def test_most_generated_text_takes_the_pyarrow_path(small_head):
    # else the comparison above would test the csv module against itself
    taken = sum(read_grid(generated_text(seed).encode("utf-8"), "表.csv").tail is not None for seed in range(60))
    assert taken >= 20


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_saved_without_a_byte_order_mark_is_recognised_not_read_as_gb18030(encoding):
    grid = read_grid(TABLE.encode(encoding), "无BOM.csv")
    assert grid.rows == ROWS and grid.encoding == "utf-16"


@pytest.mark.parametrize("text", [b"a,b\n\nc,d\n", b"a,b\r\rc,d\r", b"a,b\n\rc,d\n", b"a,b\r\n\r\nc,d\r\n", b"a,b\r\nc,d\r\n",
                                  b"a,b\nc,d\n", b"a,b\rc,d\r", b"\n\n", b"\n", b"", b'"x\n\ny",b\n', b"a\n\r"])
def test_a_blank_line_is_found_exactly_where_a_line_break_follows_another(text):
    from etl.readers import _has_blank_line

    expected = any(text.find(pair) >= 0 for pair in (b"\n\n", b"\r\r", b"\n\r"))
    assert _has_blank_line(text, 0) is expected
    assert _has_blank_line(b"x,y\n" + text, 4) is expected  # from an offset, what lies before it aside


def test_a_cell_below_the_head_is_measured_in_characters_not_bytes():
    rows = "".join(f"晋城,{k}\n" for k in range(100))
    within = "地区,备注\n" + rows + "阳泉," + "长" * 1500 + "\n"  # 1,500 characters, 4,500 bytes
    grid = read_grid(within.encode("utf-8"), "表.csv", limits=ReadLimits(cell_chars=2000))
    assert grid.tail is not None and grid.rows[-1][1] == "长" * 1500
    beyond = "地区,备注\n" + rows + "阳泉," + "长" * 2500 + "\n"
    with pytest.raises(readers.LimitError) as caught:
        read_grid(beyond.encode("utf-8"), "表.csv", limits=ReadLimits(cell_chars=2000))
    assert str(caught.value).startswith("表.csv 第 102 行第 2 列的单元格有 2,500 个字符，超过每个单元格 2,000 个字符的上限")
