"""Resident population (常住人口): the denominator of every per-capita indicator.

Figures come from ``data/reference/population.csv``: the 2020 census (七普) and later year-end
estimates, one row per region and year, each with its basis and source.

Which year applies to a month: a figure for year Y applies to every month of Y and of later
years until the next figure. Population is published once a year (the census, then year-end
estimates), and interpolating between years would invent monthly numbers nobody published.
A month earlier than the first published year uses that first year, flagged
``extrapolated_back`` so a page can say so (「人口取 2020 年（七普）」).

Zones without statistics of their own borrow their territory's figures: 杨凌示范区 (619900) is
杨陵区 (610403), whose census row the file carries (see ``monitor.domain.regions.SPECIAL_REGIONS``).
The borrowed rows appear under the zone's code everywhere, ``frame()`` included, so the store
and the derived indicators need no special case.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from monitor import REFERENCE_DIR
from monitor.domain.periods import parse_month, year_of
from monitor.domain.regions import SPECIAL_REGIONS
from monitor.errors import LoadError

DEFAULT_PATH = REFERENCE_DIR / "population.csv"
COLUMNS = ("region_code", "region_name", "year", "population", "basis", "source_url")

# zone code → the code whose figures it borrows (619900 → 610403)
TERRITORIES: dict[str, str] = {
    code: s.region.territory for code, s in SPECIAL_REGIONS.items() if s.region.territory
}

_MONTH_RE = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class PopulationFigure:
    """The population used for a region and period, and where it comes from."""

    value: int
    year: int  # the year the figure is for (year-end, or the census for 2020)
    basis: str  # e.g. 七普常住人口, 年末常住人口
    source_url: str
    # True when the period is earlier than ``year``: no figure at or before the period exists,
    # so the earliest one was used.
    extrapolated_back: bool = False


class Population:
    """Population figures by region code, sorted by year."""

    def __init__(self, figures: Mapping[str, Iterable[PopulationFigure]]):
        self._figures: dict[str, list[PopulationFigure]] = {
            code: sorted(items, key=lambda f: f.year) for code, items in figures.items()
        }
        self._figures = {code: items for code, items in self._figures.items() if items}
        self._years = {code: [f.year for f in items] for code, items in self._figures.items()}
        self._tables: tuple[np.ndarray, np.ndarray, dict[str, int]] | None = None  # see _table

    def __contains__(self, code: object) -> bool:
        return code in self._figures

    @property
    def codes(self) -> list[str]:
        return sorted(self._figures)

    def series(self, code: str) -> list[PopulationFigure]:
        """Every figure for ``code``, oldest first; empty when there is none."""
        return list(self._figures.get(code, ()))

    def lookup(self, code: str, month: str) -> PopulationFigure | None:
        """The figure that applies to ``code`` in ``month`` ("YYYY-MM"), or None without any figure.

        The latest year at or before the month's year is used (a year-Y figure applies to every
        month of Y and later). When every figure is later than the month, the earliest one is
        returned with ``extrapolated_back=True``.
        """
        return self._pick(code, year_of(month))

    def _pick(self, code: str, year: int) -> PopulationFigure | None:
        years = self._years.get(code)
        if not years:
            return None
        at = bisect_right(years, year) - 1
        if at >= 0:
            return self._figures[code][at]
        return replace(self._figures[code][0], extrapolated_back=True)

    def values_by_year(self, codes: Sequence[str], years: Sequence[int]) -> np.ndarray:
        """``lookup``'s population for each code (rows) in each year (columns) as float64, NaN for a
        code without any figure: the matrix the set-based evaluation divides and scales by."""
        table_years, table_values, row_of = self._table()
        rows = np.array([row_of.get(code, -1) for code in codes], dtype=np.int64)
        years = np.asarray(years, dtype=np.int64)
        known = table_years[np.clip(rows, 0, None)]  # figures' years per code, padded with a far future
        # the latest figure at or before each year; before the first figure, the earliest one
        at = np.maximum((known[:, :, None] <= years[None, None, :]).sum(axis=1) - 1, 0)
        out = table_values[np.clip(rows, 0, None)[:, None], at]
        return np.where(rows[:, None] >= 0, out, np.nan)

    def _table(self) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """Every code's figures as two padded matrices (years, values), one row per code: built once."""
        if self._tables is None:
            codes = list(self._figures)
            width = max((len(self._figures[c]) for c in codes), default=1)
            years = np.full((max(len(codes), 1), width), np.iinfo(np.int64).max, dtype=np.int64)
            values = np.full((max(len(codes), 1), width), np.nan)
            for row, code in enumerate(codes):
                figures = self._figures[code]
                years[row, : len(figures)] = [f.year for f in figures]
                values[row, : len(figures)] = [f.value for f in figures]
            self._tables = years, values, {code: row for row, code in enumerate(codes)}
        return self._tables

    def figures_for(self, codes: Sequence[str], months: Sequence[str], *, extrapolate_back: bool = True) -> pd.DataFrame:
        """``lookup`` for many (code, month) pairs at once, aligned with the inputs.

        Returns one row per input pair (a RangeIndex in input order) with columns ``population``
        and ``year`` (nullable Int64, missing where no figure applies), ``basis``, ``source_url``
        and ``extrapolated_back``. With ``extrapolate_back=False``, months before a region's first
        figure get no figure instead of the earliest one.
        """
        codes = list(codes)
        years = _years_of(months)
        if len(codes) != len(years):
            raise ValueError(f"codes and months differ in length: {len(codes)} vs {len(years)}")
        pairs = pd.DataFrame({"code": pd.Series(codes, dtype=object), "year": years})
        # Few distinct (code, year) pairs stand behind many rows: look each up once.
        unique = pairs.drop_duplicates(ignore_index=True)
        rows = []
        for code, year in zip(unique["code"], unique["year"]):
            figure = self._pick(code, int(year)) if isinstance(code, str) else None
            if figure is None or (figure.extrapolated_back and not extrapolate_back):
                rows.append((None, None, None, None, None))
            else:
                rows.append((figure.value, figure.year, figure.basis, figure.source_url, figure.extrapolated_back))
        found = pd.DataFrame(rows, columns=["population", "figure_year", "basis", "source_url", "extrapolated_back"])
        found = pd.concat([unique, found], axis=1)
        aligned = pairs.merge(found, on=["code", "year"], how="left", validate="many_to_one")
        return pd.DataFrame(
            {
                "population": aligned["population"].astype("Int64"),
                "year": aligned["figure_year"].astype("Int64"),
                "basis": aligned["basis"].astype(object),
                "source_url": aligned["source_url"].astype(object),
                "extrapolated_back": aligned["extrapolated_back"].astype("boolean"),
            }
        )

    def population_for_months(
        self, codes: Sequence[str], months: Sequence[str], *, extrapolate_back: bool = True
    ) -> np.ndarray:
        """Population for each (code, month) pair as float64, NaN where no figure applies."""
        frame = self.figures_for(codes, months, extrapolate_back=extrapolate_back)
        return frame["population"].to_numpy(dtype="float64", na_value=np.nan)

    def frame(self) -> pd.DataFrame:
        """Every figure as a table (region_code, year, population, basis, source_url) for the store,
        borrowed zone rows included."""
        records = [
            (code, f.year, f.value, f.basis, f.source_url)
            for code in sorted(self._figures)
            for f in self._figures[code]
        ]
        frame = pd.DataFrame(records, columns=["region_code", "year", "population", "basis", "source_url"])
        return frame.astype({"year": "int64", "population": "int64"})


def _years_of(months: Sequence[str]) -> np.ndarray:
    """The year of each month; "YYYY-MM" is read vectorised, anything else through parse_month."""
    text = pd.Series(list(months), dtype=object).astype(str)
    regular = text.str.fullmatch(_MONTH_RE)
    if not regular.all():
        text = text.where(regular, text[~regular].map(parse_month))
    return text.str.slice(0, 4).astype("int64").to_numpy()


def load_population(path: Path = DEFAULT_PATH) -> Population:
    """Population from ``path`` (default: data/reference/population.csv, read once per process)."""
    if Path(path) == DEFAULT_PATH:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Population:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Population:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LoadError(f"无法读取人口文件 {path}：{exc.strerror}") from exc
    return parse_population(text, source=path.name)


def parse_population(
    text: str, *, source: str = "<text>", territories: Mapping[str, str] = TERRITORIES
) -> Population:
    """Population from CSV text with the columns of population.csv.

    Every problem is collected (a bad code, year or number, a missing basis or source, a
    duplicate region and year) and raised together as LoadError. ``territories`` maps a zone to
    the code whose figures it borrows when it has none of its own.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise LoadError(f"人口文件 {source} 缺少列：{'、'.join(missing)}")
    problems: list[str] = []
    figures: dict[str, list[PopulationFigure]] = {}
    for row_no, row in enumerate(reader, start=2):
        row = {c: (row.get(c) or "").strip() for c in COLUMNS}
        where = f"{source} 第 {row_no} 行"
        found = []
        code = row["region_code"]
        if not (len(code) == 6 and code.isdigit()):
            found.append(f"{where}「region_code」列的值「{code}」不是六位地区代码")
        if not (row["year"].isdigit() and 1900 <= int(row["year"]) <= 2200):
            found.append(f"{where}「year」列的值「{row['year']}」不是年份（应写作 2020 这样的四位数）")
        if not (row["population"].isdigit() and int(row["population"]) > 0):
            found.append(f"{where}「population」列的值「{row['population']}」不是正整数（人数，不带逗号和单位）")
        for column in ("basis", "source_url"):
            if not row[column]:
                found.append(f"{where}「{column}」列为空：每个人口数都要写明口径和来源")
        if found:
            problems.extend(found)
            continue
        year = int(row["year"])
        if any(f.year == year for f in figures.get(code, ())):
            problems.append(f"{where}：地区 {code} 的 {year} 年人口重复出现，请只保留一行")
            continue
        figures.setdefault(code, []).append(
            PopulationFigure(int(row["population"]), year, row["basis"], row["source_url"])
        )
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise LoadError(f"人口文件 {source} 有 {len(problems)} 处错误：\n{listed}", problems)
    for zone, territory in territories.items():
        if zone not in figures and territory in figures:
            figures[zone] = list(figures[territory])
    return Population(figures)
