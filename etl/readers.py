"""Files as received → a grid of cell texts, whatever the format and encoding.

Data staff export from Excel and from their own systems: CSV in UTF-8 (with or without BOM), GBK /
GB18030 or UTF-16 ("Unicode text"), comma, tab or semicolon separated; or .xlsx workbooks with
several sheets. This module only turns bytes into rows of strings, keeping the row numbers a
person sees in Excel; finding the header, the shape and the period is etl/layout.py's job.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath

from monitor.errors import LoadError

DEFAULT_MAX_MB = 50.0
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


def max_upload_bytes() -> int:
    """The size limit: 50 MB unless IPMON_MAX_UPLOAD_MB says otherwise."""
    try:
        mb = float(os.environ.get("IPMON_MAX_UPLOAD_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


@dataclass
class Grid:
    """A sheet of cell texts. ``rows[i]`` is what a person sees as row i + 1."""

    rows: list[list[str]]
    file_name: str
    kind: str  # "csv" | "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        if self.kind == "xlsx":
            return f"Excel 工作簿，工作表「{self.sheet}」" + (f"（共 {len(self.sheets)} 个工作表）" if len(self.sheets) > 1 else "")
        sep = {",": "逗号", "\t": "制表符", ";": "分号"}.get(self.delimiter or ",", self.delimiter)
        return f"CSV 文本，编码 {ENCODING_LABELS.get(self.encoding, self.encoding)}，{sep}分隔"


ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


def read_grid(data: bytes, file_name: str, *, sheet: str | None = None, max_bytes: int | None = None) -> Grid:
    """Bytes of an uploaded file → a Grid. Raises LoadError with a message a person can act on."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise LoadError(
            f"文件 {file_name} 大小为 {len(data) / 1048576:.1f} MB，超过上限 {round(limit / 1048576, 3):g} MB；"
            "请按月份或地区拆分后分别导入"
        )
    if not data.strip():
        raise LoadError(f"文件 {file_name} 是空的")
    suffix = PurePath(file_name).suffix.lower()
    if suffix in EXCEL_SUFFIXES or (suffix not in CSV_SUFFIXES and data[:4] == b"PK\x03\x04"):
        return _read_xlsx(data, file_name, sheet)
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise LoadError(f"{file_name} 是旧版 Excel（.xls）文件；请在 Excel 中“另存为” .xlsx 或 CSV 后再导入")
    if sheet:
        raise LoadError(f"{file_name} 是 CSV 文件，没有工作表；请去掉工作表参数")
    return _read_csv(data, file_name)


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Detect the encoding (never ask): BOMs first, then strict UTF-8, then GB18030 (⊃ GBK)."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"
    except UnicodeDecodeError:
        raise LoadError(f"{file_name} 开头标明了编码（BOM），但内容不是该编码的文字；请用 Excel 重新“另存为” CSV UTF-8 后再导入") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise LoadError(f"无法识别 {file_name} 的文字编码（既不是 UTF-8 也不是 GBK）；请在 Excel 中另存为“CSV UTF-8”后再导入")


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", "\t", ";"):
        counts = [line.count(delimiter) for line in lines]
        # the delimiter of a table appears on most lines, and most often on its widest lines
        score = sum(1 for c in counts if c > 0) * 1000 + max(counts, default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(data: bytes, file_name: str) -> Grid:
    text, encoding = decode(data, file_name)
    delimiter = _sniff_delimiter(text)
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as e:
        raise LoadError(f"{file_name} 不是有效的 CSV：{e}；请检查引号是否成对") from e
    return Grid(rows, file_name, "csv", encoding=encoding, delimiter=delimiter)


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
    """The sheets of an .xlsx workbook (empty for anything that is not one)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return []
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _read_xlsx(data: bytes, file_name: str, sheet: str | None) -> Grid:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise LoadError(f"{file_name} 不是有效的 Excel（.xlsx）文件（{type(e).__name__}）；请用 Excel 重新保存后再导入") from e
    try:
        names = list(book.sheetnames)
        if sheet is None:
            chosen = names[0]
        elif sheet in names:
            chosen = sheet
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            chosen = names[int(sheet) - 1]
        else:
            raise LoadError(f"{file_name} 中没有工作表「{sheet}」；现有工作表：{'、'.join(names)}")
        rows = [[cell_text(v) for v in row] for row in book[chosen].iter_rows(values_only=True)]
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return Grid(rows, file_name, "xlsx", sheet=chosen, sheets=names)
