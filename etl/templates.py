"""Blank upload templates, pre-filled with a province's (or city's) regions and the indicator headers.

Long form: one row per region × indicator (地区, 指标, 期间, 数值, 单位). Wide form: one row per
region, one column per indicator headed 「名称（单位）」, which is what statistical offices
usually keep. Both read back through the same loader; a filled-in template is the reference
file for every shape the loader accepts.
"""

from __future__ import annotations

import io

import pandas as pd

from monitor.domain.config import Config
from monitor.domain.periods import format_month_cn, parse_month
from monitor.store.history import expected_indicators

FORMS = ("long", "wide")


def template_regions(regions, scope: str) -> list:
    """The scope itself and the regions directly below it (a province's cities, a city's counties)."""
    return [regions[scope], *(r for r in regions.children(scope) if not r.is_grouping and r.level != "country")]


def unambiguous_name(regions, region) -> str:
    """The region's name if it resolves to itself alone, else its parent's name before it
    (城区 → 晋城市城区), so a template row filled in on its own still loads."""
    try:
        if regions.resolve(region.name) == region.code:
            return region.name
    except Exception:  # ambiguous (or unknown) on its own
        pass
    return f"{regions[region.parent].name}{region.name}" if region.parent else region.name


def template_frame(config: Config, regions, scope: str, month: str, form: str = "wide") -> pd.DataFrame:
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}")
    month = parse_month(month)
    indicators = [config.indicator(i) for i in expected_indicators(config, month)]
    names = [unambiguous_name(regions, r) for r in template_regions(regions, scope)]
    if form == "long":
        return pd.DataFrame(
            [(name, ind.name, month, "", ind.unit) for name in names for ind in indicators],
            columns=["地区", "指标", "期间", "数值", "单位"],
        )
    frame = pd.DataFrame({"地区": names, "期间": month})
    for ind in indicators:
        frame[f"{ind.name}（{ind.unit}）"] = ""
    return frame


def template_title(regions, scope: str, month: str) -> str:
    return f"{format_month_cn(month)}{regions[scope].name}知识产权主要指标报送表"


def template_csv(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so Excel on Windows shows the Chinese correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def template_xlsx(frame: pd.DataFrame, config: Config, *, title: str) -> bytes:
    """The template as a workbook: a title row, the header, frozen panes, and a sheet explaining
    every indicator (unit and 口径)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "报送表"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(frame.columns))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    for i, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=2, column=i).column_letter].width = max(10, min(28, len(column) * 2 + 2))
    sheet.freeze_panes = "B3"

    notes = book.create_sheet("指标说明")
    notes.append(["指标", "单位", "口径", "别名（导入时也可识别）"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for ind in config.indicators:
        if ind.kind != "derived":
            notes.append([ind.name, ind.unit, ind.description, "、".join(ind.aliases)])
    for letter, width in zip("ABCD", (28, 10, 60, 50)):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
