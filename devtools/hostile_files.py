"""Hostile upload files, generated (never committed as bombs): workbooks written part by part and
CSVs built to hit each of the reader's limits (etl/readers.py, etl/worker.py).

``CASES`` names each one; tests/test_hostile.py asserts how each is refused and ``python -m
bench.hostile`` measures what refusing it costs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from xml.sax.saxutils import escape

from etl.readers import column_letters

HEADER = ["地区", "指标", "期间", "数值"]

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '{shared}</Types>'
)
_SHARED_TYPE = ('<Override PartName="/xl/sharedStrings.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>{shared}</Relationships>')
_SHARED_REL = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'sharedStrings" Target="sharedStrings.xml"/>')


def raw_xlsx(sheet_xml: str | bytes, *, shared: list[str] | None = None, sheet_name: str = "Sheet1") -> bytes:
    """A minimal workbook written part by part, so that a test can say exactly what is inside
    (openpyxl would refuse to write most of these)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(shared=_SHARED_TYPE if shared else ""))
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(name=escape(sheet_name, {'"': "&quot;"})))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(shared=_SHARED_REL if shared else ""))
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared:
            items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
            z.writestr("xl/sharedStrings.xml",
                       '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                       '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                       f'count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>')
    return out.getvalue()


def sheet_xml(rows: list[tuple[int, list[tuple[int, str]]]], *, dimension: str | None = None) -> str:
    """Worksheet XML of (row number, [(column number, inline text or '#<shared index>')])."""
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    for r, cells in rows:
        parts.append(f'<row r="{r}">')
        for c, text in cells:
            ref = f"{column_letters(c)}{r}"
            if text.startswith("#"):
                parts.append(f'<c r="{ref}" t="s"><v>{text[1:]}</v></c>')
            else:
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>')
        parts.append("</row>")
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def header_rows() -> list[tuple[int, list[tuple[int, str]]]]:
    return [(1, [(i + 1, h) for i, h in enumerate(HEADER)])]


# --------------------------------------------------------------------------- the cases


def xfd_cell() -> tuple[str, bytes]:
    """One cell, in the last column of the last row: a reader that pads rows to the sheet's
    dimension builds 17 billion empty cells (a 1.6 KB file)."""
    return "xfd.xlsx", raw_xlsx(sheet_xml([(1048576, [(16384, "x")])], dimension="A1:XFD1048576"))


def xfd_cell_no_dimension() -> tuple[str, bytes]:
    """The same without a <dimension> element: the size is known only from the cells."""
    return "xfd-nodim.xlsx", raw_xlsx(sheet_xml(header_rows() + [(1048576, [(16384, "x")])]))


def huge_shared_string(chars: int = 200 * 1024 * 1024) -> tuple[str, bytes]:
    """The 地区 cell is one shared string of ``chars`` characters (200 MB deflates to ~200 KB)."""
    rows = header_rows() + [(2, [(1, "#0"), (2, "有效发明专利拥有量"), (3, "2025-01"), (4, "1")])]
    return "huge-cell.xlsx", raw_xlsx(sheet_xml(rows), shared=["晋" * 1 + "a" * (chars - 1)])


def huge_cell_csv(chars: int = 100_000) -> tuple[str, bytes]:
    """A 300 KB 地区 cell in a CSV (under the csv module's field limit; name resolution was quadratic)."""
    return "huge-cell.csv", ("地区,指标,期间,数值\n" + "山" * chars + ",有效发明专利拥有量,2025-01,1\n").encode()


def wide_csv(columns: int = 100_000) -> tuple[str, bytes]:
    """A wide table of one indicator and 100,000 unknown columns (1.3 MB)."""
    header = ["地区", "有效发明专利拥有量", *(f"列{i}" for i in range(columns - 2))]
    return "wide.csv", ("2025年1月\n" + ",".join(header) + "\n" + ",".join(["晋城"] + ["1"] * (columns - 1))
                        + "\n").encode()


def many_bad_rows_xlsx(rows: int = 1_000_000) -> tuple[str, bytes]:
    """A million rows, each with an unknown region (an 18 MB xlsx)."""
    body = [(r, [(1, f"x{r}"), (2, "有效发明专利拥有量"), (3, "2025-01"), (4, "1")]) for r in range(2, rows + 2)]
    return "bad-rows.xlsx", raw_xlsx(sheet_xml(header_rows() + body))


def many_bad_rows_csv(rows: int = 1_000_000) -> tuple[str, bytes]:
    """A million rows, each with an unknown region."""
    lines = ["地区,指标,期间,数值"] + [f"x{r},有效发明专利拥有量,2025-01,1" for r in range(rows)]
    return "bad-rows.csv", ("\n".join(lines) + "\n").encode()


def distinct_periods_csv(rows: int = 150_000) -> tuple[str, bytes]:
    """150,000 rows under the row limit, each with its own period, nearly all in the future (5 MB):
    every distinct text is parsed once, and every row is an error."""
    lines = ["地区,指标,期间,数值"] + [f"晋城,有效发明专利拥有量,{2000 + i // 12}-{i % 12 + 1:02d},{i}" for i in range(rows)]
    return "periods.csv", ("\n".join(lines) + "\n").encode()


def cells_at_limit_csv(rows: int = 2_990, columns: int = 1_000) -> tuple[str, bytes]:
    """A wide table just inside the column and cell limits: 2,990 rows of 1,000 columns (~3 million
    cells, 6 MB), one known indicator and 998 unknown columns."""
    header = ["地区", "有效发明专利拥有量", *(f"列{i}" for i in range(columns - 2))]
    body = [",".join(["晋城"] + ["1"] * (columns - 1))] * rows
    return "cells.csv", ("2025年1月\n" + ",".join(header) + "\n" + "\n".join(body) + "\n").encode()


def malformed_xml() -> tuple[str, bytes]:
    """A worksheet part that is not well-formed XML."""
    return "broken.xlsx", raw_xlsx('<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"')


CASES: dict[str, Callable[[], tuple[str, bytes]]] = {
    "xfd_cell": xfd_cell,
    "xfd_cell_no_dimension": xfd_cell_no_dimension,
    "huge_shared_string": huge_shared_string,
    "huge_cell_csv": huge_cell_csv,
    "wide_csv": wide_csv,
    "many_bad_rows_xlsx": many_bad_rows_xlsx,
    "many_bad_rows_csv": many_bad_rows_csv,
    "distinct_periods_csv": distinct_periods_csv,
    "cells_at_limit_csv": cells_at_limit_csv,
    "malformed_xml": malformed_xml,
}
