"""Ranks, change in rank over twelve months, growth and shares, on small hand-made values."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.views.rankings import rank_values, ranked_month

NAMES = {"A": "甲市", "B": "乙市", "C": "丙市"}


def values(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["region_code", "month", "value"]).assign(origin="upload")


DATA = values([
    ("A", "2023-06", 50), ("B", "2023-06", 100), ("C", "2023-06", 10),
    ("A", "2024-05", 90), ("B", "2024-05", 100), ("C", "2024-05", 20),
    ("A", "2024-06", 120), ("B", "2024-06", 100), ("C", "2024-06", 30),
])


def test_regions_are_ranked_best_first_with_their_change_in_rank_over_twelve_months():
    got = rank_values(DATA, NAMES, "2024-06")
    rows = got.frame.set_index("region_code")
    assert got.frame["region_code"].tolist() == ["A", "B", "C"]
    assert rows["rank"].tolist() == [1, 2, 3]
    assert rows["rank_before"].tolist() == [2, 1, 3]  # June 2023: B 100, A 50, C 10
    assert rows["rank_change"].tolist() == [1, -1, 0]  # A moved up one, B down one
    assert got.month_before == "2023-06"


def test_growth_is_on_the_month_and_on_the_year_in_percent():
    rows = rank_values(DATA, NAMES, "2024-06").frame.set_index("region_code")
    assert rows.loc["A", "mom_pct"] == pytest.approx((120 / 90 - 1) * 100)
    assert rows.loc["A", "yoy_pct"] == pytest.approx(140.0)
    assert rows.loc["B", "mom_pct"] == 0 and rows.loc["B", "yoy_pct"] == 0
    assert rows.loc["C", "yoy_pct"] == pytest.approx(200.0)


def test_shares_of_the_total_add_up_to_one_hundred():
    got = rank_values(DATA, NAMES, "2024-06")
    shares = got.frame.set_index("region_code")["share_pct"]
    assert shares.to_dict() == pytest.approx({"A": 48.0, "B": 40.0, "C": 12.0})
    assert got.share_note is None


def test_lower_is_better_reverses_the_ranks_and_ties_share_the_better_rank():
    data = values([("A", "2024-06", 5), ("B", "2024-06", 3), ("C", "2024-06", 3)])
    rows = rank_values(data, NAMES, "2024-06", direction="lower").frame.set_index("region_code")
    assert rows["rank"].to_dict() == {"B": 1, "C": 1, "A": 3}


def test_a_region_without_a_value_is_unranked_last_and_shares_are_not_given():
    data = DATA[~((DATA["region_code"] == "C") & (DATA["month"] == "2024-06"))]
    got = rank_values(data, NAMES, "2024-06")
    assert got.frame["region_code"].tolist() == ["A", "B", "C"]
    assert pd.isna(got.frame["rank"].iloc[-1]) and pd.isna(got.frame["rank_change"].iloc[-1])
    assert got.frame["share_pct"].isna().all()
    assert got.share_note == "丙市本月无数据，各地区合计不完整，不计算占比"


def test_a_not_additive_indicator_has_no_shares():
    got = rank_values(DATA, NAMES, "2024-06", additive=False)
    assert got.frame["share_pct"].isna().all() and "不可加总" in got.share_note


def test_annual_indicators_rank_the_latest_december_and_have_no_month_on_month_growth():
    assert ranked_month("2024-06", annual=True) == "2023-12"
    assert ranked_month("2024-12", annual=True) == "2024-12"
    assert ranked_month("2024-06", annual=False) == "2024-06"
    data = values([("A", "2023-12", 10), ("A", "2023-11", 5), ("B", "2023-12", 20)])
    got = rank_values(data, NAMES, "2023-12", monthly=False)
    assert got.frame["mom_pct"].isna().all()
