"""Population: which year's figure applies to a month, and where each figure comes from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.domain.population import (
    Population,
    PopulationFigure,
    load_population,
    parse_population,
)
from monitor.domain.regions import load_regions
from monitor.errors import LoadError, PeriodError

REFERENCE_DIR = Path(__file__).parent.parent / "data" / "reference"

SMALL = """\
region_code,region_name,year,population,basis,source_url
140500,晋城市,2020,2194545,七普常住人口,https://example.org/census
140500,晋城市,2023,2171800,年末常住人口,https://example.org/2023
610403,杨凌示范区(杨陵区),2020,253871,七普常住人口,https://example.org/yangling
"""


@pytest.fixture(scope="module")
def population() -> Population:
    return load_population(REFERENCE_DIR / "population.csv")


@pytest.fixture
def small() -> Population:
    return parse_population(SMALL)


# --- the reference file ------------------------------------------------------------------------

def test_jincheng_in_2024_uses_the_2023_year_end_figure(population):
    figure = population.lookup("140500", "2024-06")
    assert (figure.value, figure.year, figure.basis) == (2171800, 2023, "年末常住人口")
    assert not figure.extrapolated_back


def test_jincheng_in_2021_uses_the_2020_census(population):
    figure = population.lookup("140500", "2021-03")
    assert (figure.value, figure.year, figure.basis) == (2194545, 2020, "七普常住人口")


def test_yangling_zone_borrows_the_census_of_yangling_district(population):
    assert population.lookup("619900", "2021-03").value == 253871
    assert population.lookup("610403", "2021-03").value == 253871


def test_a_region_without_figures_has_no_population(population):
    assert population.lookup("320100", "2024-06") is None  # 南京市: only provinces outside Shanxi and Shaanxi
    assert population.lookup("610581", "2024-06") is None  # 韩城市: not found, see data/reference/README.md


def test_a_month_before_the_first_figure_uses_it_and_says_so(population):
    figure = population.lookup("140500", "2019-06")
    assert (figure.value, figure.year) == (2194545, 2020)
    assert figure.extrapolated_back


def test_every_population_code_is_a_known_region(population):
    regions = load_regions(REFERENCE_DIR)
    assert [code for code in population.codes if code not in regions] == []


# --- the year rule on inline data --------------------------------------------------------------

@pytest.mark.parametrize(
    ("month", "year", "back"),
    [("2019-12", 2020, True), ("2020-01", 2020, False), ("2022-12", 2020, False), ("2023-01", 2023, False),
     ("2030-06", 2023, False)],
)
def test_the_latest_year_at_or_before_the_month_applies(small, month, year, back):
    figure = small.lookup("140500", month)
    assert (figure.year, figure.extrapolated_back) == (year, back)


def test_series_lists_every_figure_oldest_first(small):
    assert small.series("140500") == [
        PopulationFigure(2194545, 2020, "七普常住人口", "https://example.org/census"),
        PopulationFigure(2171800, 2023, "年末常住人口", "https://example.org/2023"),
    ]
    assert small.series("110000") == []


def test_a_malformed_month_is_a_period_error(small):
    with pytest.raises(PeriodError):
        small.lookup("140500", "2024-13")


def test_frame_holds_every_figure_including_borrowed_zone_rows(small):
    frame = small.frame()
    assert list(frame.columns) == ["region_code", "year", "population", "basis", "source_url"]
    assert list(frame["region_code"]) == ["140500", "140500", "610403", "619900"]
    assert frame.loc[frame["region_code"] == "619900", "population"].item() == 253871


def test_a_zone_with_its_own_figures_does_not_borrow():
    own = parse_population(SMALL + "619900,杨凌示范区,2022,260000,年末常住人口,https://example.org/zone\n")
    assert [f.value for f in own.series("619900")] == [260000]


# --- many rows at once -------------------------------------------------------------------------

def test_figures_for_many_rows_match_lookup_row_by_row(small):
    codes = ["140500", "140500", "619900", "110000", "140500"]
    months = ["2024-06", "2021-03", "2019-01", "2024-06", "2024年6月"]
    frame = small.figures_for(codes, months)
    assert list(frame["population"].astype("float64").fillna(-1)) == [2171800, 2194545, 253871, -1, 2171800]
    assert list(frame["year"].astype("float64").fillna(-1)) == [2023, 2020, 2020, -1, 2023]
    for i, (code, month) in enumerate(zip(codes, months)):
        figure = small.lookup(code, month)
        if figure is None:
            assert frame["population"].isna()[i]
        else:
            assert frame["extrapolated_back"][i] == figure.extrapolated_back


def test_population_for_months_is_nan_where_no_figure_applies(small):
    values = small.population_for_months(["140500", "110000", "140500"], ["2024-06", "2024-06", "2019-01"])
    np.testing.assert_array_equal(values, [2171800.0, np.nan, 2194545.0])
    strict = small.population_for_months(["140500"], ["2019-01"], extrapolate_back=False)
    assert np.isnan(strict[0])


def test_values_by_year_is_lookup_for_every_region_and_year_at_once(small):
    codes = ["140500", "110000", "619900", "140500"]
    years = [2019, 2020, 2022, 2023, 2030]
    table = small.values_by_year(codes, years)
    assert table.shape == (4, 5)
    for r, code in enumerate(codes):
        for c, year in enumerate(years):
            figure = small.lookup(code, f"{year}-06")
            assert (np.isnan(table[r, c]) if figure is None else table[r, c] == figure.value), (code, year)
    np.testing.assert_array_equal(table[0], [2194545, 2194545, 2194545, 2171800, 2171800])  # 2019: the census, back


def test_codes_and_months_must_pair_up(small):
    with pytest.raises(ValueError, match="differ in length"):
        small.figures_for(["140500"], ["2024-06", "2024-07"])


# --- broken files ------------------------------------------------------------------------------

def test_every_bad_row_is_reported_at_once():
    broken = (
        "region_code,region_name,year,population,basis,source_url\n"
        "1405,晋城市,2020,2194545,七普常住人口,https://example.org\n"
        "140500,晋城市,二〇二〇,2194545,七普常住人口,https://example.org\n"
        "140500,晋城市,2020,\"2,194,545\",七普常住人口,https://example.org\n"
        "140500,晋城市,2021,2190000,,https://example.org\n"
        "140500,晋城市,2022,2180000,年末常住人口,https://example.org\n"
        "140500,晋城市,2022,2180001,年末常住人口,https://example.org\n"
    )
    with pytest.raises(LoadError) as caught:
        parse_population(broken, source="population.csv")
    messages = caught.value.problems
    assert len(messages) == 5
    assert "population.csv 第 2 行「region_code」列的值「1405」不是六位地区代码" in messages[0]
    assert "第 3 行「year」列" in messages[1]
    assert "第 4 行「population」列的值「2,194,545」不是正整数" in messages[2]
    assert "第 5 行「basis」列为空" in messages[3]
    assert "第 7 行：地区 140500 的 2022 年人口重复出现" in messages[4]


def test_a_missing_column_is_named():
    with pytest.raises(LoadError, match="缺少列：basis、source_url"):
        parse_population("region_code,region_name,year,population\n140500,晋城市,2020,1\n")


def test_the_caption_says_which_months_took_a_later_census_year():
    import pandas as pd

    from monitor.views.detail import population_caption

    values = pd.DataFrame({"month": ["2019-06", "2019-12", "2020-06", "2021-06"],
                           "population_year": [2020.0, 2020.0, 2020.0, 2021.0]})
    # 2019's months have no 2019 or earlier figure: they take 2020, and the caption says so
    assert population_caption(values) == (
        "人口取 2020、2021 年常住人口（各月取当年或之前最近一年；2019年12月及以前没有当年或更早的人口数据，取最近的2020年）")
    later = values[values["month"] >= "2020-01"]
    assert population_caption(later) == "人口取 2020、2021 年常住人口（各月取当年或之前最近一年）"


def test_every_province_has_its_census_population_and_the_31_sum_to_the_bulletins_total(population, regions):
    provinces = [r.code for r in regions.children("100000") if r.level == "province"]
    assert len(provinces) == 31
    census = [population.lookup(code, "2020-12") for code in provinces]
    assert all(f is not None and f.year == 2020 and f.basis == "七普常住人口" for f in census)
    # 《第七次全国人口普查公报（第三号）》: the 31 provinces, without the 2,000,000 active servicemen
    assert sum(f.value for f in census) == 1_409_778_724
    assert population.lookup("100000", "2020-12").value - sum(f.value for f in census) == 2_000_000
