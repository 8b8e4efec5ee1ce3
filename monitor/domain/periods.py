"""Months as the unit of time. A month is written "YYYY-MM" and counted as an integer index.

The index (year * 12 + month - 1) makes month arithmetic plain integer arithmetic, which keeps
evaluation vectorisable and free of calendar edge cases.
"""

from __future__ import annotations

import re
from datetime import date

from monitor.domain import clock
from monitor.errors import PeriodError

_MONTH_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


def parse_month(text: str | date) -> str:
    """Normalise "2024-6", "2024/06", "2024年6月" or a date to "2024-06"."""
    if isinstance(text, date):
        return f"{text.year:04d}-{text.month:02d}"
    m = _MONTH_RE.match(str(text))
    if not m:
        raise PeriodError(f"「{text}」不是月份，应写作 YYYY-MM（例如 2024-06）")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1900 <= year <= 2200:
        raise PeriodError(f"「{text}」不是有效月份（年份应在 1900–2200 之间）")
    if not 1 <= month <= 12:
        raise PeriodError(f"「{text}」不是有效月份（月份应在 1–12 之间）")
    return f"{year:04d}-{month:02d}"


def month_index(month: str) -> int:
    """"2024-06" -> 2024 * 12 + 5."""
    m = parse_month(month)
    return int(m[:4]) * 12 + int(m[5:7]) - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, n: int) -> str:
    return month_from_index(month_index(month) + n)


def months_between(start: str, end: str) -> int:
    """Number of months from ``start`` to ``end`` (end - start); negative when end is earlier."""
    return month_index(end) - month_index(start)


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive."""
    return [month_from_index(i) for i in range(month_index(start), month_index(end) + 1)]


def year_of(month: str) -> int:
    return int(parse_month(month)[:4])


def last_full_month(today: date | None = None) -> str:
    """The most recent month that has ended: in November 2026 this is 2026-10."""
    today = today or clock.today()
    return add_months(parse_month(today), -1)


def format_month_cn(month: str) -> str:
    """"2024-06" -> "2024年6月"."""
    m = parse_month(month)
    return f"{int(m[:4])}年{int(m[5:7])}月"
