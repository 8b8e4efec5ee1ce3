"""The set-based evaluator agrees with the per-target reference evaluation (monitor/evaluation.py):
same status and same numbers, for every target of every set, on a sample of regions of the
benchmark's generated store (late starts and missing months included), at several as-of months."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bench.national import bulk_load, generate_national, scale_regions
from monitor.config import MilestoneTarget
from monitor.context import Context
from monitor.evaluation import Status
from monitor.evaluation_batch import NUMBER_COLUMNS, evaluate_regions, read_panels
from monitor.overview import evaluate_target_set

COMPARED = [c for c in NUMBER_COLUMNS if c != "reference_value"]


@pytest.fixture(scope="module")
def small_ctx(tmp_path_factory, config, regions, population):
    from monitor.store import Store

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
    sample = codes[::25] + ["140500", "610000", "100000"]
    compared, statuses = 0, set()
    for tset in small_ctx.config.target_sets:
        if all(isinstance(t, MilestoneTarget) for t in tset.targets):
            continue
        batch = evaluate_regions(small_ctx, tset.id, as_of, codes).set_index(["region_code", "target_id"])
        for code in sample:
            reference = evaluate_target_set(small_ctx, tset.id, as_of, code)
            for row in reference[reference["type"] != "milestone"].itertuples():
                got = batch.loc[(code, row.target_id)]
                where = f"{tset.id} {row.target_id} {code} as of {as_of}: {row.explanation}"
                assert got["status"] == row.status, where
                for column in [*COMPARED, "current_period", "baseline_period"]:
                    assert _same(getattr(row, column), got[column]), f"{column}: {where}"
                assert _same(got["adjusted"], row.adjusted), where
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
