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
from etl.periods import Period, find_period, parse_period, year_in
from etl.problems import Problem
from etl.readers import Grid
from etl.units import split_header
from monitor.domain.config import Config, normalise_name
from monitor.domain.texts import distinct
from monitor.errors import LoadError, PeriodError, UnknownColumnsError

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
# columns of wide tables computed from the values beside them (a region's share of the total, its
# growth): nothing to load, said with a note (national-office tables have them next to every count)
DERIVED_COLUMN = re.compile(r"构成|占比|比重|份额|同比|环比|增长|增速|增幅|比上年|位次")
FOOTNOTE = re.compile(r"^\s*(注|备注|说明|数据来源|资料来源|来源|填报|制表|审核|单位负责人|统计负责人|(?i:notes?|sources?))\s*[:：\d、]")
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
    period_spec: Period | None = None  # ``period`` as written (a quarter, a year, a range: etl/periods.py)
    column_periods: dict[int, Period] = field(default_factory=dict)  # a wide column whose header names its period
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
            spec = self.period_spec
            if spec is not None and spec.form in ("quarter", "year"):
                parts.append(f"期间 {spec.label}（{source}，记为 {self.period}）")
            else:
                parts.append(f"期间 {self.period}（{source}{'，1 月起累计' if self.cumulative else ''}）")
        return "；".join(parts)


_FOLDED = {canonical: {normalise_name(s) for s in spellings} for canonical, spellings in CANONICAL_COLUMNS.items()}


# English (or pinyin) after Chinese, as the national office's bilingual tables write headers and
# names: 「地区 Regions」, 「有效发明专利 Inventions in Force」, 「内蒙古 Inner Mongolia」
_LATIN_TAIL = re.compile(r"(?<=[\u3400-\u9fff）】)%％])[\s\u3000]*[A-Za-z\u00c0-\u024f]"
                         r"[A-Za-z\u00c0-\u024f0-9\s\u3000\-–,.'’&/:;()（）%]*$")
_LATIN_ONLY = re.compile(r"^[A-Za-z\u00c0-\u024f][^\u3400-\u9fff]*$")


def bare(text: str) -> str:
    """A header or name without the English after it: 「山西 Shanxi」 → 「山西」."""
    return _LATIN_TAIL.sub("", str(text)).strip()


# the country as a row of a table of provinces: loaded as 全国 (100000), not set aside as a total
_NATIONAL = {"全国", "全国总计", "全国合计", "全国合计数", "全国总数", "全国汇总", "全国总量"}
# rows of national-office tables for areas outside the 31 provinces this product knows
_OUTSIDE = {"香港", "澳门", "台湾", "香港特别行政区", "澳门特别行政区", "台湾省", "港澳台", "港澳台地区",
            "新疆生产建设兵团", "新疆兵团", "兵团"}


def is_national(text: str) -> bool:
    return re.sub(r"[\s\u3000]", "", bare(text)) in _NATIONAL


def canonical_of(header: str) -> str | None:
    key = normalise_name(bare(header))
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
_TOTAL_SCOPES = ("全省", "全市", "全区", "全县", "全州", "全盟")


def is_total(text: str) -> bool:
    """合计, 总计, 全省, 全省合计, 全市总计 … but not a county that merely ends in 全区 (万全区), nor
    全国 (the country: a region of its own, ``is_national``)."""
    cleaned = re.sub(r"[\s\u3000]", "", bare(text))
    if cleaned in _TOTAL_WORDS or cleaned in _TOTAL_SCOPES:
        return True
    return any(cleaned.startswith(scope) and cleaned[len(scope):] in _TOTAL_WORDS for scope in _TOTAL_SCOPES)


# --------------------------------------------------------------------------- periods in titles

def period_from_title(text: str) -> tuple[str, bool] | None:
    """(month, cumulative) from a title: 「2024年1-6月」 → ("2024-06", True), 「2024年6月」 →
    ("2024-06", False), 「2024年上半年」 → ("2024-06", True); None when the title names no period.
    The reading itself is etl/periods.py's (``find_period``)."""
    found = find_period(text)
    return (found[0].month, found[0].year_to_date) if found else None


# --------------------------------------------------------------------------- header detection


def _header_score(row: list[str], config: Config, year: int | None = None,
                  periods: dict[int, Period] | None = None, saved: dict[str, ColumnMapping] | None = None,
                  ) -> tuple[int, dict[int, str], dict[int, str]]:
    """How much a row looks like a header: canonical columns and indicator headers it names (by
    the configuration, else by a column mapping ``saved`` for this row's layout). A header that
    names its period (「2024年1-6月知识产权质押融资金额（万元）」) is that indicator, and its period goes
    to ``periods`` (``year``: the title's, for 「1-6月……」)."""
    canonical: dict[int, str] = {}
    indicators: dict[int, str] = {}
    for i, cell in enumerate(row):
        if not cell:
            continue
        c = canonical_of(cell)
        if c and c not in canonical.values():
            canonical[i] = c
            continue
        ind = indicator_of_header(cell, config)
        if ind is None and (found := find_period(cell, year=year)) is not None:
            ind = indicator_of_header(found[1], config)
            if ind and periods is not None:
                periods[i] = found[0]
        if not ind and saved and (m := saved.get(normalise_name(cell))) and m.indicator_id in config.indicator_by_id:
            ind = m.indicator_id
        if ind:
            indicators[i] = ind
    score = len(canonical) * 2 + len(indicators)
    return score, canonical, indicators


def indicator_of_header(cell: str, config: Config) -> str | None:
    """The indicator a wide table's column header names, unit and English aside, or None."""
    for text in dict.fromkeys((cell, bare(cell))):
        name, _unit = split_header(text)
        ind = config.resolve_indicator(text) or config.resolve_indicator(name)
        if ind:
            return ind
    return None


def find_layout(grid: Grid, config: Config, *, period: str | None = None, mappings: SavedMappings | None = None,
                ) -> tuple[Layout, dict[int, str], dict[int, str]]:
    """The header row, title and shape of a grid; raises LoadError when no header can be found
    (UnknownColumnsError when a row with a region column names only columns that are unknown)."""
    best = None
    partial = None  # the first row that names some canonical columns: the likely header
    top = grid.top(HEADER_SCAN_ROWS)
    column_periods: dict[int, Period] = {}
    for index, row in enumerate(top):
        if not any(row):
            continue
        column_periods = {}
        title_year = year_in("　".join(c for above in top[:index] for c in above if c))
        score, canonical, indicators = _header_score(row, config, title_year, column_periods,
                                                     mappings.for_row(row) if mappings else None)
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
            spec, layout.period_source = parse_period(period, year=year_in(title)), "option"
        except PeriodError as e:
            raise LoadError(f"导入参数中的期间：{e}") from e
    elif title and "period" not in canonical.values():
        found = find_period(title)
        spec = found[0] if found else None
        layout.period_source = "title" if found else None
    else:
        spec = None
    if spec is not None:
        layout.period_spec, layout.period, layout.cumulative = spec, spec.month, spec.year_to_date
    if shape == "wide":
        layout.column_periods = {i: p for i, p in column_periods.items() if i in indicators}
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
        "可在数据导入页面把这些列对应到指标，以后同样表头的文件会自动按此导入",
        header_row=index + 1, headers=cells, unknown=unknown)


# --------------------------------------------------------------------------- grid → raw long frame

RAW_COLUMNS = ["region", "indicator", "period", "value", "unit", "line", "column", "cumulative", "is_total",
               "origin", "source_url", "note"]


def _skipped_rows(frame: pd.DataFrame, region: str, regions_found, rows: np.ndarray, file_name: str,
                  notes: list[Problem]) -> np.ndarray:
    """Rows of a national-office table that hold no region of this product, each said with a note:
    an English header or note row under the Chinese one (「Regions」, 「Note: …」: no number
    beside it), and areas outside the 31 provinces (香港, 澳门, 台湾, 新疆生产建设兵团)."""
    english = regions_found.spread([bool(_LATIN_ONLY.match(t)) for t in regions_found.texts], bool) & rows
    outside = regions_found.spread([re.sub(r"[\s\u3000]", "", bare(t)) in _OUTSIDE for t in regions_found.texts],
                                   bool) & rows
    skipped = np.zeros(len(frame), dtype=bool)
    if not (english.any() or outside.any()):
        return skipped
    cells = [name for name in frame.columns if name not in ("line", region)]
    for k in np.flatnonzero(english | outside):
        row = frame.iloc[k]
        text = row[region]
        if english[k] and any(_NUMBER.match(str(row[c])) for c in cells):
            continue  # a row of figures under an unknown name: the region check says so
        skipped[k] = True
        line = int(row["line"])
        why = ("是英文表头或说明行" if english[k] else "不在本系统的地区范围内（31 个省、自治区、直辖市）")
        notes.append(Problem(file_name, line, LABELS["region"], "footnote", text[:40],
                             f"第 {line} 行「{text[:20]}」{why}，已跳过", "info"))
    return skipped


def _as_cell(period: Period | None) -> str | None:
    """A title's or header's period as the raw frame's period cell: its month (with the
    ``cumulative`` flag for 1-N月), or, for a year, a quarter or a range that does not start in
    January, the period as written, which the loader reads with each indicator."""
    if period is None:
        return None
    return period.month if period.form == "month" or (period.form == "range" and period.first == 1) else period.text


_NUMBER = re.compile(r"^[-+]?[\d,，.]+%?$")


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
    every_column_dated = layout.shape == "wide" and set(indicators) <= set(layout.column_periods)
    if not period_from_cell and layout.period is None and not every_column_dated:
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
    if col["region"] != "c0":  # a note written in the first column, beside an empty region cell (序号 first)
        first = distinct(frame["c0"])
        footnote |= empty[col["region"]] & first.spread([bool(FOOTNOTE.match(t)) for t in first.texts], bool)
    said = footnote & ~blank
    for line, text in zip(frame.loc[said, "line"], region_cells[said].where(~empty[col["region"]][said],
                                                                             frame.loc[said, "c0"])):
        notes.append(Problem(grid.file_name, int(line), LABELS["region"], "footnote", text[:40],
                             f"第 {line} 行「{text[:20]}」看起来是注释或说明行，已跳过", "info"))
    skipped = _skipped_rows(frame, col["region"], regions_found, ~blank & ~footnote, grid.file_name, notes)
    # names as written, English aside (「山西 Shanxi」); the country's row under any of its names
    names = [bare(text) for text in regions_found.texts]
    names = ["全国" if is_national(name) else name for name in names]
    totals = regions_found.spread([is_total(name) for name in names], bool)
    frame[col["region"]] = regions_found.text_column(names, frame.index)
    keep = ~blank & ~footnote & ~skipped
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
    written = _as_cell(layout.period_spec)
    if written is not None:
        base["period"] = base["period"].where(base["period"] != "", written) if period_from_cell else written
    base["cumulative"] = (base["period"] == written) & layout.cumulative if layout.cumulative else False

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
            _name, unit = split_header(label)
            if indicator_of_header(label, config) is None and i not in layout.column_periods and \
                    (m := saved.get(normalise_name(label))):
                unit = m.unit  # the unit the person said the column is in
                layout.mapped_columns[label] = m
                notes.append(Problem(grid.file_name, layout.header_row, label, "columns", label,
                                     f"按已保存的列对应关系：{m.describe(config)}", "info"))
            own = layout.column_periods.get(i)
            part = base.assign(indicator=ind, value=frame[f"c{i}"], unit=unit or "", column=label)
            if own is not None and not period_from_cell:  # the header names the column's period
                part = part.assign(period=_as_cell(own), cumulative=own.year_to_date)
            parts.append(part)
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
            elif DERIVED_COLUMN.search(bare(label)):
                notes.append(Problem(grid.file_name, layout.header_row, label, "columns", label,
                                     f"第 {layout.header_row} 行的列「{label}」是由各地区数值算出的占比或增速，不导入",
                                     "info"))
            elif normalise_name(bare(label)) not in IGNORED_HEADERS:
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
