"""The demo data: what is real (published figures, passed through exactly) and what is invented
(everything else), and the promises the invented part keeps.

The frame is generated once for the module (to 2026-10); generating takes seconds, so only a few tests
generate again: the same seed, another seed and two early end months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from monitor.context import Context, load_demo_data
from monitor.demo.generator import DEFAULT_SEED, DEMO_START, DESIGNED, generate_demo, published_anchors
from monitor.domain.config import MilestoneTarget, RatioFormula
from monitor.domain.periods import month_range
from monitor.store.milestones import DEMO_UPDATES, read_updates

END = "2026-10"
SHORT_END = "2021-06"
CHINA, SHANXI, SHAANXI, YANGLING, JINCHENG = "100000", "140000", "610000", "619900", "140500"
CUMULATIVE = ["gi_trademarks", "gi_products", "agri_gi", "invention_patents", "high_value_patents", "design_patents",
              "trademarks"]


@pytest.fixture(scope="module")
def demo(config, regions, population) -> pd.DataFrame:
    return generate_demo(config, regions, population, END)


@pytest.fixture(scope="module")
def short_demo(config, regions, population) -> pd.DataFrame:
    """The demo to an end month before some published figures (see the early-end tests)."""
    return generate_demo(config, regions, population, SHORT_END)


@pytest.fixture(scope="module")
def anchors(config, population) -> pd.DataFrame:
    """Published figures that map to an indicator and fall inside the demo's months."""
    found = published_anchors(config, population)
    return found[(found["month"] >= DEMO_START) & (found["month"] <= END)]


def children(regions, province: str) -> list[str]:
    """The prefecture cities of a province, and 杨凌示范区 for Shaanxi."""
    cities = [r.code for r in regions.cities_of(province, include_groupings=False) if r.level == "city"]
    return cities + ([YANGLING] if province == SHAANXI else [])


def one(frame: pd.DataFrame, region: str, indicator: str) -> pd.Series:
    rows = frame[(frame["region_code"] == region) & (frame["indicator_id"] == indicator)]
    return pd.Series(rows["value"].to_numpy(), index=rows["month"].to_numpy())


def year_to(series: pd.Series, month: str) -> float:
    """The sum of a flow from January of ``month``'s year to ``month``."""
    return float(series[(series.index >= month[:4] + "-01") & (series.index <= month)].sum())


# --------------------------------------------------------------------------- determinism


def test_the_same_seed_gives_the_identical_frame(demo, config, regions, population):
    assert_frame_equal(generate_demo(config, regions, population, END, seed=DEFAULT_SEED), demo)


def test_another_seed_changes_the_invented_values_but_not_the_published_ones(short_demo, config, regions,
                                                                             population):
    other = generate_demo(config, regions, population, SHORT_END, seed=DEFAULT_SEED + 1)
    key = ["region_code", "indicator_id", "month"]
    both = short_demo.merge(other, on=key, suffixes=("", "_other"), validate="one_to_one")
    assert len(both) == len(short_demo) == len(other)

    published = both[both["origin"].isin(["published", "estimated"])]
    assert len(published) >= 10
    assert (published["origin_other"] == published["origin"]).all()
    assert (published["value"] == published["value_other"]).all()

    invented = both[both["origin"] == "demo"]
    assert (invented["value"] != invented["value_other"]).mean() > 0.25  # flat step counts stay put


# --------------------------------------------------------------------------- coverage


def test_the_demo_covers_china_every_province_the_cities_of_two_and_yangling(demo, regions):
    shanxi, shaanxi = children(regions, SHANXI), children(regions, SHAANXI)
    provinces = [r.code for r in regions.children(CHINA) if r.level == "province"]
    assert len(shanxi) == 11 and len(shaanxi) == 10 + 1 and len(provinces) == 31  # 10 cities and 杨凌
    assert set(demo["region_code"]) == {CHINA, *provinces, *shanxi, *shaanxi}


def test_every_province_has_every_indicator_of_the_national_set_to_the_end_month(demo, config, regions):
    national = config.target_set("national_14th_plan")
    stored = [config.indicator(t.indicator) for t in national.targets]
    parts = {p for ind in stored for p in (ind.formula.parts if ind.formula else [ind.id])} - {"population"}
    assert parts == {"high_value_patents", "patent_intensive_share", "copyright_industry_share", "ip_royalty_trade"}
    provinces = {r.code for r in regions.children(CHINA) if r.level == "province"}
    at_end = demo[demo["month"] == "2025-12"]
    for indicator in parts:
        assert set(at_end[at_end["indicator_id"] == indicator]["region_code"]) >= provinces, indicator


def test_china_is_the_exact_sum_of_its_provinces_for_the_national_additive_indicators(demo, config, regions):
    provinces = [r.code for r in regions.children(CHINA) if r.level == "province"]
    for indicator in ("invention_patents", "high_value_patents", "ip_royalty_trade"):
        total = one(demo, CHINA, indicator)
        parts = demo[demo["region_code"].isin(provinces) & (demo["indicator_id"] == indicator)]
        summed = parts.groupby("month")["value"].sum()
        assert parts["region_code"].nunique() == 31
        assert np.allclose(summed.loc[total.index].to_numpy(), total.to_numpy(), rtol=0, atol=0.11), indicator


def test_the_other_provinces_are_invented_and_say_so(demo):
    others = demo[demo["region_code"].isin(["110000", "440000", "540000"])]
    assert not others.empty and (others["origin"] == "demo").all()


def test_every_series_runs_from_2019_01_to_the_end_month(demo, config):
    months = month_range(DEMO_START, END)
    decembers = [m for m in months if m.endswith("-12")]
    for (region, indicator), rows in demo.groupby(["region_code", "indicator_id"]):
        expected = months if config.indicator(indicator).frequency == "monthly" else decembers
        assert rows["month"].tolist() == expected, (region, indicator)


def test_every_base_indicator_a_target_uses_has_data_for_its_region_over_the_target_period(demo, config):
    checked = 0
    for tset in config.target_sets:
        for target in tset.targets:
            if isinstance(target, MilestoneTarget):
                continue
            regions_needed = [tset.region_of(target), getattr(target, "reference_region", None)]
            for region in filter(None, regions_needed):
                for base in config.base_indicators(target.indicator):
                    months = one(demo, region, base).index
                    inside = (months >= target.start[:4] + "-01") & (months <= target.deadline)
                    assert inside.any(), (target.id, region, base)
                    checked += 1
    assert checked >= 30


# --------------------------------------------------------------------------- published figures


def test_every_published_stock_is_passed_through_exactly_with_its_source(demo, config, anchors):
    stocks = anchors[(anchors["span"] == "stock")
                     & anchors["indicator_id"].map(lambda i: config.indicator(i).formula is None)]
    assert len(stocks) >= 40
    rows = demo.set_index(["region_code", "indicator_id", "month"])
    for fig in stocks.itertuples():
        row = rows.loc[(fig.region_code, fig.indicator_id, fig.month)]
        assert row["value"] == fig.value, fig
        assert (row["origin"], row["source_url"]) == ("published", fig.source_url), fig


def test_every_published_flow_total_is_the_sum_of_its_months(demo, anchors):
    flows = anchors[anchors["span"].isin(["year", "ytd"])]
    assert len(flows) >= 25
    for fig in flows.itertuples():
        series = one(demo, fig.region_code, fig.indicator_id)
        assert year_to(series, fig.month) == pytest.approx(fig.value, abs=1e-6), fig
        at_month = demo[(demo["region_code"] == fig.region_code) & (demo["indicator_id"] == fig.indicator_id)
                         & (demo["month"] == fig.month)]
        assert at_month["source_url"].notna().all()  # the month says where its total comes from


def test_a_published_per_10k_figure_is_met_through_its_count(demo, config, population, anchors):
    ratios = anchors[anchors["indicator_id"].map(lambda i: isinstance(config.indicator(i).formula, RatioFormula))]
    counts_published = {(a.region_code, a.indicator_id, a.month) for a in anchors.itertuples() if a.span == "stock"}
    assert len(ratios) >= 10
    for fig in ratios.itertuples():
        formula = config.indicator(fig.indicator_id).formula
        count = one(demo, fig.region_code, formula.numerator)[fig.month]
        if (fig.region_code, formula.numerator, fig.month) in counts_published:
            continue  # a published count for the same month wins; checked with the stocks
        people = population.lookup(fig.region_code, fig.month).value
        # count = ratio × population ÷ 10,000, rounded to a whole patent
        assert abs(count - fig.value * people / formula.scale) <= 0.5, fig
        assert round(count / people * formula.scale, 2) == pytest.approx(fig.value, abs=0.005)
        # the count is an estimate from a published figure (推算), not a published figure itself
        row = demo[(demo["region_code"] == fig.region_code) & (demo["indicator_id"] == formula.numerator)
                   & (demo["month"] == fig.month)].iloc[0]
        assert row["origin"] == "estimated" and row["source_url"] == fig.source_url
        assert "推算" in row["note"] and "不是公布值" in row["note"]


def test_the_ratio_computed_from_an_estimated_count_is_the_published_ratio(demo, config, population):
    from monitor.store.series import compute_indicator

    obs = demo[(demo["region_code"] == CHINA) & (demo["indicator_id"] == "high_value_patents")]
    ratio = compute_indicator(obs, config, "high_value_patents_per_10k", population).set_index("month")
    assert ratio.loc["2024-12", "origin"] == "published" and ratio.loc["2024-12", "value"] == pytest.approx(14, abs=0.005)
    assert ratio.loc["2024-11", "origin"] == "demo"


# --------------------------------------------------------------------------- what the invented part keeps


def sum_mismatches(frame: pd.DataFrame, config, regions) -> tuple[list, int]:
    """(province, indicator) pairs whose province series is not the sum of its cities, and how many
    pairs were compared."""
    additive = [i.id for i in config.indicators if i.aggregation == "sum" and i.formula is None]
    wrong, checked = [], 0
    for province in (SHANXI, SHAANXI):
        kids = children(regions, province)
        for indicator in additive:
            total = one(frame, province, indicator)
            if total.empty:
                continue
            parts = frame[frame["region_code"].isin(kids) & (frame["indicator_id"] == indicator)]
            summed = parts.groupby("month")["value"].sum()
            if (parts["region_code"].nunique() != len(kids) or summed.index.tolist() != total.index.tolist()
                    or not np.allclose(summed.to_numpy(), total.to_numpy(), rtol=0, atol=1e-6)):
                wrong.append((province, indicator))
            checked += 1
    return wrong, checked


def test_a_province_is_the_exact_sum_of_its_cities_for_every_additive_indicator(demo, config, regions):
    wrong, checked = sum_mismatches(demo, config, regions)
    assert wrong == []
    assert checked >= 40


def test_no_value_is_negative(demo):
    assert (demo["value"] >= 0).all()
    assert demo["value"].notna().all()


@pytest.mark.parametrize("indicator", CUMULATIVE)
def test_a_cumulative_count_never_falls_in_any_region(demo, indicator):
    for region, rows in demo[demo["indicator_id"] == indicator].groupby("region_code"):
        values = rows.sort_values("month")["value"].to_numpy()
        assert (np.diff(values) >= 0).all(), (indicator, region)


def test_jincheng_passes_through_every_designed_point(demo, config):
    for indicator, points in DESIGNED[JINCHENG].items():
        series = one(demo, JINCHENG, indicator)
        for when, value in points.items():
            if config.indicator(indicator).kind == "flow":
                assert year_to(series, f"{when}-12") == value, (indicator, when)
            else:
                assert series[when] == value, (indicator, when)


def assert_consistent(frame: pd.DataFrame, end: str, config, regions) -> None:
    assert (frame["month"].min(), frame["month"].max()) == (DEMO_START, end)
    provinces = {r.code for r in regions.children(CHINA) if r.level == "province"}
    assert set(frame["region_code"]) == {CHINA, *provinces, *children(regions, SHANXI), *children(regions, SHAANXI)}
    assert (frame["value"] >= 0).all()
    wrong, _ = sum_mismatches(frame, config, regions)
    assert wrong == []


def test_an_end_before_the_first_city_figures_still_gives_a_consistent_frame(short_demo, config, regions):
    # 2021-06: before 太原's and 西安's first published city figures, inside the year of 西安's 2021 totals
    assert_consistent(short_demo, SHORT_END, config, regions)


def test_an_end_inside_a_published_half_year_still_gives_a_consistent_frame(config, regions, population):
    # 2022-02: inside the first half of 2022, whose total 太原 published
    assert_consistent(generate_demo(config, regions, population, "2022-02"), "2022-02", config, regions)


# --------------------------------------------------------------------------- into a store


def test_loading_the_demo_keeps_published_and_demo_origins_in_two_batches(store, config, regions, population, demo,
                                                                          monkeypatch):
    asked = []

    def generated(config_, regions_, population_, end):
        asked.append(end)
        return demo  # the module's frame: generating it again would only cost time

    monkeypatch.setattr("monitor.context.generate_demo", generated)
    written = load_demo_data(Context(config, regions, population, store), end=END)

    assert asked == [END]
    assert written == len(demo) == store.observation_count()
    batches = store.query("SELECT origin, loaded_by, rows_total, rows_inserted FROM load_batches ORDER BY id")
    per_origin = demo["origin"].value_counts()
    published = per_origin["published"] + per_origin["estimated"]  # one batch: both rest on a source
    assert batches.values.tolist() == [
        ["published", "demo-generator", published, published],
        ["demo", "demo-generator", per_origin["demo"], per_origin["demo"]],
    ]
    stored = store.query("SELECT region_code, indicator_id, month, value, origin, source_url FROM observations")
    both = demo.merge(stored, on=["region_code", "indicator_id", "month"], suffixes=("", "_stored"))
    assert len(both) == len(demo)
    assert (both["value"] == both["value_stored"]).all()
    assert (both["origin"] == both["origin_stored"]).all()
    published = both[both["origin"] == "published"]
    assert (published["source_url"] == published["source_url_stored"]).all()
    assert len(read_updates(store)) == len(DEMO_UPDATES)
