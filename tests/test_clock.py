"""Today is an input of the product: IPMON_TODAY fixes it, the system date is the fallback."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from monitor.domain import clock
from monitor.domain.periods import last_full_month
from monitor.errors import SettingError


def test_a_fixed_day_is_today_and_decides_the_last_full_month(monkeypatch):
    monkeypatch.setenv("IPMON_TODAY", "2027-01-10")
    assert clock.today() == date(2027, 1, 10)
    assert last_full_month() == "2026-12"  # January's last full month is December of the year before


def test_a_month_alone_means_its_first_day(monkeypatch):
    monkeypatch.setenv("IPMON_TODAY", "2027-08")
    assert clock.today() == date(2027, 8, 1)
    assert last_full_month() == "2027-07"


class SystemClock(datetime):
    """A stand-in for the machine's clock: 2026-12-03 14:05:06, whatever day the suite runs."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 12, 3, 14, 5, 6)



class SystemDate(date):
    @classmethod
    def today(cls):
        return cls(2026, 12, 3)


def test_now_keeps_the_time_of_day_on_the_fixed_day(monkeypatch):
    monkeypatch.setattr(clock, "datetime", SystemClock)
    monkeypatch.setenv("IPMON_TODAY", "2030-02-28")
    assert clock.now() == datetime(2030, 2, 28, 14, 5, 6)  # the fixed day at the system's time of day


def test_without_the_setting_today_and_now_are_the_systems(monkeypatch):
    monkeypatch.setattr(clock, "datetime", SystemClock)
    monkeypatch.setattr(clock, "date", SystemDate)
    monkeypatch.delenv("IPMON_TODAY", raising=False)
    assert clock.today() == date(2026, 12, 3)
    assert clock.now() == datetime(2026, 12, 3, 14, 5, 6)


@pytest.mark.parametrize("text", ["2027-13-01", "2027-02-30", "next monday", "20270110"])
def test_a_day_that_does_not_exist_is_refused_in_chinese(monkeypatch, text):
    monkeypatch.setenv("IPMON_TODAY", text)
    with pytest.raises(SettingError, match=f"IPMON_TODAY 的值「{text}」不是日期"):
        clock.today()
