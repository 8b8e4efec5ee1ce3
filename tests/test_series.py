"""Indicator values from stored observations: derived ratios and sums recomputed from their parts.

Observations are written into a real store inline. 晋城市 (140500) has two population figures in
data/reference/population.csv: 2,194,545 (2020 census) and 2,171,800 (end of 2023).
"""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.store.series import as_series, compute_indicator, indicator_values, read_observations


def put(store, *rows: tuple) -> None:
    """put(store, (region, indicator, month, value[, origin[, note]]), ...); origin defaults to upload."""
    with store.transaction() as con:
        for region, indicator, month, value, *rest in rows:
            origin = rest[0] if rest else "upload"
            note = rest[1] if len(rest) > 1 else None
            con.execute("INSERT INTO observations VALUES (?, ?, ?, ?, ?, 1, NULL, ?)",
                        [region, indicator, month, value, origin, note])


def values_of(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    """Rows of some columns as tuples, a missing value as None."""
    picked = frame[list(columns)].astype(object)
    return [tuple(r) for r in picked.where(picked.notna(), None).itertuples(index=False)]


# --------------------------------------------------------------------------- ratios


def test_a_per_10k_ratio_is_computed_from_its_count_and_the_population_of_the_year(store, small_config, population):
    put(store, ("140500", "invention_patents", "2022-12", 600), ("140500", "invention_patents", "2023-12", 660))
    got = indicator_values(store, small_config, "invention_patents_per_10k", ["140500"], population)
    assert values_of(got, "month", "population", "population_year") == [
        ("2022-12", 2_194_545, 2020),  # latest figure at or before 2022: the census
        ("2023-12", 2_171_800, 2023),
    ]
    assert got["value"].tolist() == pytest.approx([
        600 / 2_194_545 * 10_000,  # = 2.73405...
        660 / 2_171_800 * 10_000,  # = 3.03895...
    ])
    assert got["value"].round(2).tolist() == [2.73, 3.04]


def test_a_month_before_the_first_population_figure_uses_the_earliest_one(store, small_config, population):
    put(store, ("140500", "invention_patents", "2019-06", 500))
    got = indicator_values(store, small_config, "invention_patents_per_10k", ["140500"], population)
    assert values_of(got, "population_year") == [(2020,)]
    assert got["value"].tolist() == pytest.approx([500 / 2_194_545 * 10_000])  # = 2.27837...


def test_a_ratio_over_population_needs_the_population(store, small_config):
    put(store, ("140500", "invention_patents", "2022-12", 600))
    with pytest.raises(ValueError, match="needs population"):
        indicator_values(store, small_config, "invention_patents_per_10k", ["140500"])


def test_a_ratio_of_two_indicators_is_computed_only_where_both_are_known_and_nonzero(store, small_config):
    put(store,
        ("610000", "trademarks", "2024-11", 859_028), ("610000", "market_entities", "2024-11", 6_000_000),
        ("610000", "trademarks", "2024-12", 860_000),  # no market entities that month
        ("610000", "trademarks", "2025-01", 861_000), ("610000", "market_entities", "2025-01", 0))
    got = indicator_values(store, small_config, "trademarks_per_10k_entities", ["610000"])
    assert values_of(got, "month", "value") == [("2024-11", 859_028 / 6_000_000 * 10_000)]  # = 1431.71...


# --------------------------------------------------------------------------- sums


def test_a_sum_indicator_adds_its_parts_where_every_part_is_known(store, small_config):
    put(store,
        ("140500", "gi_trademarks", "2024-06", 8), ("140500", "gi_products", "2024-06", 4),
        ("140500", "agri_gi", "2024-06", 24),
        ("140500", "gi_trademarks", "2024-07", 9), ("140500", "gi_products", "2024-07", 4))  # agri_gi missing
    got = indicator_values(store, small_config, "geographic_indications", ["140500"])
    assert values_of(got, "month", "value") == [("2024-06", 36.0)]  # 8 + 4 + 24


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        (("published", "published", "published"), "published"),
        (("upload", "upload", "upload"), "upload"),
        (("published", "upload", "upload"), "upload"),  # every part is a real figure
        (("published", "demo", "upload"), "demo"),  # one invented part makes the sum invented
    ],
)
def test_a_sum_is_demo_when_any_part_is_demo_and_published_only_when_every_part_is(small_config, origins, expected):
    obs = pd.DataFrame({
        "region_code": "140500", "indicator_id": ["gi_trademarks", "gi_products", "agri_gi"], "month": "2024-06",
        "value": [8.0, 4.0, 24.0], "origin": list(origins), "source_url": None, "note": None,
    })
    assert compute_indicator(obs, small_config, "geographic_indications")["origin"].tolist() == [expected]


def test_a_ratio_of_two_indicators_is_demo_when_either_part_is(store, small_config):
    put(store, ("610000", "trademarks", "2024-11", 859_028, "upload"),
         ("610000", "market_entities", "2024-11", 6_000_000, "demo"))
    assert indicator_values(store, small_config, "trademarks_per_10k_entities", ["610000"])["origin"].tolist() == ["demo"]


# --------------------------------------------------------------------------- reported values, until


def test_a_reported_derived_value_fills_months_its_parts_do_not_cover(store, small_config, population):
    put(store,
        ("140500", "invention_patents_per_10k", "2021-12", 2.5, "published", "公布值"),  # no count that month
        ("140500", "invention_patents_per_10k", "2022-12", 9.9, "published", None),  # the count below wins
        ("140500", "invention_patents", "2022-12", 600))
    got = indicator_values(store, small_config, "invention_patents_per_10k", ["140500"], population)
    assert values_of(got, "month", "origin", "note") == [
        ("2021-12", "published", "直接报送值；公布值"),
        ("2022-12", "upload", None),
    ]
    assert got["value"].tolist() == pytest.approx([2.5, 600 / 2_194_545 * 10_000])


def test_until_leaves_out_every_later_month(store, small_config, population):
    put(store, ("140500", "invention_patents", "2022-12", 600), ("140500", "invention_patents", "2023-01", 605),
        ("140500", "invention_patents_per_10k", "2023-06", 2.8))
    got = indicator_values(store, small_config, "invention_patents_per_10k", ["140500"], population, until="2022-12")
    assert got["month"].tolist() == ["2022-12"]
    assert read_observations(store, ["invention_patents"], until="2022-12")["month"].tolist() == ["2022-12"]


def test_only_the_regions_asked_for_are_read(store, small_config):
    put(store, ("140500", "invention_patents", "2022-12", 600), ("140100", "invention_patents", "2022-12", 15000))
    got = indicator_values(store, small_config, "invention_patents", ["140100"])
    assert values_of(got, "region_code", "value") == [("140100", 15000.0)]


def test_nothing_stored_gives_an_empty_frame_with_the_usual_columns(store, small_config, population):
    got = indicator_values(store, small_config, "invention_patents_per_10k", ["140500"], population)
    assert got.empty
    assert {"region_code", "month", "value", "origin"} <= set(got.columns)


def test_as_series_gives_one_region_indexed_by_month_in_order(store, small_config):
    put(store, ("140500", "invention_patents", "2023-01", 605), ("140500", "invention_patents", "2022-12", 600),
        ("140100", "invention_patents", "2022-12", 15000))
    series = as_series(indicator_values(store, small_config, "invention_patents", ["140500", "140100"]), "140500")
    assert series.to_dict() == {"2022-12": 600.0, "2023-01": 605.0}
    assert series.index.tolist() == ["2022-12", "2023-01"]
