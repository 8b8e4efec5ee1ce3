"""A grid of cells → the raw long frame every later step works on.

Real statistical tables have title rows above the header (「2024年1-6月山西省知识产权主要指标」),
Chinese headers, a unit in the header (「有效发明专利（件）」) or in a column of its own, a totals
row (合计 / 全省), footnotes (注：……) below, and come either *long* (one value per row: 地区, 指标,
期间, 数值) or *wide* (one row per region, one column per indicator). This module finds the
header, tells the shapes apart, takes the period from a title when there is no period column, and
emits one record per value with the row and column a person would look at.

Raw long frame columns: region, indicator, period, value, unit, line, column, cumulative,
is_total, origin, source_url, note (all strings except line / cumulative / is_total).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.mappings import ColumnMapping, SavedMappings, layout_signature
from etl.problems import Problem
from etl.readers import Grid
from etl.texts import distinct
from etl.units import split_header
from monitor.config import Config, normalise_name
from monitor.errors import LoadError, PeriodError, UnknownColumnsError
from monitor.periods import parse_month

# Canonical column -> accepted header spellings (compared after normalise_name).
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "region": ("region", "region_code", "地区", "地区代码", "区划代码", "地区名称", "行政区划", "行政区划代码",
               "地市", "市", "城市", "设区市", "县区", "区县", "县市区", "单位名称", "地方", "名称"),
    "indicator": ("indicator", "indicator_id", "指标", "指标名称", "指标代码", "项目"),
    "period": ("period", "month", "期间", "月份", "统计期", "时间", "统计时间", "报告期", "年月"),
    "value": ("value", "数值", "值", "指标值", "数量", "本期", "本月", "本期数"),
    "unit": ("unit", "单位", "计量单位", "指标单位"),
    "origin": ("origin", "来源类型"),
    "source_url": ("source_url", "来源", "来源链接", "数据来源"),
    "note": ("note", "备注", "说明"),
}
REQUIRED_LONG = ("region", "indicator", "value")
LABELS = {"region": "地区", "indicator": "指标", "period": "期间", "value": "数值", "unit": "单位"}
# columns of wide tables that are not indicators and are dropped without a word
IGNORED_HEADERS = {normalise_name(h) for h in ("序号", "编号", "排名", "排序", "名次", "备注", "说明", "注", "合计行")}
FOOTNOTE = re.compile(r"^\s*(注|备注|说明|数据来源|资料来源|来源|填报|制表|审核|单位负责人|统计负责人)\s*[:：\d、]")
HEADER_SCAN_ROWS = 25


@dataclass
class Layout:
    """What was found in the grid, shown above the preview so a person can check it."""

    shape: str  # "long" | "wide"
    header_row: int  # 1-based
    title: str | None
    period: str | None  # the period applied to rows without one (option or title)
    period_source: str | None  # "option" | "title" | None
    cumulative: bool  # the title period is a year-to-date range (1-6月, 上半年)
    indicator_columns: dict[str, str] = field(default_factory=dict)  # header -> indicator id (wide)
    ignored_columns: list[str] = field(default_factory=list)
    # the header row's cells; the columns of a wide table that name nothing known (a person may
    # map them: etl/mappings.py); the columns read through a saved mapping, by header
    headers: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    mapped_columns: dict[str, ColumnMapping] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        """The layout of the header row (etl/mappings.py): what a saved column mapping is kept for."""
        return layout_signature(self.headers)

    @property
    def description(self) -> str:
        shape = "长表（每行一个数值）" if self.shape == "long" else f"宽表（每行一个地区，{len(self.indicator_columns)} 个指标列）"
        parts = [shape, f"表头在第 {self.header_row} 行"]
        if self.title:
            parts.append(f"标题「{self.title}」")
        if self.period:
            source = "来自标题" if self.period_source == "title" else "由导入参数指定"
            parts.append(f"期间 {self.period}（{source}{'，1 月起累计' if self.cumulative else ''}）")
        return "；".join(parts)


_FOLDED = {canonical: {normalise_name(s) for s in spellings} for canonical, spellings in CANONICAL_COLUMNS.items()}


def canonical_of(header: str) -> str | None:
    key = normalise_name(header)
    for canonical, spellings in _FOLDED.items():
        if key in spellings:
            return canonical
    return None


def similar_indicators(config: Config, text: str, limit: int = 3) -> list[str]:
    """Indicator names close to an unknown header, best first (for the message)."""
    names = {n: ind.name for ind in config.indicators for n in ind.names}
    close = difflib.get_close_matches(text, list(names), n=limit * 3, cutoff=0.6)
    return list(dict.fromkeys(names[n] for n in close))[:limit]


_TOTAL_WORDS = ("合计", "总计", "小计", "汇总", "总数")
_TOTAL_SCOPES = ("全省", "全市", "全区", "全国", "全县", "全州", "全盟")


def is_total(text: str) -> bool:
    """合计, 总计, 全省, 全省合计, 全市总计 … but not a county that merely ends in 全区 (万全区)."""
    cleaned = re.sub(r"[\s\u3000]", "", str(text))
    if cleaned in _TOTAL_WORDS or cleaned in _TOTAL_SCOPES:
        return True
    return any(cleaned.startswith(scope) and cleaned[len(scope):] in _TOTAL_WORDS for scope in _TOTAL_SCOPES)


# --------------------------------------------------------------------------- periods in titles

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12}
_YEAR = r"(?P<year>(?:19|20)\d{2})\s*年?"


def period_from_title(text: str) -> tuple[str, bool] | None:
    """(month, cumulative) from a title: 「2024年1-6月」 → ("2024-06", True), 「2024年6月」 →
    ("2024-06", False), 「2024年上半年」 → ("2024-06", True); None when the title names no period."""
    s = re.sub(r"[\s\u3000]", "", str(text)).translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９－～"})
    m = re.search(_YEAR + r"(?P<a>\d{1,2})月?[-—~～至到](?P<b>\d{1,2})月", s)
    if m:
        year, a, b = int(m["year"]), int(m["a"]), int(m["b"])
        if 1 <= a <= b <= 12:
            return f"{year:04d}-{b:02d}", a == 1 and b > 1
    m = re.search(_YEAR + r"(?P<m>一|二|三|四|五|六|七|八|九|十一|十二|十)月", s)
    if m:
        return f"{int(m['year']):04d}-{_CN_DIGITS[m['m']]:02d}", False
    m = re.search(_YEAR + r"(?P<m>\d{1,2})月", s)
    if m and 1 <= int(m["m"]) <= 12:
        return f"{int(m['year']):04d}-{int(m['m']):02d}", False
    for pattern, month, cumulative in (
        (r"上半年", 6, True), (r"前三季度", 9, True), (r"(第一|一)季度", 3, True),
        (r"(全年|年度|年末|年底)", 12, True),
    ):
        m = re.search(_YEAR + pattern, s)
        if m:
            return f"{int(m['year']):04d}-{month:02d}", cumulative
    m = re.search(r"(?P<year>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})(?!\d)", s)
    if m and 1 <= int(m["m"]) <= 12:
        return f"{int(m['year']):04d}-{int(m['m']):02d}", False
    return None


# --------------------------------------------------------------------------- header detection


def _header_score(row: list[str], config: Config, saved: dict[str, ColumnMapping] | None = None,
                  ) -> tuple[int, dict[int, str], dict[int, str]]:
    """How much a row looks like a header: canonical columns and indicator headers it names
    (by the configuration, else by a column mapping ``saved`` for this row's layout)."""
    canonical: dict[int, str] = {}
    indicators: dict[int, str] = {}
    for i, cell in enumerate(row):
        if not cell:
            continue
        c = canonical_of(cell)
        if c and c not in canonical.values():
            canonical[i] = c
            continue
        name, _unit = split_header(cell)
        ind = config.resolve_indicator(cell) or config.resolve_indicator(name)
        if not ind and saved and (m := saved.get(normalise_name(cell))) and m.indicator_id in config.indicator_by_id:
            ind = m.indicator_id
        if ind:
            indicators[i] = ind
    score = len(canonical) * 2 + len(indicators)
    return score, canonical, indicators


def find_layout(grid: Grid, config: Config, *, period: str | None = None, mappings: SavedMappings | None = None,
                ) -> tuple[Layout, dict[int, str], dict[int, str]]:
    """The header row, title and shape of a grid; raises LoadError when no header can be found
    (UnknownColumnsError when a row with a region column names only columns that are unknown)."""
    best = None
    partial = None  # the first row that names some canonical columns: the likely header
    top = grid.top(HEADER_SCAN_ROWS)
    for index, row in enumerate(top):
        if not any(row):
            continue
        score, canonical, indicators = _header_score(row, config, mappings.for_row(row) if mappings else None)
        if partial is None and len(canonical) >= 2:
            partial = (index, canonical)
        has_region = "region" in canonical.values()
        long_ok = has_region and "indicator" in canonical.values() and "value" in canonical.values()
        wide_ok = has_region and len(indicators) >= 1
        if (long_ok or wide_ok) and (best is None or score > best[1]):
            best = (index, score, canonical, indicators, "long" if long_ok else "wide")
            break  # the first header-like row is the header; rows above it are titles
    mappable = _mappable_row(top, config) if best is None else None
    if best is None and partial is not None:
        index, canonical = partial
        missing = [LABELS[c] for c in ("region", "indicator", "value") if c not in canonical.values()]
        raise _header_error(mappable,
            f"{grid.file_name} 第 {index + 1} 行像是表头，但缺少必需的列：{'、'.join(missing)}。长表需要「地区」「指标」"
            "「数值」列（期间可来自「期间」列或标题），宽表需要「地区」列和以指标名称为列名的若干列。"
            f"现有列：{'、'.join(c for c in top[index] if c)}"
        )
    if best is None:
        first = next((r for r in grid.rows if any(r)), [])
        raise _header_error(mappable,
            f"{grid.file_name} 中找不到表头：需要「地区」列，以及「指标」和「数值」列（长表），"
            "或以指标名称为列名的若干列（宽表，例如「有效发明专利（件）」）。"
            f"文件第一行是：{'、'.join(c for c in first if c)[:120] or '（空）'}"
        )
    index, _score, canonical, indicators, shape = best
    title_cells = [c for row in top[:index] for c in row if c]
    title = "　".join(dict.fromkeys(title_cells)) or None
    if shape == "long":
        indicators = {}
    layout = Layout(shape, index + 1, title, None, None, False, headers=list(top[index]))
    if period is not None:
        try:
            layout.period, layout.period_source = parse_month(period), "option"
        except PeriodError as e:
            raise LoadError(f"导入参数中的期间：{e}") from e
    elif title and "period" not in canonical.values():
        found = period_from_title(title)
        if found:
            layout.period, layout.cumulative = found
            layout.period_source = "title"
    return layout, canonical, indicators


def _mappable_row(top: list[list[str]], config: Config) -> tuple[int, list[str], list[str]] | None:
    """The first row with a region column and columns that name nothing known: a header whose
    indicator columns a person could map (etl/mappings.py). (index, cells, unknown cells)."""
    for index, row in enumerate(top):
        _score, canonical, indicators = _header_score(row, config)
        if "region" not in canonical.values():
            continue
        unknown = [c for i, c in enumerate(row) if c and i not in canonical and i not in indicators
                   and normalise_name(c) not in IGNORED_HEADERS]
        return (index, list(row), unknown) if unknown else None
    return None


def _header_error(mappable: tuple[int, list[str], list[str]] | None, message: str) -> LoadError:
    if mappable is None:
        return LoadError(message)
    index, cells, unknown = mappable
    return UnknownColumnsError(
        f"{message}。第 {index + 1} 行的列{'、'.join(f'「{c}」' for c in unknown)}不是已知指标；如果是指标，"
        "可在数据导入页面把这些列对应到指标（命令行：python -m etl mappings add），以后同样表头的文件会自动按此导入",
        header_row=index + 1, headers=cells, unknown=unknown)


# --------------------------------------------------------------------------- grid → raw long frame

RAW_COLUMNS = ["region", "indicator", "period", "value", "unit", "line", "column", "cumulative", "is_total",
               "origin", "source_url", "note"]


def to_raw(grid: Grid, config: Config, *, period: str | None = None, mappings: SavedMappings | None = None,
           ) -> tuple[pd.DataFrame, Layout, list[Problem]]:
    """The raw long frame of a grid, its layout, and notes about skipped rows and columns.
    ``mappings``: the saved column mappings that apply to this upload (etl/mappings.py)."""
    layout, canonical, indicators = find_layout(grid, config, period=period, mappings=mappings)
    header = grid.top(layout.header_row)[-1]
    width = len(header)
    # the body as text columns (Arrow-backed ``str``), short rows padded and long rows cut to the header
    frame = pd.DataFrame({f"c{i}": column for i, column in enumerate(grid.columns(layout.header_row, width))})
    frame["line"] = np.arange(len(frame), dtype="int64") + layout.header_row + 1
    notes: list[Problem] = []
    col = {c: f"c{i}" for i, c in canonical.items()}
    period_from_cell = "period" in col

    if layout.shape == "long":
        missing = [c for c in REQUIRED_LONG if c not in col]
        if missing:  # unreachable by find_layout's rule, kept as a guard for future shapes
            raise LoadError(f"缺少必需的列：{'、'.join(LABELS[c] for c in missing)}")
    if not period_from_cell and layout.period is None:
        raise LoadError(
            f"{grid.file_name} 没有「期间」列，标题中也没有可识别的月份；"
            "请加一列「期间」（如 2024-06），或在标题中写明（如「2024年6月……」），或在导入时指定期间"
        )

    # drop blank rows and footnotes below the table (cells come stripped from the grid)
    empty = {name: (frame[name] == "").to_numpy(bool) for name in frame.columns if name != "line"}
    region_cells = frame[col["region"]]
    blank = np.logical_and.reduce(list(empty.values()))
    others_empty = np.logical_and.reduce([e for name, e in empty.items() if name != col["region"]] or
                                         [np.ones(len(frame), dtype=bool)])
    regions_found = distinct(region_cells)
    footnote = regions_found.spread([bool(FOOTNOTE.match(text)) for text in regions_found.texts], bool) | (
        ~empty[col["region"]] & others_empty & (len(header) > 1))
    for line, text in zip(frame.loc[footnote & ~blank, "line"], region_cells[footnote & ~blank]):
        notes.append(Problem(grid.file_name, int(line), LABELS["region"], "footnote", text[:40],
                             f"第 {line} 行「{text[:20]}」看起来是注释或说明行，已跳过", "info"))
    totals = regions_found.spread([is_total(text) for text in regions_found.texts], bool)
    keep = ~blank & ~footnote
    if not keep.all():
        frame, totals = frame[keep], totals[keep]

    def text_of(name: str) -> pd.Series:
        return frame[col[name]] if name in col else pd.Series("", index=frame.index, dtype=object)

    base = pd.DataFrame({
        "region": text_of("region"),
        "period": text_of("period") if period_from_cell else layout.period,
        "line": frame["line"],
        "origin": text_of("origin"),
        "source_url": text_of("source_url"),
        "note": text_of("note"),
        "is_total": totals,
    })
    if period_from_cell and layout.period is not None:
        base["period"] = base["period"].where(base["period"] != "", layout.period)
    base["cumulative"] = (base["period"] == layout.period) & layout.cumulative if layout.cumulative else False

    if layout.shape == "long":
        raw = base.assign(indicator=text_of("indicator"), value=text_of("value"), unit=text_of("unit"),
                          column=header[int(col["value"][1:])])
        # an indicator cell may carry its unit in brackets: 「专利质押融资额（万元）」 (worked out
        # once per distinct text: a long file repeats a few dozen indicator names)
        indicators_found = distinct(raw["indicator"])
        names, units = [], []
        for full in indicators_found.texts:
            name, unit = split_header(full)
            names.append(name if unit and not config.resolve_indicator(full) else full)
            units.append(unit or "")
        from_name = indicators_found.text_column(units, raw.index)
        # without a unit column every unit comes from the name (kept as objects, as ``where`` on
        # the column of "" gives them)
        raw["unit"] = raw["unit"].where(raw["unit"] != "", from_name) if "unit" in col else from_name.astype(object)
        raw["indicator"] = indicators_found.text_column(names, raw.index)
    else:
        parts = []
        saved = mappings.for_row(header) if mappings else {}
        for i, ind in indicators.items():
            label = header[i]
            name, unit = split_header(label)
            by_config = config.resolve_indicator(label) or config.resolve_indicator(name)
            if not by_config and (m := saved.get(normalise_name(label))):
                unit = m.unit  # the unit the person said the column is in
                layout.mapped_columns[label] = m
                notes.append(Problem(grid.file_name, layout.header_row, label, "columns", label,
                                     f"按已保存的列对应关系：{m.describe(config)}", "info"))
            parts.append(base.assign(indicator=ind, value=frame[f"c{i}"], unit=unit or "",
                                     column=label))
            layout.indicator_columns[label] = ind
        used = set(indicators) | set(canonical)
        for i, label in enumerate(header):
            if i in used or not label:
                continue
            layout.ignored_columns.append(label)
            if (m := saved.get(normalise_name(label))) and m.indicator_id is None:
                layout.mapped_columns[label] = m
                notes.append(Problem(grid.file_name, layout.header_row, label, "columns", label,
                                     f"按已保存的列对应关系：{m.describe(config)}", "info"))
            elif normalise_name(label) not in IGNORED_HEADERS:
                layout.unknown_columns.append(label)
                close = similar_indicators(config, split_header(label)[0])
                hint = f"是否是：{'、'.join(close)}？" if close else ""
                notes.append(Problem(grid.file_name, layout.header_row, label, "columns", label,
                                     f"第 {layout.header_row} 行的列「{label}」不是已知指标，该列不导入；{hint}"
                                     "如果它是指标，可在数据导入页面把它对应到指标（以后同样表头的文件自动按此导入），"
                                     "或改用 indicators.yaml 中的指标名称或别名", "warning"))
        raw = pd.concat(parts, ignore_index=True) if parts else base.assign(indicator="", value="", unit="", column="")
        # a wide table leaves cells of indicators a region does not report blank: nothing to load
        raw = raw[raw["value"] != ""]
    return raw[RAW_COLUMNS].reset_index(drop=True), layout, notes
