"""A province computed from its cities: exact sums, ratios from summed parts, disagreements flagged.
On the small registry (tests/data/small): 山西省 with two cities, 太原市 and 晋城市."""

from __future__ import annotations

import pytest

from monitor.context import Context
from monitor.views.rollup import RollupError, rollup

SHANXI_CITIES = ["140100", "140500"]  # 太原市, 晋城市


def put(store, *rows: tuple) -> None:
    """put(store, (region, indicator, month, value), ...) as uploaded observations."""
    with store.transaction() as con:
        for region, indicator, month, value in rows:
            con.execute("INSERT INTO observations VALUES (?, ?, ?, ?, 'upload', 1, NULL, NULL)",
                        [region, indicator, month, value])


@pytest.fixture
def ctx(small_config, small_regions, population, store) -> Context:
    return Context(small_config, small_regions, population, store)


def test_the_province_is_the_exact_sum_of_its_cities(ctx, store):
    counts = [3301, 555]  # Σ = 3856
    put(store, *[(c, "invention_patents", "2024-06", n) for c, n in zip(SHANXI_CITIES, counts)],
        ("140000", "invention_patents", "2024-06", 3856))
    rolled = rollup(ctx, "invention_patents", "140000")
    row = rolled.frame.set_index("month").loc["2024-06"]
    assert rolled.method == "sum"
    assert row["computed"] == 3856 and row["reported"] == 3856 and row["difference"] == 0
    assert not row["disagrees"] and row["regions_reporting"] == 2 and row["missing_regions"] == ""


def test_a_province_value_differing_from_its_cities_sum_is_flagged(ctx, store):
    put(store, *[(c, "trademarks", "2024-06", 100) for c in SHANXI_CITIES],
        ("140000", "trademarks", "2024-06", 300))  # cities add up to 200
    rolled = rollup(ctx, "trademarks", "140000")
    row = rolled.frame.set_index("month").loc["2024-06"]
    assert (row["computed"], row["reported"], row["difference"]) == (200, 300, -100)
    assert row["relative_difference"] == pytest.approx(-100 / 300)
    assert row["disagrees"]
    assert rolled.disagreements["month"].tolist() == ["2024-06"]


def test_a_month_missing_a_city_is_not_summed_and_names_the_city(ctx, store):
    put(store, *[(c, "trademarks", "2024-06", 100) for c in SHANXI_CITIES if c != "140500"],
        ("140000", "trademarks", "2024-06", 200))
    row = rollup(ctx, "trademarks", "140000").frame.set_index("month").loc["2024-06"]
    assert row["computed"] != row["computed"]  # NaN: a partial sum is not the province's figure
    assert row["regions_reporting"] == 1 and row["missing_regions"] == "晋城市"
    assert not row["disagrees"]


def test_a_per_10k_ratio_is_recomputed_from_summed_counts_and_summed_populations(ctx, store, population):
    counts = dict(zip(SHANXI_CITIES, [30000, 780]))
    put(store, *[(c, "invention_patents", "2024-06", n) for c, n in counts.items()],
        ("140000", "invention_patents", "2024-06", sum(counts.values())))
    people = {c: population.lookup(c, "2024-06").value for c in SHANXI_CITIES}
    rolled = rollup(ctx, "invention_patents_per_10k", "140000")
    row = rolled.frame.set_index("month").loc["2024-06"]
    assert rolled.method == "ratio"
    # Σ count ÷ Σ population × 10000 — not the mean of the cities' ratios.
    assert row["computed"] == pytest.approx(sum(counts.values()) / sum(people.values()) * 10_000)
    mean_of_ratios = sum(counts[c] / people[c] * 10_000 for c in SHANXI_CITIES) / len(SHANXI_CITIES)
    assert row["computed"] != pytest.approx(mean_of_ratios)
    province = population.lookup("140000", "2024-06").value
    assert row["reported"] == pytest.approx(sum(counts.values()) / province * 10_000)


def test_a_not_additive_indicator_is_refused_with_a_reason(ctx):
    with pytest.raises(RollupError, match="不可由下级地区加总"):
        rollup(ctx, "patent_intensive_share", "140000")
