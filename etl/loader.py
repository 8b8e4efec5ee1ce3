"""The loader: file → staged rows (resolved, cast, checked) → a plan (diff against the store) → commit.

Layers: the file as received (kept, content-addressed) → a grid of cell texts
(etl/readers.py) → the raw long frame (etl/layout.py: header, title, long or wide shape) →
staged rows with region codes, indicator ids, months and values in the indicator's unit (this
module) → observations in the store, written by monitor/store/writer.py. The upload page and
``python -m etl load`` both call ``plan_upload`` and ``commit_plan``: one engine, two doors.

Problems are collected, never raised one at a time: errors block the commit, warnings need an
explicit confirmation, info lines are said and need nothing.

A file of half a million values is planned in about a second: every step works on whole columns,
once per distinct text (monitor/domain/texts.py), rows are looked up by integer key codes (monitor/store/keys.py),
the store is read once per plan, and a Python loop runs only over the rows that have a problem.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl import checks
from etl.layout import Layout, is_total, similar_indicators, to_raw
from etl.mappings import SavedMappings
from etl.periods import Period, month_for, parse_periods, year_in
from etl.problems import Problem
from etl.readers import ReadLimits, read_grid
from etl.units import UnitError, conversion_factor, is_unit
from etl.worker import WorkerLimits, WorkerStats, run_bounded
from monitor.domain.config import Config
from monitor.domain.periods import add_months, last_full_month
from monitor.domain.texts import Distinct, distinct, distinct_or
from monitor.errors import LoadError, PeriodError, RegionError, quoted
from monitor.store import writer
from monitor.store.database import Store
from monitor.store.keys import INDICATOR, KEY, MONTH, REGION, KeyCodes, StoredValues, combine
from monitor.store.writer import BatchSource, PlannedDiff, Writer, diff_stored, read_version

MISSING_MARKERS = {"", "—", "-", "--", "－", "——", "/", "nan", "NaN", "None", "无", "…", "...", "N/A", "NA", "null"}
COUNT_UNITS = {"件", "家", "项", "个", "人", "户", "次"}
ORIGINS = ("published", "demo", "upload")
STAGED_COLUMNS = ["region_code", "indicator_id", "month", "value", "line", "column", "origin", "source_url", "note",
                  "cumulative"]
# unknown region names that get "是否是：…" suggestions; the rest of a file's unknown names are only named
SUGGESTED_UNKNOWN = 200
# a totals row may differ from the sum of its rows by rounding: 0.5 % or half a unit
TOTAL_TOLERANCE = (0.005, 0.5)


@dataclass
class LoadPlan:
    """What a load would do, computed before anything is written."""

    file_name: str
    file_hash: str
    rows: pd.DataFrame  # staged: region_code, indicator_id, month, value, line, column, origin, source_url, note
    problems: list[Problem]
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows + old_value + change
    duplicate_of: int | None = None  # a committed batch of an identical file
    duplicate_status: str | None = None  # that batch's status (committed / rolled_back)
    layout: Layout | None = None
    source: str | None = None  # e.g. "CSV 文本，编码 GBK/GB18030，逗号分隔"
    data: bytes | None = field(default=None, repr=False)  # the file as received, kept with the batch
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    # the cell of each problem as typed and in the indicator's unit (etl/preview.py typed_values)
    typed: pd.DataFrame | None = field(default=None, repr=False)
    parse_stats: WorkerStats | None = None  # what reading and checking the file cost (etl/worker.py)
    # the store (Store.identity) and its data_version the diff was read at; None: not one version
    read_at: tuple[str, int] | None = field(default=None, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def changes(self) -> pd.DataFrame:
        """The rows a commit would write (new and changed)."""
        return self.diff[self.diff["change"] != "unchanged"] if not self.diff.empty else self.diff

    def counts(self) -> dict[str, int]:
        change = self.diff["change"] if not self.diff.empty else pd.Series(dtype=str)
        return {
            "total": int(len(self.rows)),
            "new": int((change == "new").sum()),
            "changed": int((change == "changed").sum()),
            "unchanged": int((change == "unchanged").sum()),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }


# --------------------------------------------------------------------------- numbers

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９．－＋，％"}
_NUMBER_WITH_UNIT = re.compile(r"^(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?P<unit>[^\d.%]{1,6})$")


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_number(text: str) -> float | None:
    """'1,234.5', '１２３４', '12%' -> float; missing markers -> None; raises ValueError otherwise."""
    s = _clean_number(str(text))
    if s in MISSING_MARKERS:
        return None
    return float(s.removesuffix("%"))


def _clean_number(s: str) -> str:
    return re.sub(r"[,\s\u3000]", "", s.translate(_FULLWIDTH))


def parse_values(texts: pd.Series) -> pd.DataFrame:
    """Vectorised parse of value cells: value (float or NaN), missing, percent, unit (a unit
    written into the cell, '3.5亿元'), bad (not a number), separator (a comma that is not a
    thousands separator: '1,5'), digits (more significant digits than a double keeps: a
    30-digit number). A separator or digits cell has no value.

    Most cells of a large file are plain decimals ('612', '0.35'): pyarrow reads those; only the
    other cells are cleaned (full-width digits, thousands separators, %, units) and read by
    pandas, as every cell once was."""
    s = texts.astype(str)
    cells = pa.array(s)
    digits = pc.subtract(pc.binary_length(cells), pc.add(pc.count_substring(cells, "."), pc.count_substring(cells, "-")))
    plain = pc.fill_null(pc.and_(pc.match_substring_regex(cells, _PLAIN_NUMBER),
                                 pc.less_equal(digits, _PLAIN_MAX_DIGITS)), False).to_numpy(zero_copy_only=False)
    value = np.full(len(s), np.nan)
    value[plain] = pc.cast(cells.filter(pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
    # pandas reads '-0' as 0 when every cell is a whole number and as -0.0 otherwise: such a cell
    # is left to pandas with the rest
    plain &= ~((value == 0) & np.signbit(value))
    has_fraction = bool(pc.any(pc.match_substring(cells.filter(pa.array(plain)), ".")).as_py()) if plain.any() else False
    rest = _parse_cells(s[~plain], has_fraction=has_fraction)
    if rest is None:  # pandas would read these cells otherwise than within the whole column: read it whole
        plain[:] = False
        rest = _parse_cells(s, has_fraction=False, whole=True)
    value[~plain] = rest["value"].to_numpy()
    parsed = {"value": value}
    for name, default in {"missing": False, "percent": False, "unit": "", "bad": False, "separator": False,
                          "digits": False}.items():
        column = np.full(len(s), default, dtype=object if name == "unit" else bool)
        column[~plain] = rest[name].to_numpy()
        parsed[name] = pd.Series(column, index=s.index, dtype=column.dtype)  # objects stay objects
    return pd.DataFrame(parsed)


# A plain decimal of at most 15 digits is read exactly, correctly rounded, by pyarrow and by pandas
# alike: its digits and its power of ten are exact doubles, divided once.
_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_PLAIN_MAX_DIGITS = 15
# a link shown beside published values and printed in briefings: a web address and nothing else
_LINK = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)
_GROUPED = r"^[-+]?\d{1,3}(?:,\d{3})+(?![\d,])"


def _parse_cells(texts: pd.Series, *, has_fraction: bool, whole: bool = False) -> pd.DataFrame | None:
    """Cells cleaned and read by pandas (``parse_values``'s columns).

    pandas reads a column of whole numbers as integers and a column with any fraction or missing
    cell as floats, which differ for '-0' and beyond 2**53. When the rest of the column holds a
    fraction (``has_fraction``), one is added here, so that these cells are read as floats too.
    None when the cells read as neither integers nor floats (beyond 2**63): only the ``whole``
    column then reads as it always did."""
    s = texts.map(_clean_number)
    missing = s.isin(MISSING_MARKERS)
    # a comma is a thousands separator only between groups of three digits ('1,234.5', '12,345万元');
    # '1,5' is 1.5 in much of Europe and 15 to pandas: neither is taken
    written = texts.map(lambda t: re.sub(r"[\s\u3000]", "", str(t).translate(_FULLWIDTH)))
    separator = ~missing & written.str.contains(",", regex=False) & ~written.str.match(_GROUPED)
    digits = ~missing & ~separator & (s.str.replace(r"[eE].*$", "", regex=True).str.replace(r"[^0-9]", "", regex=True)
                                      .str.strip("0").str.len() > _PLAIN_MAX_DIGITS)
    percent = s.str.endswith("%")
    cells = s.str.removesuffix("%").where(~missing & ~separator & ~digits)
    if has_fraction:
        number = pd.to_numeric(pd.concat([cells, pd.Series(["0.5"], dtype=cells.dtype)]), errors="coerce")
        number = pd.Series(number.to_numpy()[:-1], index=s.index)
    else:
        number = pd.to_numeric(cells, errors="coerce")
    if not whole and number.dtype.kind not in "fi":
        return None
    unit = pd.Series("", index=s.index, dtype=object)
    bad = ~missing & ~separator & ~digits & number.isna()
    if bad.any():
        parts = s[bad].str.extract(_NUMBER_WITH_UNIT)
        ok = parts["num"].notna() & parts["unit"].map(lambda u: isinstance(u, str) and is_unit(u))
        number.loc[ok[ok].index] = parts.loc[ok, "num"].astype(float)
        unit.loc[ok[ok].index] = parts.loc[ok, "unit"]
        bad = ~missing & ~separator & ~digits & number.isna()
    return pd.DataFrame({"value": number.astype("float64"), "missing": missing, "percent": percent, "unit": unit,
                         "bad": bad, "separator": separator, "digits": digits})


# --------------------------------------------------------------------------- regions


def resolve_regions(texts, regions, *, within: str | None = None, title: str | None = None) -> dict[str, str | Exception]:
    """Each region text to a code, or the error to report.

    Short names are often ambiguous nationally (西安 is a city of Shaanxi and a county of 辽源);
    a file is nearly always about one province or city, so ambiguous names are resolved again
    within the deepest region that contains every unambiguous row (or one named in the title).
    """
    resolved: dict[str, str | Exception] = {}
    unknown = 0
    for text in texts:
        try:
            # suggestions scan every name: the first SUGGESTED_UNKNOWN unknown names get them, a file
            # of a hundred thousand unknown names is not a hundred thousand scans
            resolved[text] = regions.resolve(text, within, suggest=unknown < SUGGESTED_UNKNOWN)
        except RegionError as e:
            resolved[text] = e
            unknown += 1
    ambiguous = [t for t, r in resolved.items() if isinstance(r, RegionError) and getattr(r, "candidates", None)]
    if not ambiguous:
        return resolved
    scopes = _context_scopes([r for r in resolved.values() if isinstance(r, str)], regions, title)
    for text in ambiguous:
        for scope in scopes:
            try:
                resolved[text] = regions.resolve(text, scope)
                break
            except RegionError:
                continue
    # a table of provinces (the national office's): 吉林, 河北, 海南 are the provinces
    known = [r for r in resolved.values() if isinstance(r, str)]
    if known and all(regions[c].level in ("province", "country") for c in known):
        for text in ambiguous:
            if isinstance(resolved[text], RegionError):
                provinces = [c for c, _ in resolved[text].candidates if regions[c].level == "province"]
                resolved[text] = provinces[0] if len(provinces) == 1 else resolved[text]
    return resolved


def _context_scopes(codes: list[str], regions, title: str | None) -> list[str]:
    """Candidate scopes, deepest first: a region of the file that other rows of the file lie
    within (晋城市 beside 泽州县), then the common parents of all rows, then a province named in
    the title. A lone 晋城 row does not make 城区 mean 晋城's 城区; 晋城 with its counties does."""
    unique = sorted(set(codes))
    containers = [c for c in unique if any(o != c and regions.is_within(o, c) for o in unique)]
    scopes = sorted(containers, key=lambda c: -len(regions.ancestors(c)))
    if unique:
        chains = [[a.code for a in regions.ancestors(c)] for c in unique]
        common = [c for c in chains[0] if all(c in chain for chain in chains)]
        scopes.extend(c for c in common if c != "100000")
    if title:
        for province in regions.children("100000"):
            if province.name in title or province.short_name in title:
                scopes.append(province.code)
    return list(dict.fromkeys(scopes))


# --------------------------------------------------------------------------- staging


def stage(raw: pd.DataFrame, file_name: str, config: Config, regions, *, today: date | None = None,
          allowed_regions: set[str] | None = None, within: str | None = None,
          title: str | None = None, provenance: bool = True) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    """Resolve, cast and check every row. Returns the good rows, every problem found, and the
    totals rows (parsed like any row, kept apart for the totals check, never loaded)."""
    staged, problems, totals, _codes = _stage(raw, file_name, config, regions, KeyCodes(), today=today,
                                              allowed_regions=allowed_regions, within=within, title=title,
                                              provenance=provenance)
    return staged, problems, totals


def _stage(raw: pd.DataFrame, file_name: str, config: Config, regions, keys: KeyCodes, *, today: date | None,
           allowed_regions: set[str] | None, within: str | None, title: str | None,
           provenance: bool = True) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame, np.ndarray]:
    """``stage``, and the key codes of the good rows (numbered in ``keys``).

    ``provenance``: whether the person loading may say where values come from (来源类型, 来源,
    备注: an administrator, or the CLI's operator). Without it, a row that marks a value as
    published or names a source is an error (a clerk cannot publish "official" figures), and
    the notes column is left out with a note saying so. Links must be http(s) for everyone.

    Each check is a mask over all rows, worked out once per distinct region, indicator, period,
    unit and origin; Problems are written only for the rows that have one. A row's region,
    indicator and period are checked, then its value, which stops at the first of: missing, not a
    number, (a region, indicator or period problem: nothing more to say), percent on a non-%
    indicator, unit, negative count, totals row, origin."""
    latest_allowed = last_full_month(today)
    n = len(raw)
    given = {name: raw[name] if name in raw.columns else None
             for name in ("unit", "column", "cumulative", "is_total", "origin", "source_url", "note")}
    notes_dropped = not provenance and given["note"] is not None and bool((given["note"].astype(str) != "").any())
    if notes_dropped:
        given["note"] = None
    is_total_row = (given["is_total"] if given["is_total"] is not None else raw["region"].map(is_total)).to_numpy(bool)
    lines = raw["line"].to_numpy()

    # regions: texts of rows that are not totals, in the order they first appear
    regions_found = distinct(raw["region"])
    order = pd.unique(regions_found.codes[~is_total_row])
    region_of = resolve_regions([regions_found.texts[c] for c in order], regions, within=within, title=title)
    region_answers = [region_of.get(text) for text in regions_found.texts]
    region_error = ~is_total_row & regions_found.spread([isinstance(r, Exception) for r in region_answers], bool)
    out_of_scope = ~is_total_row & regions_found.spread(
        [allowed_regions is not None and isinstance(r, str) and r not in allowed_regions for r in region_answers], bool)

    indicators_found = distinct(raw["indicator"])
    indicator_ids = [config.resolve_indicator(t) for t in indicators_found.texts]
    definitions = [config.indicator(i) if i is not None else None for i in indicator_ids]
    unknown_indicator = indicators_found.spread([i is None for i in indicator_ids], bool)

    periods_found = distinct(raw["period"])
    period_answers = _months(periods_found, indicators_found, definitions, year_in(title), file_name)
    period_error = period_answers.spread([isinstance(p, Exception) for p in period_answers.texts], bool)
    future = period_answers.spread([not isinstance(p, Exception) and p[0] > latest_allowed
                                    for p in period_answers.texts], bool)

    parsed = parse_values(raw["value"])
    value = parsed["value"].to_numpy(dtype="float64", copy=True)
    missing = parsed["missing"].to_numpy(bool)
    percent = parsed["percent"].to_numpy(bool)
    units = _units(given["unit"], parsed["unit"].to_numpy(object), n)

    ok = ~(unknown_indicator | region_error | out_of_scope | period_error | future)
    separator = ok & parsed["separator"].to_numpy(bool)
    digits = ok & parsed["digits"].to_numpy(bool)
    not_a_number = ~missing & np.isnan(value) & ~separator & ~digits
    not_finite = ok & ~missing & np.isinf(value)  # inf, Infinity, 1e309
    going = ok & ~missing & ~not_a_number & ~separator & ~digits & ~not_finite
    percent_wrong = going & percent & indicators_found.spread([d is not None and d.unit != "%" for d in definitions], bool)
    going &= ~percent_wrong

    # units: one conversion factor per (unit written, indicator)
    unit_wrong = np.zeros(n, dtype=bool)
    with_unit = np.flatnonzero(going & units.spread([bool(u) for u in units.texts], bool))
    if len(with_unit):
        width = len(indicators_found.texts) + 1
        which, pairs = pd.factorize(units.codes[with_unit] * width + indicators_found.codes[with_unit])
        factors = []
        for pair in pairs:
            unit, indicator = divmod(int(pair), width)
            try:
                factors.append(conversion_factor(units.texts[unit], definitions[indicator].unit))
            except UnitError:
                factors.append(np.nan)
        factor = np.array(factors, dtype="float64")[which]
        failed = np.isnan(factor)
        unit_wrong[with_unit[failed]] = True
        value[with_unit[~failed]] = value[with_unit[~failed]] * factor[~failed]
    going &= ~unit_wrong
    negative = going & (value < 0) & indicators_found.spread(
        [d is not None and d.unit in COUNT_UNITS for d in definitions], bool)
    going &= ~negative
    ceiling = indicators_found.spread([d.plausible_max if d is not None and d.plausible_max else np.inf
                                       for d in definitions], "float64")
    implausible = going & (value > ceiling)
    going &= ~implausible
    totals_rows = going & is_total_row
    going &= ~is_total_row
    origins = distinct_or(given["origin"], n, "")
    origin_wrong = going & origins.spread([bool(o) and o not in ORIGINS for o in origins.texts], bool)
    links = distinct_or(given["source_url"], n, "")
    privileged = going & ~origin_wrong & (origins.spread([bool(o) for o in origins.texts], bool)
                                          | links.spread([bool(u) for u in links.texts], bool)) if not provenance \
        else np.zeros(n, dtype=bool)
    link_wrong = going & ~origin_wrong & ~privileged & links.spread([bool(u) and not _LINK.match(u) for u in links.texts],
                                                                     bool)
    good = going & ~origin_wrong & ~privileged & ~link_wrong

    columns = distinct_or(given["column"], n, None)
    columns = Distinct(columns.codes, ["数值" if pd.isna(c) else c for c in columns.texts])
    checks = {"indicator": unknown_indicator, "region": region_error, "scope": out_of_scope,
              "period": period_error, "future": future, "missing": missing, "not_a_number": not_a_number,
              "separator": separator, "digits": digits, "not_finite": not_finite,
              "percent": percent_wrong, "unit": unit_wrong, "negative": negative, "range": implausible,
              "origin": origin_wrong, "provenance": privileged, "link": link_wrong}
    texts = _RowTexts(raw["value"], regions_found, indicators_found, periods_found, columns, units, origins, links)
    problems = _stage_problems(file_name, config, checks, lines, texts, region_answers, definitions,
                               period_answers, value, latest_allowed)
    if notes_dropped:
        problems.insert(0, Problem(file_name, None, "备注", "provenance", None,
                                   "「备注」列未导入：只有管理员可以为数值写备注；该列已忽略，数值照常导入", "info"))

    months = [None if isinstance(p, Exception) else p[0] for p in period_answers.texts]
    cumulative = period_answers.spread([not isinstance(p, Exception) and p[1] for p in period_answers.texts], bool)
    if given["cumulative"] is not None:
        cumulative = cumulative | given["cumulative"].to_numpy(bool)
    # ``x or None``: an origin, link or note left empty is stored as NULL
    or_none = {name: distinct_or(given[name], n, "") for name in ("source_url", "note")}
    # the key and column texts as pandas text (Arrow), one gather per column: every good row has
    # them, and the diff, the commit's key codes and its Arrow rows read them without a
    # conversion of one Python string at a time (nor does the parsing worker pickle them so)
    texts_of = {
        "region_code": regions_found.text_column([r if isinstance(r, str) else None for r in region_answers],
                                                 rows=good),
        "indicator_id": indicators_found.text_column(indicator_ids, rows=good),
        "month": period_answers.text_column(months, rows=good),
        "column": columns.text_column(columns.texts, rows=good),
    }
    objects = {  # as objects: mostly empty (None), which pandas text would turn into NaN
        "origin": origins.spread([o or None for o in origins.texts], rows=good),
        **{name: found.spread([t or None for t in found.texts], rows=good) for name, found in or_none.items()},
    }
    staged = pd.DataFrame({**texts_of, **{name: pd.Series(column, dtype=object) for name, column in objects.items()},
                           "value": value[good], "line": lines[good].astype("int64"), "cumulative": cumulative[good]},
                          columns=STAGED_COLUMNS)
    # the rows' keys, numbered once per distinct region, indicator and period text
    codes = combine(
        regions_found.spread([keys.number(REGION, r) if isinstance(r, str) else -1 for r in region_answers], "int64",
                             rows=good),
        indicators_found.spread([keys.number(INDICATOR, i) if i is not None else -1 for i in indicator_ids], "int64",
                                rows=good),
        period_answers.spread([-1 if m is None else keys.number(MONTH, m) for m in months], "int64", rows=good))
    staged, codes = _drop_duplicates(staged, codes, file_name, problems)
    if totals_rows.any():
        totals_frame = pd.DataFrame({
            "indicator_id": indicators_found.spread(indicator_ids, rows=totals_rows).tolist(),
            "month": period_answers.spread(months, rows=totals_rows).tolist(),
            "value": value[totals_rows].tolist(), "line": [int(x) for x in lines[totals_rows]],
            "column": columns.spread(columns.texts, rows=totals_rows).tolist(),
            "region": regions_found.spread(regions_found.texts, rows=totals_rows).tolist(),
        }).astype({"value": "float64"})
    else:
        totals_frame = pd.DataFrame(columns=["indicator_id", "month", "value", "line", "column", "region"])
    return staged.reset_index(drop=True), problems, totals_frame, codes


def _months(periods: Distinct, indicators: Distinct, definitions: list, year: int | None, file_name: str) -> Distinct:
    """Each row's (month, cumulative), or the PeriodError to report, as a Distinct.

    A period is read once per distinct text (etl/periods.py; ``year``: the title's, for cells
    written without one; more distinct texts than a file of indicators can hold are refused). A month is the same month for every indicator; a year, a quarter or a
    range is looked at with each indicator it is given for (``month_for``), once per pair."""
    parsed = parse_periods(periods.texts, year=year, file_name=file_name)
    if not any(isinstance(p, Period) and p.form != "month" for p in parsed):
        return Distinct(periods.codes, [p if isinstance(p, Exception) else (p.month, p.year_to_date) for p in parsed])
    width = len(indicators.texts) + 1
    which, pairs = pd.factorize(periods.codes * width + indicators.codes)
    answers: list[tuple[str, bool] | PeriodError] = []
    for pair in pairs:
        period, indicator = divmod(int(pair), width)
        if isinstance(parsed[period], Exception):
            answers.append(parsed[period])
            continue
        try:
            answers.append(month_for(parsed[period], definitions[indicator]))
        except PeriodError as e:
            answers.append(e)
    return Distinct(np.asarray(which, dtype="int64"), answers)


def _units(column: pd.Series | None, in_cells: np.ndarray, n: int) -> Distinct:
    """Each row's unit: one written into its value cell ('3.5亿元', rare), else its unit cell."""
    units = distinct_or(column, n, "")
    written = np.flatnonzero(in_cells != "")
    if not len(written):
        return units
    codes, texts = units.codes.copy(), list(units.texts)
    position = {text: k for k, text in enumerate(texts)}
    for row in written:
        codes[row] = position.setdefault(in_cells[row], len(texts))
        if codes[row] == len(texts):
            texts.append(in_cells[row])
    return Distinct(codes, texts)


class _RowTexts(NamedTuple):
    """What a problem message quotes of its row."""

    values: pd.Series
    regions: Distinct
    indicators: Distinct
    periods: Distinct
    columns: Distinct
    units: Distinct
    origins: Distinct
    links: Distinct


def _stage_problems(file_name: str, config: Config, checks: dict[str, np.ndarray], lines: np.ndarray,
                    texts: _RowTexts, region_answers: list, definitions: list, period_answers: Distinct,
                    value: np.ndarray, latest_allowed: str) -> list[Problem]:
    """The problems of the rows flagged in ``checks``, in the order a row-by-row pass says them:
    row by row; within a row indicator, region, period, then the value's problem."""
    said_once = {"indicator": 0, "region": 1, "scope": 1, "period": 2, "future": 2, "provenance": 4, "link": 4}
    found: list[tuple[int, int, str]] = []
    for check, mask in checks.items():
        positions = np.flatnonzero(mask)
        if check in said_once:
            # a wide row carries several values: its region, period or indicator problem is said once per row
            _, first = np.unique(lines[positions], return_index=True)
            positions = positions[np.sort(first)]
        found.extend((int(p), said_once.get(check, 3), check) for p in positions)
    if not found:
        return []
    found.sort()
    cells = texts.values.iloc[[p for p, _, _ in found]].tolist()
    close_to: dict[str, str] = {}
    problems = []
    for (p, _, check), cell in zip(found, cells):
        line = int(lines[p])
        region = texts.regions.texts[texts.regions.codes[p]]
        indicator = texts.indicators.texts[texts.indicators.codes[p]]
        period = texts.periods.texts[texts.periods.codes[p]]
        column = texts.columns.texts[texts.columns.codes[p]]
        if check == "indicator":
            if indicator not in close_to:
                close = similar_indicators(config, indicator)
                close_to[indicator] = f"是否是：{'、'.join(close)}？" if close else ""
            problems.append(Problem(file_name, line, "指标", "indicator", indicator,
                                    f"第 {line} 行「指标」列的「{indicator}」不是已知指标；{close_to[indicator]}"
                                    "请使用 indicators.yaml 中的指标名称、别名或代码"))
        elif check == "region":
            error = region_answers[texts.regions.codes[p]]
            hint = "" if getattr(error, "candidates", None) else "；请核对地区名称，或改用 6 位区划代码"
            problems.append(Problem(file_name, line, "地区", "region", region, f"第 {line} 行「地区」列：{error}{hint}"))
        elif check == "scope":
            problems.append(Problem(file_name, line, "地区", "scope", region,
                                    f"第 {line} 行的地区「{region}」不在您可导入的地区范围内；请删除该行，或联系管理员调整权限"))
        elif check == "period":
            error = period_answers.texts[period_answers.codes[p]]
            problems.append(Problem(file_name, line, "期间", "period", period, f"第 {line} 行「期间」列：{error}"))
        elif check == "future":
            month = period_answers.texts[period_answers.codes[p]][0]
            problems.append(Problem(file_name, line, "期间", "future", period,
                                    f"第 {line} 行的期间 {month} 尚未结束（最近可报送的月份是 {latest_allowed}）；请检查年份和月份"))
        elif check == "missing":
            problems.append(Problem(file_name, line, column, "value", cell,
                                    f"第 {line} 行「{column}」列为空或「{cell}」，按缺失处理（不按 0 计），该值不导入", "info"))
        elif check == "not_a_number":
            problems.append(Problem(file_name, line, column, "value", cell,
                                    f"第 {line} 行「{column}」列的「{cell}」不是数字；请只填数字（可带千分位逗号），缺失请留空或填「—」"))
        elif check == "separator":
            problems.append(Problem(file_name, line, column, "value", cell,
                                    f"第 {line} 行「{column}」列的「{quoted(cell)}」中的逗号不是千分位分隔符，无法确定数值；"
                                    "小数请用小数点（如 1.5），千分位请每三位一个逗号（如 1,500）或不写逗号"))
        elif check == "digits":
            problems.append(Problem(file_name, line, column, "value", quoted(cell),
                                    f"第 {line} 行「{column}」列的「{quoted(cell)}」有效数字超过 15 位，无法准确保存；"
                                    "请核对数值（是否多粘贴了数字），按指标单位填写"))
        elif check == "not_finite":
            problems.append(Problem(file_name, line, column, "value", quoted(cell),
                                    f"第 {line} 行「{column}」列的「{quoted(cell)}」不是有限的数字；请填写实际数值，缺失请留空或填「—」"))
        elif check == "provenance":
            problems.append(Problem(file_name, line, "来源类型/来源", "provenance", None,
                                    f"第 {line} 行填写了「来源类型」或「来源」：只有管理员可以把数值标为公布值或注明来源；"
                                    "请删去这两列（或清空其中的单元格）后重新上传，或请管理员导入"))
        elif check == "link":
            link = texts.links.texts[texts.links.codes[p]]
            problems.append(Problem(file_name, line, "来源", "link", quoted(link),
                                    f"第 {line} 行「来源」列的「{quoted(link)}」不是以 http:// 或 https:// 开头的网址；"
                                    "请填写完整网址，或清空该单元格"))
        elif check == "origin":
            origin = texts.origins.texts[texts.origins.codes[p]]
            problems.append(Problem(file_name, line, "origin", "value", origin,
                                    f"第 {line} 行 origin 应为 {'/'.join(ORIGINS)} 之一"))
        else:
            ind = definitions[texts.indicators.codes[p]]
            if check == "percent":
                problems.append(Problem(file_name, line, column, "unit", cell,
                                        f"第 {line} 行「{ind.name}」的单位是{ind.unit}，不是百分比，但数值「{cell}」带 %；请去掉 % 或核对指标"))
            elif check == "unit":
                unit = texts.units.texts[texts.units.codes[p]]
                problems.append(Problem(file_name, line, column, "unit", unit,
                                        f"第 {line} 行「{ind.name}」的单位「{unit}」无法换算为指标单位「{ind.unit}」；请按{ind.unit}填报或改正单位"))
            elif check == "range":
                problems.append(Problem(file_name, line, column, "range", quoted(cell),
                                        f"第 {line} 行「{ind.name}」的数值 {float(value[p]):,.15g}{ind.unit}超过合理上限 "
                                        f"{ind.plausible_max:,.15g}{ind.unit}；"
                                        + ("百分比请填 0–100 之间的数（12.5 表示 12.5%）" if ind.unit == "%"
                                           else "请核对数值和单位（是否把元填成了亿元，或多填了几位数字）")))
            else:  # negative
                problems.append(Problem(file_name, line, column, "negative", cell,
                                        f"第 {line} 行「{ind.name}」为负数 {float(value[p]):g}；计数不能为负，请核对"))
    return problems


def _drop_duplicates(staged: pd.DataFrame, codes: np.ndarray, file_name: str,
                     problems: list[Problem]) -> tuple[pd.DataFrame, np.ndarray]:
    """The same key twice: an error when the values differ, loaded once when they agree."""
    dup_mask = pd.Index(codes).duplicated(keep=False)
    if not dup_mask.any():
        return staged, codes
    duplicates = staged[dup_mask]
    for _, group in duplicates.groupby(KEY, sort=False):
        lines = "、".join(str(x) for x in group["line"])
        if group["value"].nunique() > 1:
            for rec in group.itertuples():
                problems.append(Problem(file_name, int(rec.line), rec.column, "duplicate", f"{rec.value:g}",
                                        f"第 {lines} 行是同一地区、指标和期间，但数值不同；请只保留正确的一行"))
        else:
            problems.append(Problem(file_name, int(group["line"].iloc[-1]), None, "duplicate", None,
                                    f"第 {lines} 行重复（数值相同），只导入一次", "info"))
    conflicting = np.zeros(len(staged), dtype=bool)
    conflicting[dup_mask] = (duplicates.groupby(KEY)["value"].transform("nunique") > 1).to_numpy()
    keep = ~conflicting
    keep[keep] = ~pd.Index(codes[keep]).duplicated(keep="first")
    return staged[keep], codes[keep]


# --------------------------------------------------------------------------- plan and commit


def plan_load(store: Store, config: Config, regions, raw: pd.DataFrame, *, file_name: str, file_hash: str,
              today: date | None = None, allowed_regions: set[str] | None = None, within: str | None = None,
              population=None, layout: Layout | None = None, notes: list[Problem] | None = None,
              provenance: bool = True) -> LoadPlan:
    """Stage a raw long frame and check it against the store: the preview, nothing written."""
    staged = _staged(raw, file_name, config, regions, today=today, allowed_regions=allowed_regions, within=within,
                     layout=layout, notes=notes, provenance=provenance)
    return _plan_staged(store, config, regions, staged, file_name=file_name, file_hash=file_hash,
                        population=population, layout=layout)


class _Staged(NamedTuple):
    """A file read, shaped and staged: everything that does not need the store."""

    rows: pd.DataFrame
    problems: list[Problem]
    totals: pd.DataFrame
    codes: np.ndarray
    keys: KeyCodes
    cells: pd.DataFrame  # line, column, value, unit, indicator of the raw frame: the cells as typed


def _staged(raw: pd.DataFrame, file_name: str, config: Config, regions, *, today: date | None,
            allowed_regions: set[str] | None, within: str | None, layout: Layout | None,
            notes: list[Problem] | None, provenance: bool) -> _Staged:

    keys = KeyCodes()
    staged, problems, totals, codes = _stage(raw, file_name, config, regions, keys, today=today,
                                             allowed_regions=allowed_regions, within=within,
                                             title=layout.title if layout else None, provenance=provenance)
    problems = [*(notes or []), *problems]
    if staged.empty and not any(p.severity == "error" for p in problems):
        problems.append(Problem(file_name, None, None, "file", None,
                                f"{file_name} 中没有可导入的数值（所有数值单元格都为空）；请填写数值后再导入"))
    problems += checks.totals_problems(config, regions, staged, totals, file_name)  # totals are year-to-date too
    problems += checks.national_problems(config, regions, staged, file_name)
    # the cells as typed, for the check table's 原值/换算后 (etl/preview.py typed_values)
    cells = raw[["line", "column", "value", "unit", "indicator"]]
    return _Staged(staged, problems, totals, codes, keys, cells)


def _plan_staged(store: Store, config: Config, regions, staged: _Staged, *, file_name: str, file_hash: str,
                 population=None, layout: Layout | None = None) -> LoadPlan:
    """The staged rows checked against the store (one read) and diffed: the plan."""
    from etl.preview import typed_values

    rows, problems, keys, codes = staged.rows, list(staged.problems), staged.keys, staged.codes
    wanted = checks.wanted_keys(config, rows, keys, codes, per_capita=population is not None)
    with store.connect() as con:  # one read of the store for every key the checks and the diff look up
        before = read_version(con)
        stored = StoredValues.read(con, keys, wanted)
        found = con.execute("SELECT id, status FROM load_batches WHERE file_hash = ? AND kind = 'load' "
                            "ORDER BY id DESC LIMIT 1", [file_hash]).df()
        # the same version after the read: no write came in between (each bumps it), so the diff
        # holds for the store at that version and the commit need not diff again
        read_at = (store.identity, before) if read_version(con) == before else None
    rows, codes = checks.store_year_to_date(stored, config, rows, file_name, problems, keys=keys, codes=codes)
    problems += checks.store_problems(stored, config, rows, file_name, population, keys=keys, codes=codes)
    order = {"error": 0, "warning": 1, "info": 2}
    problems.sort(key=lambda p: (order[p.severity], p.row or 0, p.column or ""))
    plan = LoadPlan(file_name, file_hash, rows, problems, layout=layout)
    plan.diff = diff_stored(rows, codes, stored, index=keys.index(codes))
    plan.typed = typed_values(staged.cells, problems, config)
    plan.read_at = read_at
    if not found.empty:
        plan.duplicate_of, plan.duplicate_status = int(found["id"].iloc[0]), str(found["status"].iloc[0])
    return plan


class _Parsed(NamedTuple):
    """What the parsing worker hands back (etl/worker.py): the staged file and where it came from."""

    staged: _Staged
    layout: Layout
    source: str
    sheet: str | None
    sheets: list[str]


def _parse(config: Config, regions, data: bytes, file_name: str, *, sheet: str | None, period: str | None,
           today: date | None, allowed_regions: set[str] | None, within: str | None, max_bytes: int | None,
           limits_: ReadLimits | None, provenance: bool, mappings: SavedMappings | None) -> _Parsed:
    """Read, shape and stage a file: the part of a plan a hostile file could make costly, run in
    the worker. Needs no store."""
    grid = read_grid(data, file_name, sheet=sheet, max_bytes=max_bytes, limits=limits_)
    try:
        raw, layout, notes = to_raw(grid, config, period=period, mappings=mappings)
    except LoadError as e:
        if grid.kind in ("xlsx", "xls") and len(grid.sheets) > 1:
            others = "、".join(f"「{s}」" for s in grid.sheets if s != grid.sheet)
            raise LoadError(f"{e}（读取的是工作表「{grid.sheet}」；工作簿中还有 {others}，请选择数据所在的工作表）") from e
        raise
    staged = _staged(raw, file_name, config, regions, today=today, allowed_regions=allowed_regions, within=within,
                     layout=layout, notes=notes, provenance=provenance)
    return _Parsed(staged, layout, grid.description, grid.sheet, grid.sheets)


def plan_upload(store: Store, config: Config, regions, data: bytes, file_name: str, *, population=None,
                sheet: str | None = None, period: str | None = None, today: date | None = None,
                allowed_regions: set[str] | None = None, within: str | None = None,
                max_bytes: int | None = None, limits: ReadLimits | None = None,
                provenance: bool = True, worker: WorkerLimits | None = None,
                mappings: SavedMappings | None = None) -> LoadPlan:
    """The one engine behind the upload page and ``python -m etl load``: any supported file → a plan.

    Raises LoadError for a file that cannot be read at all (size, format, no header; LimitError
    beyond ``limits``, etl/readers.py, or beyond the parsing worker's memory and time, ``worker``,
    etl/worker.py); row-level problems are collected in the plan instead.
    ``provenance`` False (an uploader, not an administrator): see ``_stage``. ``mappings``: the
    saved column mappings that apply to this person's uploads (etl/mappings.py).
    The plan's ``parse_stats`` say what reading and checking the file cost in the worker."""
    parsed, stats = run_bounded(_parse, config, regions, data, file_name, file_name=file_name, limits=worker,
                                sheet=sheet, period=period, today=today, allowed_regions=allowed_regions,
                                within=within, max_bytes=max_bytes, limits_=limits, provenance=provenance,
                                mappings=mappings)
    plan = _plan_staged(store, config, regions, parsed.staged, file_name=file_name, file_hash=file_digest(data),
                        population=population, layout=parsed.layout)
    plan.source, plan.data, plan.sheet, plan.sheets = parsed.source, data, parsed.sheet, parsed.sheets
    plan.parse_stats = stats
    return plan


def commit_plan(store: Store, plan: LoadPlan, *, by: Writer | None = None, origin: str = "upload",
                note: str | None = None, accept_warnings: bool = False, at: datetime | None = None,
                review: bool | None = None, detail: str | None = None, reason: str | None = None) -> int | None:
    """Write a plan through the store's one writer (monitor/store/writer.py commit): all rows or none, the
    diff computed again inside the transaction, the writer's region scope checked again and its
    audit record (``detail``; target 「批次 N」) committed with the batch. Returns the new batch id,
    or None when nothing would change (an identical re-upload writes nothing).

    Refuses a plan with errors, or with warnings not accepted (``accept_warnings``). ``by``: who
    writes; None: the operating-system user, every region, no audit record (a script's or a test's
    write, monitor.store.writer.Writer.internal). ``at``, ``review``, ``reason`` (a correction's, for
    values of closed periods): see monitor.store.writer.commit."""
    if not plan.ok:
        raise LoadError(f"{plan.file_name} 有 {len(plan.errors)} 处错误，未写入任何数据", plan.errors)
    if plan.warnings and not accept_warnings:
        raise LoadError(f"{plan.file_name} 有 {len(plan.warnings)} 条警告，需确认后才能写入", plan.warnings)
    layout = plan.layout
    source = BatchSource(plan.file_name, plan.file_hash, origin=origin, note=note, warnings=len(plan.warnings),
                         sheet=plan.sheet, period=layout.period if layout else None, file_format=plan.source,
                         data=plan.data)
    planned = PlannedDiff(*plan.read_at, plan.diff) if plan.read_at else None
    return writer.commit(store, plan.rows, source, by=by or Writer.internal(), at=at, review=review, detail=detail,
                         reason=reason, planned=planned)


def previous_month(month: str) -> str:
    return add_months(month, -1)
