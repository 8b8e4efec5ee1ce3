"""Today is an input of the product: IPMON_TODAY fixes it, the system date is the fallback."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from monitor import clock
from monitor.errors import SettingError
from monitor.periods import last_full_month


def test_a_fixed_day_is_today_and_decides_the_last_full_month(monkeypatch):
    monkeypatch.setenv("IPMON_TODAY", "2027-01-10")
    assert clock.today() == date(2027, 1, 10)
    assert last_full_month() == "2026-12"  # January's last full month is December of the year before


def test_a_month_alone_means_its_first_day(monkeypatch):
    monkeypatch.setenv("IPMON_TODAY", "2027-08")
    assert clock.today() == date(2027, 8, 1)
    assert last_full_month() == "2027-07"


def test_now_keeps_the_time_of_day_on_the_fixed_day(monkeypatch):
    monkeypatch.setenv("IPMON_TODAY", "2030-02-28")
    before = datetime.now()
    stamp = clock.now()
    assert stamp.date() == date(2030, 2, 28)
    seconds = lambda t: t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6  # noqa: E731
    assert (seconds(stamp.time()) - seconds(before.time())) % 86400 < 5  # the real time of day


def test_without_the_setting_today_is_the_system_date(monkeypatch):
    monkeypatch.delenv("IPMON_TODAY", raising=False)
    assert clock.today() == date.today()


@pytest.mark.parametrize("text", ["2027-13-01", "2027-02-30", "next monday", "20270110"])
def test_a_day_that_does_not_exist_is_refused_in_chinese(monkeypatch, text):
    monkeypatch.setenv("IPMON_TODAY", text)
    with pytest.raises(SettingError, match=f"IPMON_TODAY 的值「{text}」不是日期"):
        clock.today()
