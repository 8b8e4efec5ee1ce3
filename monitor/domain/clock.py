"""Today, as the product sees it: the one place that reads the calendar.

Everything that defaults to "now" (the last full month, the newest as-of month, form dates, the
time stamp of a write) asks this module, so a demo or a test can fix the date with one setting:

    IPMON_TODAY=2027-01-10 bash scripts/run.sh      # the dashboard as it would look on that day

``IPMON_TODAY`` takes a day (``2027-01-10``) or a month (``2027-01``, read as its first day). Time
stamps keep the real time of day on that date, so two writes in one run still sort in order.
"""

from __future__ import annotations

from datetime import date, datetime

from monitor import settings


def today() -> date:
    """The product's today: ``IPMON_TODAY`` when set, else the system date."""
    return settings.fixed_today() or date.today()


def now() -> datetime:
    """The product's now: today's date (see ``today``) at the real time of day."""
    real = datetime.now()
    fixed = settings.fixed_today()
    return real if fixed is None else datetime.combine(fixed, real.time())
