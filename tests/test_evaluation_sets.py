"""Many regions on one windowed read agree with each region evaluated on its whole series (the
overview's one-row panels): same status, same numbers and (asked to explain) the same sentence,
for every target of every set, on a sample of regions of the benchmark's generated store (late
starts and missing months included), at several as-of months; and the windowed read finds
history older than the months it reads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from devtools.national import bulk_load, generate_national, scale_regions
from monitor.context import Context
from monitor.domain.config import MilestoneTarget
from monitor.domain.periods import month_index, month_range
from monitor.evaluation import Status
from monitor.evaluation.applied import applies_to
from monitor.evaluation.panels import panel_windows, read_panels
from monitor.evaluation.rules import NUMBER_COLUMNS
from monitor.evaluation.sets import evaluate_regions, evaluate_sets
from monitor.evaluation.targetset import evaluate_target_set

COMPARED = [c for c in NUMBER_COLUMNS if c != "reference_value"]


@pytest.fixture(scope="module")
def small_ctx(tmp_path_factory, config, regions, population):
    from monitor.store.database import Store

    store = Store(tmp_path_factory.mktemp("batch") / "monitor.duckdb")
    store.migrate()
    store.sync_reference(config, regions, population)
    data = generate_national(config, regions, population, scale="small")
    bulk_load(store, data.observations)
    return Context(config, regions, data.population, store)


def _same(a, b) -> bool:
    a = None if a is None or (isinstance(a, float) and np.isnan(a)) or a is pd.NA else a
    b = None if b is None or (isinstance(b, float) and np.isnan(b)) or b is pd.NA else b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9))


@pytest.mark.parametrize("as_of", ["2021-03", "2022-06", "2024-06", "2026-10"])
def test_every_target_agrees_with_the_reference_evaluation_on_a_sample_of_regions(small_ctx, as_of):
    codes = scale_regions(small_ctx.regions, "small")
    sample = list(dict.fromkeys(codes[::25] + ["140500", "610000", "100000"]))
    compared, statuses = 0, set()
    for tset in small_ctx.config.target_sets:
        if all(isinstance(t, MilestoneTarget) for t in tset.targets):
            continue
        # every region from the months the targets need; the sample from all history, with words
        batch = evaluate_regions(small_ctx, tset.id, as_of, codes).set_index(["region_code", "target_id"])
        explained = evaluate_regions(small_ctx, tset.id, as_of, sample, explain=True).set_index(
            ["region_code", "target_id"])
        for code in sample:
            if not applies_to(small_ctx.regions, tset.region, code):  # never upward: every row says so
                rows = explained.loc[code]
                assert (rows["status"] == Status.NO_DATA.value).all() and rows["adjusted"].str.startswith("不适用").all()
                assert (batch.loc[code]["status"] == Status.NO_DATA.value).all()
                continue
            reference = evaluate_target_set(small_ctx, tset.id, as_of, code)
            for row in reference[reference["type"] != "milestone"].itertuples():
                where = f"{tset.id} {row.target_id} {code} as of {as_of}: {row.explanation}"
                for got in (batch.loc[(code, row.target_id)], explained.loc[(code, row.target_id)]):
                    assert got["status"] == row.status, where
                    for column in [*COMPARED, "current_period", "baseline_period"]:
                        assert _same(getattr(row, column), got[column]), f"{column}: {where}"
                    assert _same(got["adjusted"], row.adjusted), where
                got = explained.loc[(code, row.target_id)]
                assert got["explanation"] == row.explanation, where
                assert got["has_demo"] == bool(row.has_demo if row.has_demo is not None else False), where
                compared += 1
                statuses.add(row.status)
    assert compared > 150
    # the sample is not trivially one verdict (after every deadline: 已达成 and 未达成)
    assert len(statuses) >= 2 and Status.ACHIEVED.value in statuses


def test_regions_without_a_population_figure_get_no_data_for_scaled_counts(small_ctx, population):
    ctx = dataclasses.replace(small_ctx, population=population)  # the registry's own figures only
    frame = evaluate_regions(ctx, "jincheng_2025", "2024-06", ["140500", "140521"])
    county = frame[(frame["region_code"] == "140521") & (frame["target_id"] == "jc_invention_patents")].iloc[0]
    reference = evaluate_target_set(ctx, "jincheng_2025", "2024-06", "140521").set_index("target_id")
    assert county["status"] == reference.loc["jc_invention_patents", "status"] == Status.NO_DATA.value
    assert county["adjusted"] == reference.loc["jc_invention_patents", "adjusted"] == "缺少人口数据，无法按人口折算"


def test_a_panel_holds_exactly_the_stored_values(small_ctx):
    codes, panels = read_panels(small_ctx.store, small_ctx.config, ["invention_patents"], ["140500", "140100"],
                                "2020-12")
    stored = small_ctx.store.query(
        "SELECT region_code, month, value FROM observations WHERE indicator_id = 'invention_patents' "
        "AND region_code = '140500' AND month <= '2020-12' ORDER BY month")
    panel = panels["invention_patents"]
    row = panel.values[codes.index("140500")]
    cols = [panel.column(m) for m in stored["month"]]
    assert np.array_equal(row[cols], stored["value"].to_numpy())
    assert np.isnan(np.delete(row, cols)).all()


def test_several_sets_on_one_read_give_what_each_set_gives_alone(small_ctx):
    codes = scale_regions(small_ctx.regions, "small")
    sets = ["jincheng_2025", "shaanxi_2022", "national_14th_plan"]
    targets = [t for s in sets for t in small_ctx.config.target_set(s).targets if not isinstance(t, MilestoneTarget)]
    needed = sorted({t.indicator for t in targets})
    panel_codes, panels = read_panels(small_ctx.store, small_ctx.config, needed, codes, "2022-06",
                                      small_ctx.population, since=panel_windows(small_ctx.config, targets, "2022-06"))
    together = evaluate_sets(small_ctx, sets, "2022-06", codes, panels=panels, panel_codes=panel_codes)
    for set_id in sets:
        pd.testing.assert_frame_equal(together[set_id], evaluate_regions(small_ctx, set_id, "2022-06", codes))


def test_a_window_panel_holds_the_stored_values_from_its_first_month(small_ctx):
    # the indicator targets, as the evaluators pass them (the plan's tasks have no panel)
    targets = [t for t in small_ctx.config.target_set("jincheng_2025").targets if t.type != "milestone"]
    windows = panel_windows(small_ctx.config, targets, "2022-12")
    assert windows["invention_patents"] == "2020-06"  # the latest level at or before the start, 2020-09
    # an annual total: the calendar years before the start and three for a trend, each of 12 months:
    # min(2020-09 − 3, 2022-12 − 36) = 2019-12, less 23 months
    assert windows["copyright_registrations"] == "2018-01"
    assert panel_windows(small_ctx.config, targets, "2021-03")["invention_patents"] == "2020-04"  # a trend

    codes = ["140500", "140100"]
    _, window = read_panels(small_ctx.store, small_ctx.config, ["invention_patents"], codes, "2022-12",
                            since=windows)
    _, history = read_panels(small_ctx.store, small_ctx.config, ["invention_patents"], codes, "2022-12")
    panel, whole = window["invention_patents"], history["invention_patents"]
    assert panel.first == month_index("2020-06") and not panel.complete and whole.complete
    np.testing.assert_array_equal(panel.values, whole.values[:, panel.first - whole.first:])


# --------------------------------------------------------------------------- history before the window


def _observations(rows: list[tuple[str, str, list[str], float]]) -> pd.DataFrame:
    """(region, indicator, months, first value) → one observation a month, growing by 1 a month."""
    frames = [pd.DataFrame({"region_code": code, "indicator_id": ind, "month": months,
                            "value": start + np.arange(len(months), dtype=float)}) for code, ind, months, start in rows]
    return pd.concat(frames, ignore_index=True)


DECEMBERS = [f"{y}-12" for y in range(2012, 2025)]


@pytest.fixture(scope="module")
def gappy_ctx(tmp_path_factory, config, regions, population):
    """Series whose answers lie before the months the targets need: years of history, then a gap
    across the start of the period (a baseline found only in the old years), a stock silent since
    2019 (its level before an increase period), annual figures with a gap (a trend over old points)."""
    from monitor.store.database import Store

    store = Store(tmp_path_factory.mktemp("gappy") / "monitor.duckdb")
    store.migrate()
    store.sync_reference(config, regions, population)
    observations = _observations([
        ("140100", "copyright_registrations", month_range("2015-01", "2017-12") + month_range("2020-11", "2025-06"), 10),
        ("140200", "copyright_registrations", month_range("2019-11", "2025-06"), 10),  # a late start, nothing older
        ("140200", "advantage_enterprises", month_range("2015-01", "2019-06") + month_range("2022-03", "2022-12"), 5),
        ("140300", "patent_intensive_share", DECEMBERS[2:4] + DECEMBERS[8:11], 4),
        ("100000", "protection_satisfaction", DECEMBERS, 80),
        ("140100", "protection_satisfaction", DECEMBERS[3:5] + DECEMBERS[9:10], 70),
        ("610000", "protection_satisfaction", DECEMBERS, 81),
    ])
    bulk_load(store, observations)
    return Context(config, regions, population, store)


@pytest.mark.parametrize("as_of", ["2021-06", "2022-06", "2022-10", "2025-06"])
def test_history_older_than_the_months_read_is_found_as_the_reference_finds_it(gappy_ctx, as_of):
    codes = ["140100", "140200", "140300", "610000"]
    sets = ["jincheng_2025", "shaanxi_2022"]
    windowed = evaluate_sets(gappy_ctx, sets, as_of, codes)
    targets = [t for s in sets for t in gappy_ctx.config.target_set(s).targets if not isinstance(t, MilestoneTarget)]
    needed = sorted({t.indicator for t in targets})
    panel_codes, panels = read_panels(gappy_ctx.store, gappy_ctx.config, needed, [*codes, "100000"], as_of,
                                      gappy_ctx.population)
    whole = evaluate_sets(gappy_ctx, sets, as_of, codes, panels=panels, panel_codes=panel_codes)
    for set_id in sets:
        pd.testing.assert_frame_equal(windowed[set_id], whole[set_id])
        batch = windowed[set_id].set_index(["region_code", "target_id"])
        for code in codes:
            if not applies_to(gappy_ctx.regions, gappy_ctx.config.target_set(set_id).region, code):
                continue  # never upward (the rows say 不适用: see the test above)
            reference = evaluate_target_set(gappy_ctx, set_id, as_of, code)
            for row in reference[reference["type"] != "milestone"].itertuples():
                got = batch.loc[(code, row.target_id)]
                where = f"{row.target_id} {code} as of {as_of}: {row.explanation}"
                assert got["status"] == row.status, where
                for column in [*COMPARED, "current_period", "baseline_period"]:
                    assert _same(getattr(row, column), got[column]), f"{column}: {where}"


def test_the_gappy_series_do_reach_before_the_window(gappy_ctx):
    """What the test above relies on: the answers lie before the months a window would read."""
    jincheng = evaluate_regions(gappy_ctx, "jincheng_2025", "2022-06", ["140100", "140200"]).set_index(
        ["region_code", "target_id"])
    assert jincheng.loc[("140100", "jc_copyright"), "baseline_period"] == "2017-12"  # window from 2018-11
    assert jincheng.loc[("140200", "jc_copyright"), "baseline_period"] == "2020-12"  # the first complete year
    shaanxi = evaluate_regions(gappy_ctx, "shaanxi_2022", "2022-10", ["140200", "140300"]).set_index(
        ["region_code", "target_id"])
    # the level of 2019-06 (58) is the level before the period (the window starts 2021-01); 2022-10: 66
    assert shaanxi.loc[("140200", "sn22_advantage_enterprises"), "current"] == 66 - 58
    assert shaanxi.loc[("140300", "sn22_patent_intensive_share"), "baseline_period"] == "2021-12"
