"""One number formatter and one colour per status for every output (pages, briefing, exports,
alerts, the CLI)."""

import math

import pandas as pd
import pytest

from monitor.evaluation import STATUS_COLORS, Status
from monitor.store.milestones import TaskStatus
from monitor.views.formatting import NO_COLOR, format_value, missing, status_color, task_color


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (690.0, 2, "690"), (3.1843, 2, "3.18"), (14300, 2, "14,300"), (0.5, 2, "0.5"), (-1234.567, 2, "-1,234.57"),
    (1.23456, 4, "1.2346"), (7, 0, "7"), (12000.0, 4, "12,000"),
])
def test_a_number_reads_with_thousands_separated_and_no_trailing_zeros(value, decimals, shown):
    assert format_value(value, decimals) == shown


@pytest.mark.parametrize("value", [None, math.nan, float("nan"), pd.NA])
def test_a_missing_number_reads_as_a_dash(value):
    assert missing(value) and format_value(value) == "—"


def test_text_and_zero_are_not_missing():
    assert not missing("") and not missing("—") and not missing(0) and not missing(0.0)


def test_every_status_has_its_colour_and_an_unknown_word_is_grey():
    assert all(status_color(s.value) == STATUS_COLORS[s] for s in Status)
    assert status_color("不是状态") == NO_COLOR and task_color("不是任务状态") == NO_COLOR


def test_a_task_word_takes_the_colour_of_a_status():
    assert {task_color(t.value) for t in TaskStatus} <= set(STATUS_COLORS.values())
