"""Today, as the product sees it: the one place that reads the calendar.

Everything that defaults to "now" (the last full month, the newest as-of month, form dates, the
time stamp of a write) asks this module, so a demo or a test can fix the date with one setting:

    IPMON_TODAY=2027-01-10 bash scripts/run.sh      # the dashboard as it would look on that day

``IPMON_TODAY`` takes a day (``2027-01-10``) or a month (``2027-01``, read as its first day). Time
stamps keep the real time of day on that date, so two writes in one run still sort in order.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime

from monitor.errors import SettingError

TODAY_ENV = "IPMON_TODAY"

_TODAY_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")


def _fixed_today() -> date | None:
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return None
    m = _TODAY_RE.match(text)
    try:
        if not m:
            raise ValueError(text)
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise SettingError(f"环境变量 {TODAY_ENV} 的值「{text}」不是日期；应写作 YYYY-MM-DD（例如 2027-01-10）"
                          f"或 YYYY-MM，不设则使用系统日期") from None


def today() -> date:
    """The product's today: ``IPMON_TODAY`` when set, else the system date."""
    return _fixed_today() or date.today()


def now() -> datetime:
    """The product's now: today's date (see ``today``) at the real time of day."""
    real = datetime.now()
    fixed = _fixed_today()
    return real if fixed is None else datetime.combine(fixed, real.time())
