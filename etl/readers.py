"""Files as received → a grid of cell texts, whatever the format and encoding.

Data staff export from Excel and from their own systems: CSV in UTF-8 (with or without BOM), GBK /
GB18030 or UTF-16 ("Unicode text"), comma, tab or semicolon separated; or .xlsx workbooks with
several sheets. This module only turns bytes into rows of strings, keeping the row numbers a
person sees in Excel; finding the header, the shape and the period is etl/layout.py's job.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from monitor import settings
from monitor.errors import LimitError, LoadError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
# Rows of a CSV read with the csv module and kept as lists: the title and header are among them
# (etl/layout.py scans 25). The rows after them go through pyarrow when they are regular.
HEAD_ROWS = 32
_NOT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # bytes.strip() strips ASCII whitespace
MAX_FAST_COLUMNS = 1000  # wider rows than any table of indicators: the csv module reads them
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of Excel 97–2003 (.xls)


def max_upload_bytes() -> int:
    """The size limit: 50 MB unless IPMON_MAX_UPLOAD_MB says otherwise."""
    return int(settings.max_upload_mb() * 1024 * 1024)


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file the reader accepts before it refuses it, whatever the bytes claim.

    A file under the size limit can still unfold into far more: an xlsx is compressed (a 1.6 KB
    workbook can name cell XFD1048576, a 200 KB one can hold a 200 MB string), and a CSV can have
    100,000 columns. Every limit is checked while reading, before the cells are built, and a refusal
    names the limit (``LimitError.limit``) and how to split the file. The defaults hold a national
    monthly file (3,000 regions × 40 indicators, long or wide) several times over; the CLI's bulk
    loads and the benchmarks pass larger ones."""

    rows: int = 200_000  # rows of the sheet, title and header included
    columns: int = 1_000  # cells of the widest row
    cell_chars: int = 2_000  # characters of one cell (a title, a note or a link is far shorter)
    cells: int = 3_000_000  # non-empty cells of the whole sheet
    # uncompressed size of an xlsx's worksheet and of its shared strings (the zip directory's
    # declared sizes, which Python's zipfile enforces while inflating)
    xml_bytes: int = 256 * 1024 * 1024
    shared_string_bytes: int = 64 * 1024 * 1024
    # an .xls (BIFF) workbook is parsed whole before a cell can be counted (python-calamine: ~100
    # bytes of memory per cell); a cell takes at least 6 bytes of the file (MULRK), so this size
    # holds at most the ``cells`` limit and its parse at most ~300 MB
    xls_bytes: int = 18 * 1024 * 1024
    # wall time for reading an xlsx sheet: openpyxl reads a few thousand rows a second on a busy
    # machine (inline strings far fewer), so a sheet that is small enough by every other limit can
    # still hold a session for minutes. A CSV is read by pyarrow in well under a second.
    seconds: float = 30.0


def read_limits() -> ReadLimits:
    """The limits, with the row limit from IPMON_MAX_UPLOAD_ROWS when set (a whole number)."""
    rows = settings.max_upload_rows()
    return ReadLimits() if rows is None else ReadLimits(rows=rows)


def _too_many_rows(file_name: str, limits: ReadLimits, *, rows: int | None = None, at: int | None = None) -> LimitError:
    """``rows``: how many the file has; ``at``: the row found beyond the limit (an xlsx is read no
    further); neither: more rows with content than the limit, counted no further."""
    said = (f"有 {rows:,} 行，" if rows is not None else f"第 {at:,} 行有内容，" if at is not None
            else "有内容的行数")
    return LimitError("rows", f"{file_name} {said}超过 {limits.rows:,} 行的上限；请按月份或地区拆分成几个文件，分别导入"
                              "（管理员可用环境变量 IPMON_MAX_UPLOAD_ROWS 调整上限）")


def _too_wide(file_name: str, line: int, width: int | None, limits: ReadLimits) -> LimitError:
    """``width`` None: the row has more than ten times the limit (counted no further)."""
    said = f"有 {width:,} 列" if width is not None else f"有超过 {limits.columns * 10:,} 列"
    return LimitError("columns", f"{file_name} 第 {line} 行{said}，超过 {limits.columns:,} 列的上限；"
                                 "请删去多余的列，或按指标拆成几个文件，分别导入")


def _cell_too_long(file_name: str, where: str | None, chars: int, limits: ReadLimits) -> LimitError:
    """``where``: 「第 2 行第 1 列（A2）」, or None when the reader only knows that some cell is too long."""
    said = f"{where}的单元格有 {chars:,} 个字符" if where else f"中有单元格超过 {chars:,} 个字符"
    return LimitError("cell_chars", f"{file_name} {said}，超过每个单元格 {limits.cell_chars:,} 个字符的上限；"
                                    "单元格中应是地区、指标、期间、数值等短文本，请删去或缩短该单元格")


def _too_many_cells(file_name: str, limits: ReadLimits) -> LimitError:
    return LimitError("cells", f"{file_name} 的非空单元格超过 {limits.cells:,} 个的上限；请按月份或地区拆分成几个文件，"
                               "分别导入")


@dataclass
class Grid:
    """A sheet of cell texts, each stripped of surrounding whitespace. Row i + 1 is what a person
    sees as row i + 1 (``rows[i]``).

    The first rows are kept as lists (``head``): the title and the header are found among them. A
    large regular CSV keeps the rows after them as columns of text (``tail``, read by pyarrow), so
    that half a million rows never become half a million Python lists; ``rows`` and ``columns``
    read both parts alike."""

    head: list[list[str]]
    file_name: str
    kind: str  # "csv" | "xlsx" | "xls"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    tail: pa.Table | None = None  # rows len(head) + 1 … as string columns f0, f1, … (all rows equally wide)

    @property
    def rows(self) -> list[list[str]]:
        """Every row as a list of cell texts (builds the lists: for tests, messages and small files)."""
        return self.top(self.row_count)

    @property
    def row_count(self) -> int:
        return len(self.head) + (self.tail.num_rows if self.tail is not None else 0)

    def top(self, n: int) -> list[list[str]]:
        """The first ``n`` rows as lists of cell texts."""
        if self.tail is None or n <= len(self.head):
            return self.head[:n]
        more = self.tail.slice(0, n - len(self.head))
        return self.head + [list(row) for row in zip(*(column.to_pylist() for column in more.columns))]

    def columns(self, start: int, width: int) -> list[pd.Series]:
        """Rows ``start`` … (0-based) as ``width`` columns of text: short rows padded with "", long
        rows cut, as a table with ``width`` columns reads them."""
        head = self.head[start:]
        tail = self.tail if self.tail is not None and self.tail.num_rows else None
        skip = max(start - len(self.head), 0)  # a header below the head (never, with HEAD_ROWS > the scan)
        out = []
        for i in range(width):
            chunks = [pa.array([row[i] if i < len(row) else "" for row in head], pa.string())]
            if tail is not None and i < tail.num_columns:
                chunks.extend(tail.column(i).slice(skip).chunks)
            elif tail is not None:
                chunks.append(pa.array([""] * max(tail.num_rows - skip, 0), pa.string()))
            out.append(pd.Series(pa.chunked_array(chunks, pa.string()), dtype="str"))
        return out

    @property
    def description(self) -> str:
        if self.kind in ("xlsx", "xls"):
            book = "Excel 工作簿" if self.kind == "xlsx" else "旧版 Excel 工作簿（.xls）"
            return f"{book}，工作表「{self.sheet}」" + (f"（共 {len(self.sheets)} 个工作表）" if len(self.sheets) > 1 else "")
        sep = {",": "逗号", "\t": "制表符", ";": "分号"}.get(self.delimiter or ",", self.delimiter)
        return f"CSV 文本，编码 {ENCODING_LABELS.get(self.encoding, self.encoding)}，{sep}分隔"


ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


def read_grid(data: bytes, file_name: str, *, sheet: str | None = None, max_bytes: int | None = None,
              limits: ReadLimits | None = None) -> Grid:
    """Bytes of an uploaded file → a Grid. Raises LoadError with a message a person can act on
    (LimitError when the file is beyond one of ``limits``, by default ``read_limits()``)."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    limits = read_limits() if limits is None else limits
    if len(data) > limit:
        raise LoadError(
            f"文件 {file_name} 大小为 {len(data) / 1048576:.1f} MB，超过上限 {round(limit / 1048576, 3):g} MB；"
            "请按月份或地区拆分后分别导入"
        )
    if not _NOT_BLANK.search(data):  # what ``data.strip()`` keeps, without copying a large file
        raise LoadError(f"文件 {file_name} 是空的")
    suffix = PurePath(file_name).suffix.lower()
    if suffix in EXCEL_SUFFIXES or (suffix not in CSV_SUFFIXES and data[:4] == b"PK\x03\x04"):
        return _read_xlsx(data, file_name, sheet, limits)
    if data[:8] == OLE_MAGIC:
        return _read_xls(data, file_name, sheet, limits)
    if suffix == ".xls":
        _refuse_false_xls(data, file_name)
    if sheet:
        raise LoadError(f"{file_name} 是 CSV 文件，没有工作表；请去掉工作表参数")
    return _read_csv(data, file_name, limits)


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Detect the encoding (never ask): BOMs first, then strict UTF-8, then GB18030 (⊃ GBK)."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"
    except UnicodeDecodeError:
        raise LoadError(f"{file_name} 开头标明了编码（BOM），但内容不是该编码的文字；请用 Excel 重新“另存为” CSV UTF-8 后再导入") from None
    if (utf16 := _utf16_without_bom(data)) is not None:
        try:
            return data.decode(utf16), "utf-16"
        except UnicodeDecodeError:
            raise LoadError(f"{file_name} 看起来是 UTF-16 文本（没有 BOM），但无法按 UTF-16 读取；"
                            "请用 Excel 重新“另存为” CSV UTF-8 后再导入") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise LoadError(f"无法识别 {file_name} 的文字编码（既不是 UTF-8 也不是 GBK）；请在 Excel 中另存为“CSV UTF-8”后再导入")


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le" / "utf-16-be" for UTF-16 text saved without a BOM, else None.

    UTF-8 and GB18030 text never holds a zero byte; UTF-16 holds one in every ASCII character
    (digits, commas, line breaks: every CSV has them), at odd offsets little-endian and at even
    offsets big-endian. GB18030 would decode such bytes into mojibake without complaint."""
    sample = data[:4096]
    zeros = sample.count(0)
    if zeros < 2:
        return None
    odd = sample[1::2].count(0)
    if odd >= 0.9 * zeros:
        return "utf-16-le"
    if zeros - odd >= 0.9 * zeros:
        return "utf-16-be"
    return None


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in _first_lines(text, 30) if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", "\t", ";"):
        counts = [line.count(delimiter) for line in lines]
        # the delimiter of a table appears on most lines, and most often on its widest lines
        score = sum(1 for c in counts if c > 0) * 1000 + max(counts, default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]`` without splitting the whole of a large file."""
    size = 4096
    while True:
        lines = text[:size].splitlines()
        if len(lines) > n or size >= len(text):  # n lines, each ended inside the prefix
            return lines[:n]
        size *= 4


def _read_csv(data: bytes, file_name: str, limits: ReadLimits) -> Grid:
    text, encoding = decode(data, file_name)
    delimiter = _sniff_delimiter(text)
    try:
        head, start, width = _read_head(text, delimiter, file_name, limits)
        _check_rows(head, 0, file_name, limits)
        table = _read_tail(data, text, encoding, start, width, delimiter) if start < len(text) else None
        if table is not None:
            _check_tail(table, len(head), _nonblank(head), file_name, limits)
        if start < len(text) and table is None:  # irregular below the head: the csv module reads it all
            head = _read_all(text, delimiter, file_name, limits)
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise _cell_too_long(file_name, None, csv.field_size_limit(), limits) from None
        raise LoadError(f"{file_name} 不是有效的 CSV：{e}；请检查引号是否成对") from e
    return Grid(head, file_name, "csv", encoding=encoding, delimiter=delimiter, tail=table)


def _nonblank(rows: list[list[str]]) -> int:
    return sum(1 for row in rows for cell in row if cell)


def _check_rows(rows: list[list[str]], first: int, file_name: str, limits: ReadLimits) -> None:
    """Rows ``first`` + 1 … (1-based) against the row, column and cell-length limits."""
    if first + len(rows) > limits.rows:
        raise _too_many_rows(file_name, limits, at=limits.rows + 1)
    for i, row in enumerate(rows, start=first + 1):
        if len(row) > limits.columns:
            raise _too_wide(file_name, i, len(row), limits)
        for j, cell in enumerate(row, start=1):
            if len(cell) > limits.cell_chars:
                raise _cell_too_long(file_name, f"第 {i} 行第 {j} 列", len(cell), limits)
    if _nonblank(rows) > limits.cells:
        raise _too_many_cells(file_name, limits)


def _check_tail(table: pa.Table, first: int, cells: int, file_name: str, limits: ReadLimits) -> None:
    """The rows pyarrow read (rows ``first`` + 1 …) against the limits, column by column."""
    if first + table.num_rows > limits.rows:
        raise _too_many_rows(file_name, limits, rows=first + table.num_rows)
    for j, column in enumerate(table.columns, start=1):
        # a cell has at most as many characters as bytes: count characters only past the limit in bytes
        if (pc.max(pc.binary_length(column)).as_py() or 0) > limits.cell_chars:
            lengths = pc.utf8_length(column)
            if (pc.max(lengths).as_py() or 0) > limits.cell_chars:
                at = pc.indices_nonzero(pc.greater(lengths, limits.cell_chars))[0].as_py()
                raise _cell_too_long(file_name, f"第 {first + at + 1} 行第 {j} 列", lengths[at].as_py(), limits)
        cells += table.num_rows - pc.sum(pc.equal(column, "")).as_py()  # cells trimmed already (_read_tail)
        if cells > limits.cells:
            raise _too_many_cells(file_name, limits)


def _read_all(text: str, delimiter: str, file_name: str, limits: ReadLimits) -> list[list[str]]:
    """Every row by the csv module, checked as it is read (a hostile file is refused at its first
    row beyond a limit, not after all of it is in memory)."""
    rows: list[list[str]] = []
    cells = 0
    for row in csv.reader(_guarded_lines(io.StringIO(text, newline=""), delimiter, file_name, limits, rows),
                          delimiter=delimiter):
        row = [cell.strip() for cell in row]
        _check_rows([row], len(rows), file_name, limits)
        cells += _nonblank([row])
        if cells > limits.cells:
            raise _too_many_cells(file_name, limits)
        rows.append(row)
    return rows


def _guarded_lines(lines, delimiter: str, file_name: str, limits: ReadLimits, rows: list):
    """The physical lines of a CSV, refusing one with ten times more delimiters than the column
    limit before the csv module turns it into a list (50 MB of commas would be 50 million cells).
    ``rows``: the rows read so far, for the row number in the message."""
    for line in lines:
        if len(line) > limits.columns * 10 and line.count(delimiter) >= limits.columns * 10:
            raise _too_wide(file_name, len(rows) + 1, None, limits)
        yield line


def _read_head(text: str, delimiter: str, file_name: str, limits: ReadLimits) -> tuple[list[list[str]], int, int]:
    """The first HEAD_ROWS rows (csv module), where the text after them starts, and how many
    fields the row there has. Reads a prefix of the text, longer until it holds those rows."""
    size = 1 << 16
    while True:
        prefix = text[:size]
        try:
            rows, ends = _rows_of(prefix, delimiter, HEAD_ROWS + 1, file_name, limits)
        except csv.Error:
            if size >= len(text):
                raise
            size *= 4  # the prefix may end inside a quoted cell
            continue
        if len(rows) <= HEAD_ROWS:
            if size >= len(text):  # the whole file is the head
                return rows, len(text), 0
        elif ends[-1] < len(prefix) or size >= len(text):  # the row after the head ended inside the prefix
            if len(rows[-1]) > limits.columns:
                raise _too_wide(file_name, len(rows), len(rows[-1]), limits)
            return rows[:HEAD_ROWS], ends[HEAD_ROWS - 1], len(rows[-1])
        size *= 4


def _rows_of(text: str, delimiter: str, limit: int, file_name: str,
             limits: ReadLimits) -> tuple[list[list[str]], list[int]]:
    """Up to ``limit`` rows of ``text`` (cells stripped) and the offset where each row ends."""
    lines = io.StringIO(text, newline="")
    consumed = 0
    rows, ends = [], []

    def counted():
        nonlocal consumed
        for line in _guarded_lines(lines, delimiter, file_name, limits, rows):
            consumed += len(line)
            yield line

    # the reader takes a line only while the row it reads needs one: after a row, ``consumed``
    # is where the next row starts
    for row in csv.reader(counted(), delimiter=delimiter):
        rows.append([cell.strip() for cell in row])
        ends.append(consumed)
        if len(rows) == limit:
            break
    return rows, ends


def _read_tail(data: bytes, text: str, encoding: str, start: int, width: int, delimiter: str) -> pa.Table | None:
    """The rows of ``text[start:]`` as ``width`` string columns, read by pyarrow; None when the csv
    module might read them differently: a blank line (the csv module keeps it as an empty row,
    which keeps the line numbers), rows of other widths, a field over the csv module's size limit.

    Without blank lines and ragged rows, pyarrow and the csv module agree on quoting (a quote
    inside a field, text after a closing quote, doubled quotes, line breaks in quotes):
    tests/test_readers.py compares the two on generated text."""
    if not 0 < width <= MAX_FAST_COLUMNS or text[start] in "\r\n\ufeff":
        return None
    if encoding in ("utf-8", "utf-8-sig"):  # the bytes as they are: no second encoding of a large file
        offset = len(text[:start].encode("utf-8")) + (3 if encoding == "utf-8-sig" else 0)
    else:
        data, offset = text[start:].encode("utf-8"), 0
    if _has_blank_line(data, offset):
        return None
    body = pa.py_buffer(memoryview(data)[offset:])
    names = [f"f{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            body,
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                              newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid:
        return None
    columns = []
    for column in table.columns:
        limit = csv.field_size_limit()  # the csv module refuses a longer field: let it say so
        if (pc.max(pc.binary_length(column)).as_py() or 0) > limit and pc.max(pc.utf8_length(column)).as_py() > limit:
            return None
        # pyarrow's Unicode whitespace is Python's (str.strip): checked in tests/test_readers.py
        columns.append(pc.utf8_trim_whitespace(column))
    return pa.table(columns, names=names)


def _has_blank_line(data: bytes, offset: int) -> bool:
    """Whether ``data[offset:]`` has a line break followed by another ("\\n\\n", "\\r\\r", "\\n\\r"): a
    blank line, or one inside a quoted cell (either way the csv module reads the text). Looked at
    as bytes by numpy: three ``bytes.find`` passes over a file of many MB took ~6× as long."""
    text = np.frombuffer(data, np.uint8)[offset:]
    if len(text) < 2:
        return False
    after_lf = text[np.flatnonzero(text[:-1] == 10) + 1]
    if ((after_lf == 10) | (after_lf == 13)).any():
        return True
    return bool((text[np.flatnonzero(text[:-1] == 13) + 1] == 13).any())


def cell_text(value) -> str:
    """An Excel cell as the text a person sees (dates as YYYY-MM, whole numbers without '.0')."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


def sheet_names(data: bytes) -> list[str]:
    """The sheets of an .xlsx or .xls workbook (empty for anything that is not one, or one beyond
    the limits: reading it then says why)."""
    if data[:8] == OLE_MAGIC:
        import python_calamine

        if len(data) > read_limits().xls_bytes:
            return []
        try:
            with python_calamine.CalamineWorkbook.from_object(io.BytesIO(data)) as xls:
                return list(xls.sheet_names)
        except Exception:  # a damaged file: reading it says so
            return []
    try:
        book = _open_workbook(data, "", read_limits())
    except LoadError:
        return []
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _unsized_worksheets() -> None:
    """Open read-only sheets without reading their declared size.

    openpyxl (3.1) looks for a sheet's ``<dimension>`` when it opens a workbook, and when there is
    none it parses the whole sheet to find out (a million rows: a minute, before any limit can be
    checked). This reader never uses the declared size (``_sheet_rows``), so openpyxl's excel
    reader is given a worksheet class that skips the search. Idempotent; affects read-only loads
    only, and this module is their only user."""
    import openpyxl.reader.excel as excel
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    if getattr(excel.ReadOnlyWorksheet, "_ipmon_unsized", False):
        return

    class UnsizedWorksheet(ReadOnlyWorksheet):
        _ipmon_unsized = True

        def _get_size(self):
            pass

    excel.ReadOnlyWorksheet = UnsizedWorksheet


def _open_workbook(data: bytes, file_name: str, limits: ReadLimits):
    """The workbook, read only, after its parts' uncompressed sizes are checked against the limits
    (openpyxl reads every shared string when it opens a workbook)."""
    import openpyxl

    _unsized_worksheets()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename.lower()
                if name.endswith("sharedstrings.xml") and info.file_size > limits.shared_string_bytes:
                    raise LimitError("shared_string_bytes", _unpacked_too_large(file_name, "文字", info.file_size,
                                                                                limits.shared_string_bytes))
                if name.startswith("xl/worksheets/") and info.file_size > limits.xml_bytes:
                    raise LimitError("xml_bytes", _unpacked_too_large(file_name, "工作表", info.file_size,
                                                                      limits.xml_bytes))
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except LimitError:
        raise
    except Exception as e:  # zipfile, XML and openpyxl's own errors alike: a file Excel would not open either
        raise LoadError(f"{file_name} 不是有效的 Excel（.xlsx）文件（{type(e).__name__}）；请用 Excel 重新保存后再导入") from e


def _unpacked_too_large(file_name: str, part: str, size: int, limit: int) -> str:
    return (f"{file_name} 解压后的{part}部分有 {size / 1048576:,.0f} MB，超过 {limit / 1048576:,.0f} MB 的上限；"
            "请按月份或地区拆分成几个文件，分别导入")


def _read_xlsx(data: bytes, file_name: str, sheet: str | None, limits: ReadLimits) -> Grid:
    book = _open_workbook(data, file_name, limits)
    try:
        names = list(book.sheetnames)
        chosen = _chosen_sheet(names, sheet, file_name)
        # malformed XML inside a well-formed zip, a cell openpyxl cannot read
        with _damaged_sheet(file_name, chosen, "请用 Excel 打开后重新“另存为” .xlsx 再导入"):
            _count_rows(book, book[chosen], file_name, limits)
            rows = _sheet_rows(book[chosen], file_name, limits)
    finally:
        book.close()
    return Grid(_padded(rows), file_name, "xlsx", sheet=chosen, sheets=names)


def _refuse_false_xls(data: bytes, file_name: str) -> None:
    """A ".xls" that is not an Excel 97–2003 workbook: many business systems save a web page
    (HTML) or an XML spreadsheet under that name, which Excel opens with a warning. Text that is a
    table (tab or comma separated) is read as one; anything else is refused, saying what to do."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n\x00").lower()
    if head.startswith(b"<") or b"<html" in head or b"<table" in head or b"<?xml" in head:
        raise LoadError(f"{file_name} 的扩展名是 .xls，但内容是网页（HTML）或 XML 表格，不是 Excel 工作簿（许多业务系统"
                        "这样导出）；请用 Excel 打开它，“另存为” Excel 工作簿（.xlsx）后再导入")
    try:
        text, _encoding = decode(data[:65536], file_name)
    except LoadError:
        text = ""
    lines = [line for line in _first_lines(text, 5) if line.strip()]
    printable = text and not re.search(r"[\x00-\x08\x0e-\x1f]", text[:4096])
    if not (printable and lines and any(sep in lines[0] for sep in "\t,;")):
        raise LoadError(f"{file_name} 不是有效的 Excel（.xls）文件（文件开头不是 Excel 格式，可能已损坏）；"
                        "请用 Excel 打开后“另存为” Excel 工作簿（.xlsx）再导入")


def _read_xls(data: bytes, file_name: str, sheet: str | None, limits: ReadLimits) -> Grid:
    """An Excel 97–2003 workbook (BIFF8 in a compound file), read by python-calamine, through the
    same limits as an xlsx: its size first (the whole workbook is parsed at once), then the
    sheet's extent, then every row as it is turned into texts (cell length, cells, time)."""
    import python_calamine

    if len(data) > limits.xls_bytes:
        raise LimitError("xls_bytes", f"{file_name} 是旧版 Excel（.xls）文件，大小 {len(data) / 1048576:.1f} MB，超过旧版格式 "
                                      f"{limits.xls_bytes / 1048576:g} MB 的上限；请在 Excel 中“另存为” .xlsx 或 CSV "
                                      "（读取更快、占用内存更少）后再导入，或按月份或地区拆分")
    deadline = time.monotonic() + limits.seconds
    try:
        book = python_calamine.CalamineWorkbook.from_object(io.BytesIO(data))
    except Exception as e:  # calamine's own errors (CalamineError, PasswordError …) and panics alike
        encrypted = "password" in type(e).__name__.lower() or "password" in str(e).lower() or "encrypt" in str(e).lower()
        if encrypted:
            raise LoadError(f"{file_name} 设置了打开密码，无法读取；请在 Excel 中取消密码后“另存为” .xlsx 再导入") from e
        raise LoadError(f"{file_name} 不是有效的 Excel（.xls）文件，或已损坏（{type(e).__name__}）；"
                        "请用 Excel 打开后“另存为” Excel 工作簿（.xlsx）再导入") from e
    try:
        names = list(book.sheet_names)
        chosen = _chosen_sheet(names, sheet, file_name)
        with _damaged_sheet(file_name, chosen, "请用 Excel 打开后“另存为” .xlsx 再导入"):
            worksheet = book.get_sheet_by_name(chosen)
            rows = _xls_rows(worksheet, file_name, limits, deadline)
    finally:
        book.close()
    return Grid(_padded(rows), file_name, "xls", sheet=chosen, sheets=names)


@contextmanager
def _damaged_sheet(file_name: str, sheet: str, advice: str) -> Iterator[None]:
    """Reading a workbook's sheet: a LoadError passes as raised; any other error of the library
    means content it cannot read, said as a LoadError (the sheet is damaged, and ``advice``)."""
    try:
        yield
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(f"{file_name} 的工作表「{sheet}」内容已损坏，无法读取（{type(e).__name__}）；{advice}") from e


def _padded(rows: list[list[str]]) -> list[list[str]]:
    """Every row as wide as the widest, with empty cells."""
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def _chosen_sheet(names: list[str], sheet: str | None, file_name: str) -> str:
    """The sheet named (or numbered, from 1) by ``sheet``, else the first."""
    if not names:
        raise LoadError(f"{file_name} 中没有工作表")
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    raise LoadError(f"{file_name} 中没有工作表「{sheet}」；现有工作表：{'、'.join(names)}")


def _check_deadline(file_name: str, number: int, limits: ReadLimits, deadline: float) -> None:
    """Refuse a workbook still being read at ``deadline`` (row ``number`` is next)."""
    if time.monotonic() > deadline:
        raise LimitError("seconds", f"读取 {file_name} 超过 {limits.seconds:g} 秒仍未读完（已读到第 {number:,} 行）；"
                                    "请在 Excel 中另存为 CSV（读取快得多），或按月份或地区拆分成几个文件，分别导入")


def _counted_cells(file_name: str, number: int, texts: list[str], limits: ReadLimits, cells: int) -> int:
    """``cells`` (the non-empty cells read so far) with row ``number``'s added, refusing a cell
    longer than the limit or a total beyond it."""
    for j, text in enumerate(texts):
        if len(text) > limits.cell_chars:
            raise _cell_too_long(file_name, f"第 {number} 行第 {j + 1} 列（{column_letters(j + 1)}{number}）",
                                 len(text), limits)
    cells += sum(1 for text in texts if text)
    if cells > limits.cells:
        raise _too_many_cells(file_name, limits)
    return cells


def _xls_rows(worksheet, file_name: str, limits: ReadLimits, deadline: float) -> list[list[str]]:
    """The cell texts of an .xls sheet, with the row and column numbers a person sees in Excel.

    calamine yields rows from the first row of the sheet, but columns from the sheet's first used
    column: the columns before it are put back. The sheet's extent is checked before any row is
    turned into texts."""
    start, end = worksheet.start, worksheet.end
    if start is None or end is None:
        return []
    if end[0] + 1 > limits.rows:
        raise _too_many_rows(file_name, limits, rows=end[0] + 1)
    if end[1] + 1 > limits.columns:
        raise _too_wide(file_name, end[0] + 1, end[1] + 1, limits)
    left = [""] * start[1]
    rows: list[list[str]] = []
    cells = 0
    for number, values in enumerate(worksheet.iter_rows(), start=1):
        _check_deadline(file_name, number, limits, deadline)
        texts = left + [cell_text(v) for v in values]
        while texts and not texts[-1]:
            texts.pop()
        cells = _counted_cells(file_name, number, texts, limits, cells)
        rows.append(texts)
    while rows and not rows[-1]:
        rows.pop()
    return rows


_ROW_END = b"</row>"
# a row with no value in it: no cells, or only cells that are empty (a style alone) or whose
# formula gives nothing (=IF(A2="","",…) filled far below the data: Excel writes <v></v>)
_EMPTY_ROW = re.compile(  # attributes of <row>, <c> and <f> hold no "/" (formulas are their text)
    rb"<row\b[^>/]*>(?:\s*<c\b[^>/]*(?:/>|>\s*(?:<f\b[^>/]*(?:/>|>[^<]*</f>)\s*)?(?:<v/>|<v></v>)?\s*</c>))*+\s*</row>")
_SCAN_CHUNK = 8 * 1024 * 1024


def _count_rows(book, worksheet, file_name: str, limits: ReadLimits) -> None:
    """Refuse a sheet with more rows holding a value than the row limit, before a cell is built.

    openpyxl turns a few thousand rows a second into cells; a million-row sheet would reach the
    time limit, not the row limit, after half a minute. The sheet's XML is inflated once and its
    rows are counted as bytes (a closed ``<row>`` less the ones with no value in them), stopping at
    the limit: a second or two for a sheet of a million rows. Rows written with a namespace prefix
    (``<x:row>``, which Excel never writes) are not counted here: the reader's own checks stop them."""
    path = getattr(worksheet, "_worksheet_path", None)
    if path is None:
        return
    counted = 0
    rest = b""
    with book._archive.open(path) as part:
        while chunk := part.read(_SCAN_CHUNK):
            text = rest + chunk
            end = text.rfind(_ROW_END)
            if end < 0:
                rest = text if len(text) <= 2 * _SCAN_CHUNK else b""  # a row this long is the reader's to refuse
                continue
            end += len(_ROW_END)
            whole, rest = text[:end], text[end:]
            counted += whole.count(_ROW_END) - len(_EMPTY_ROW.findall(whole))
            if counted > limits.rows:
                raise _too_many_rows(file_name, limits)


def _sheet_rows(worksheet, file_name: str, limits: ReadLimits) -> list[list[str]]:
    """The cell texts of a sheet, as far as its last non-empty row and column.

    The sheet's declared size (``<dimension>``) is not trusted: a workbook whose only cell is
    XFD1048576 declares 17 billion cells. openpyxl pads a row only as far as its own last cell
    once the declared size is forgotten, and yields a shared empty tuple for a missing row; blank
    rows are kept only when a non-empty row follows them, and every row is checked against the
    limits as it comes."""
    worksheet.reset_dimensions()
    rows: list[list[str]] = []
    blank_run = 0  # blank rows read since the last non-empty one
    cells = 0
    deadline = time.monotonic() + limits.seconds
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        _check_deadline(file_name, number, limits, deadline)
        texts = [cell_text(v) for v in values] if values else []
        while texts and not texts[-1]:
            texts.pop()
        if not texts:
            blank_run += 1
            continue
        if number > limits.rows:
            raise _too_many_rows(file_name, limits, at=number)
        if len(texts) > limits.columns:
            raise _too_wide(file_name, number, len(texts), limits)
        cells = _counted_cells(file_name, number, texts, limits, cells)
        rows.extend([] for _ in range(blank_run))
        blank_run = 0
        rows.append(texts)
    return rows


def column_letters(n: int) -> str:
    """1 → A, 16384 → XFD."""
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters
