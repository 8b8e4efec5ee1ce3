"""Periods as people write them → the month a value is stored under.

One home for reading a period, wherever it is written: a period cell of a long file, the title
above a table, a column header of a wide table, the ``--period`` option. Statistical staff write
the same month a dozen ways (2024-07, 2024-7, 2024/07, 2024.07, 202407, 2024年7月, an Excel date,
7月 under a title that names the year), year-to-date ranges (1-7月, 1—7月, 1～7月, 1至7月, 上半年,
前三季度, 全年), quarters (2024Q2, 2024年二季度, 2024年第2季度) and years (2024年).

``parse_period`` reads one whole cell and says what is wrong with it in Chinese, and how to write
it; ``find_period`` looks for a period inside longer text (a title, a header). Both give a
``Period``: the months [first, last] of one year, and the form it was written in. Which month a
value is then stored under depends on the indicator (``month_for``): a year is December, a
year-to-date range is its last month (flows keep the ``cumulative`` flag), a quarter is the value at
the end of the quarter for a stock, and cannot be a month's amount for a monthly flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from monitor.errors import LimitError, PeriodError, quoted

Form = Literal["month", "range", "quarter", "year"]

_CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
               "十一": 11, "十二": 12}
_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９－～．／：ＱｑＷ"}
_DASHES = {ord(c): "-" for c in "—–―‐‑−﹣"}  # em, en, horizontal bar, hyphens, minus, small hyphen
# Excel's serial day numbers of 2000-01-01 and 2100-12-31: a five-digit number in a period column
# is a date cell that lost its format (a CSV saved from Excel, a copied column)
_SERIAL_FIRST, _SERIAL_LAST = 36526, 73415
_EXCEL_EPOCH = date(1899, 12, 30)
_HOW = "期间请写作 2024-06（月份）、2024年1-6月（1 月起累计）、2024Q2（季度）或 2024年（年度）"


@dataclass(frozen=True)
class Period:
    """The months ``first`` … ``last`` of ``year``, as written (``form``)."""

    year: int
    first: int
    last: int
    form: Form

    @property
    def month(self) -> str:
        """The month a value of the period is stored under: its last month."""
        return f"{self.year:04d}-{self.last:02d}"

    @property
    def year_to_date(self) -> bool:
        """A running total from January (1-6月, 上半年, 一季度, 全年), not a single month."""
        return self.first == 1 and self.last > 1

    @property
    def text(self) -> str:
        """The period in one canonical spelling that ``parse_period`` reads back as this period."""
        if self.form == "month":
            return self.month
        if self.form == "year":
            return f"{self.year}年"
        if self.form == "quarter":
            return f"{self.year}Q{self.last // 3}"
        return f"{self.year}年{self.first}-{self.last}月"

    @property
    def label(self) -> str:
        """How a message names the period: 「2024年1—6月」, 「2024年第2季度」, 「2024年」."""
        if self.form == "month":
            return f"{self.year}年{self.last}月"
        if self.form == "year":
            return f"{self.year}年"
        if self.form == "quarter":
            return f"{self.year}年第{self.last // 3}季度"
        return f"{self.year}年{self.first}—{self.last}月"


def _clean(text: str) -> str:
    """Full-width digits and dashes as ASCII; every space gone."""
    return re.sub(r"[\s\u3000]", "", str(text).translate(_FULLWIDTH).translate(_DASHES))


# the year of a document number (晋政发〔2021〕20号) is not the period of a table
_DOCUMENT_NUMBER = re.compile(r"[〔\[［【(（]\d{4}[〕\]］】)）]")


def _year(text: str, cell: str) -> int:
    year = int(text)
    if not 1900 <= year <= 2200:
        raise PeriodError(f"「{cell}」不是有效月份（年份应在 1900–2200 之间）")
    return year


def _month(year: int, month: int, cell: str) -> Period:
    if not 1 <= month <= 12:
        raise PeriodError(f"「{cell}」不是有效月份（月份应在 1–12 之间）")
    return Period(year, month, month, "month")


def _range(year: int, first: int, last: int, cell: str) -> Period:
    if not (1 <= first <= 12 and 1 <= last <= 12):
        raise PeriodError(f"「{cell}」不是有效的月份范围（月份应在 1–12 之间）；例如 {year}年1-6月")
    if first > last:
        raise PeriodError(f"「{cell}」的起始月份晚于结束月份；1 月起累计请写作 {year}年1-{first}月")
    return Period(year, first, last, "month" if first == last else "range")


def _day(year: int, month: int, day: int, cell: str) -> Period:
    try:
        date(year, month, day)
    except ValueError:
        raise PeriodError(f"「{cell}」不是存在的日期；期间只需写月份，例如 {year:04d}-{min(max(month, 1), 12):02d}") from None
    return Period(year, month, month, "month")


def _number(word: str) -> int:
    return _CN_NUMBERS[word] if word in _CN_NUMBERS else int(word)


_Y = r"(?P<y>\d{4})"
_CN_MONTH = r"(?:十二|十一|十|一|二|三|四|五|六|七|八|九)"
_M = rf"(?P<m>\d{{1,2}}|{_CN_MONTH})"
_WORDS = {"上半年": (1, 6, "range"), "下半年": (7, 12, "range"), "前三季度": (1, 9, "range"),
          "全年": (1, 12, "year"), "年度": (1, 12, "year"), "年末": (1, 12, "year"), "年底": (1, 12, "year")}
_WORD = "(?P<w>" + "|".join(_WORDS) + ")"
_RANGE_SEP = r"(?:-|~|至|到)"
# Pieces shared by whole cells (_CELL_PATTERNS) and periods inside a text (_FIND_PATTERNS); a cell
# may add a suffix (累计, 份) or leave the year out, a text needs a boundary around the digits.
_YEAR_BEFORE = rf"(?:{_Y}年?)"  # 2024 or 2024年, before a month, a range or a word
_MONTH_RANGE = rf"{_YEAR_BEFORE}?(?P<a>\d{{1,2}})月?{_RANGE_SEP}(?P<b>\d{{1,2}})月"  # 2024年1-6月
_BARE_MONTH = rf"{_M}月(?:份|末|底)?"  # 7月, 七月份


def _compiled(patterns: list[tuple[str, str]]) -> list[tuple[str, re.Pattern]]:
    return [(kind, re.compile(pattern)) for kind, pattern in patterns]


# whole cells, tried in order; ``y`` may be missing (then the year comes from the title)
_CELL_PATTERNS = _compiled([
    ("date", rf"{_Y}(?:[-/.]|年)(?P<m>\d{{1,2}})(?:[-/.]|月)(?P<d>\d{{1,2}})日?"),
    ("quarter", r"(\d{4})-?[Qq]([1-4])|(\d{4})年?(?:第)?([1-4一二三四])季度?"),
    ("range", rf"{_MONTH_RANGE}(?:累计|合计|份)?"),
    ("word", rf"{_YEAR_BEFORE}?{_WORD}(?:累计|合计)?"),
    ("month", rf"{_Y}(?P<sep>[-/.]|年){_M}月?(?:份|末|底)?"),
    ("bare_month", _BARE_MONTH),
    ("year", rf"{_Y}年?度?"),
    ("digits", r"(?P<n>\d{5,8})(?:\.0+)?"),
])


# the spellings nearly every period cell has (2024-07, 2024/7, 2024年7月), read without cleaning
# and without trying every pattern; anything else, or a month or year out of range (its message),
# goes through the general patterns. ASCII digits only: ``\d`` would take other scripts' digits.
_COMMON_MONTH = re.compile(r"([0-9]{4})(?:[-/]([0-9]{1,2})|年([0-9]{1,2})月)")

# Distinct period texts one file may hold: a hundred years of months. A file of indicators holds a
# few months (a national history, a few hundred, each perhaps in two spellings); far more is a
# wrong column taken as the period, or a file made to cost the server a parse per text.
MAX_DISTINCT_PERIODS = 1_200


def parse_period(text, *, year: int | None = None) -> Period:
    """One period cell → a Period; raises PeriodError saying how to write it.

    ``year``: the year a cell without one belongs to (the title's: 「2024年……」 above a column of
    7月, 8月). A time of day after a date (as Excel writes a date cell to CSV) is ignored."""
    if isinstance(text, date):
        return Period(text.year, text.month, text.month, "month")
    cell = str(text).strip()
    if common := _COMMON_MONTH.fullmatch(cell):
        y, m = int(common[1]), int(common[2] or common[3])
        if 1900 <= y <= 2200 and 1 <= m <= 12:
            return Period(y, m, m, "month")
    if cell[:1] in "-+－＋":
        raise PeriodError(f"「{quoted(cell)}」前面多了符号；期间请写作 YYYY-MM（例如 2025-01）")
    s = _clean(re.sub(r"\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "", cell))
    if not s:
        raise PeriodError(f"期间为空；{_HOW}")
    for kind, pattern in _CELL_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            return _from_match(kind, m, cell, year)
    raise PeriodError(f"「{quoted(cell)}」不是可识别的期间；{_HOW}")


def parse_periods(texts: list, *, year: int | None = None, file_name: str = "文件") -> list[Period | PeriodError]:
    """The distinct period texts of one file → each one's Period, or the PeriodError to report.

    Raises LimitError ``periods`` before reading any when there are more than
    ``MAX_DISTINCT_PERIODS`` of them (each would be parsed, and most reported, one by one)."""
    if len(texts) > MAX_DISTINCT_PERIODS:
        raise LimitError("periods", f"{file_name} 的期间列有 {len(texts):,} 种不同的期间，超过 {MAX_DISTINCT_PERIODS:,} 种"
                                    "（100 年的月份）的上限；一个文件通常只含几个月份。请检查期间列是否选对（例如是否"
                                    "把数值或编号当作了期间），期间是否统一写作 2024-06 这样的年-月，"
                                    "或按年份拆分成几个文件，分别导入")
    parsed: list[Period | PeriodError] = []
    for text in texts:
        try:
            parsed.append(parse_period(text, year=year))
        except PeriodError as e:
            parsed.append(e)
    return parsed


def _from_match(kind: str, m: re.Match, cell: str, default_year: int | None) -> Period:
    groups = m.groupdict()
    given = groups.get("y")
    if kind == "quarter":
        y = next(v for v in (m.group(1), m.group(3)) if v)
        q = _number(m.group(2) or m.group(4))
        return Period(_year(y, cell), 3 * q - 2, 3 * q, "quarter")
    if kind == "digits":
        return _from_digits(m["n"], cell)
    year = _year(given, cell) if given else default_year
    if year is None:
        month = groups.get("m") or groups.get("b") or "6"
        raise PeriodError(f"「{quoted(cell)}」没有写年份，标题中也没有年份；请写作 2024-{_number(month):02d} 这样的年-月，"
                          "或在表格标题中写明年份（如「2024年……」）")
    if kind == "date":
        return _day(year, int(m["m"]), int(m["d"]), cell)
    if kind == "range":
        return _range(year, int(m["a"]), int(m["b"]), cell)
    if kind == "word":
        first, last, form = _WORDS[m["w"]]
        return Period(year, first, last, form)
    if kind == "year":
        return Period(year, 1, 12, "year")
    month = _number(m["m"])
    if groups.get("sep") == "." and m["m"] == "1":
        # Excel shows the number 2024.10 as 2024.1: October, or January written short?
        raise PeriodError(f"「{quoted(cell)}」可能是 {year}年1月，也可能是被 Excel 当作数字而去掉末尾 0 的 {year}.10（10 月）；"
                          f"请写作 {year}-01 或 {year}-10（或把该列设为文本格式）")
    return _month(year, month, cell)


def _from_digits(digits: str, cell: str) -> Period:
    """202407 (YYYYMM), 20240731 (YYYYMMDD), or an Excel serial day number such as 45474."""
    if len(digits) == 6:
        return _month(_year(digits[:4], cell), int(digits[4:]), cell)
    if len(digits) == 8:
        return _day(_year(digits[:4], cell), int(digits[4:6]), int(digits[6:]), cell)
    if len(digits) == 5 and _SERIAL_FIRST <= int(digits) <= _SERIAL_LAST:
        day = _EXCEL_EPOCH + timedelta(days=int(digits))
        return Period(day.year, day.month, day.month, "month")
    raise PeriodError(f"「{quoted(cell)}」不是可识别的期间（既不是 6 位的年月如 202407，也不是 Excel 日期）；{_HOW}")


# --------------------------------------------------------------------------- periods in text

# periods inside a longer text, tried in order
_FIND_PATTERNS = _compiled([
    ("range", _MONTH_RANGE),
    ("quarter", r"(\d{4})-?[Qq]([1-4])(?![0-9])|(\d{4})年(?:第)?([1-4一二三四])季度"),
    ("word", rf"{_YEAR_BEFORE}{_WORD}"),
    ("month", rf"{_Y}(?P<sep>年){_M}月"),
    ("month", rf"(?<![0-9]){_Y}(?P<sep>[-/.])(?P<m>\d{{1,2}})(?![0-9])"),
    ("bare_month", rf"(?<![0-9年]){_BARE_MONTH}"),
    ("word", _WORD),
])
_YEAR_IN_TEXT = re.compile(r"(?<![0-9])((?:19|20)\d{2})(?:\s*年|(?![0-9]))")


def find_period(text: str, *, year: int | None = None) -> tuple[Period, str] | None:
    """The period named inside a longer text (a title, a header) and the text without it, or None.

    「2024年1-6月山西省知识产权主要指标」 → 2024年1—6月; 「表 3　2024年各地区有效发明专利」 → 2024年
    (a year alone only when the text names exactly one year: 「2021—2025年」 names no single period).
    ``year``: the year for a period written without one (a header under a title)."""
    s = _DOCUMENT_NUMBER.sub("", _clean(text))
    if not s:
        return None
    impossible = False  # a period is written but cannot be (2024年13月): the text names none
    for kind, pattern in _FIND_PATTERNS:
        for m in pattern.finditer(s):
            try:
                found = _from_match(kind, m, m.group(0), year if year is not None else _one_year(s))
            except PeriodError:
                impossible = True
                continue
            return found, (s[:m.start()] + s[m.end():]).strip()
    only = _one_year(s)
    if only is not None and not impossible:
        m = _YEAR_IN_TEXT.search(s)
        return Period(only, 1, 12, "year"), (s[:m.start()] + s[m.end():]).strip()
    return None


def _one_year(s: str) -> int | None:
    years = {int(y) for y in _YEAR_IN_TEXT.findall(s)}
    return years.pop() if len(years) == 1 and 1900 <= next(iter(years)) <= 2200 else None


def year_in(text: str | None) -> int | None:
    """The year a title names (for cells written without one), or None."""
    if not text:
        return None
    found = find_period(text)
    return found[0].year if found else None


# --------------------------------------------------------------------------- the stored month


def month_for(period: Period, indicator) -> tuple[str, bool]:
    """The month a value of ``indicator`` for ``period`` is stored under, and whether it is a
    running total from January (the loader's ``cumulative`` flag). Raises PeriodError when the
    period cannot be one month's value of the indicator.

    - a month is that month;
    - an annual indicator's year is its December (indicators.yaml: annual values are recorded in
      December); any other period of an annual indicator is stored under its last month, as before;
    - a monthly indicator's year or year-to-date range is its last month, a running total (a stock
      is simply its value at the end);
    - a quarter or a range that does not start in January (4-6月, 下半年) is a stock's value at its
      end; a monthly flow's amount over several months is not any one month's, and is refused."""
    if period.form == "month" or indicator is None:
        return period.month, period.year_to_date
    if indicator.frequency == "annual":
        return period.month, period.year_to_date and period.form != "year"
    if period.year_to_date or period.first == 1:
        return period.month, period.year_to_date
    if indicator.kind == "flow":
        raise PeriodError(
            f"「{period.label}」是 {period.first}—{period.last} 月的合计，不能作为「{indicator.name}」某一个月的数值导入；"
            f"请改报 {period.year}年1-{period.last}月 的累计值，或各月当月值")
    return period.month, False
