"""The national benchmark: its generator is deterministic, and a small run of the whole benchmark
runs in the suite so it cannot rot (its figures are printed, never asserted)."""

from __future__ import annotations

import csv

import pandas as pd

from bench.__main__ import main
from bench.national import generate_national, national_population, scale_regions


def test_the_generator_gives_the_same_rows_for_the_same_seed(config, regions, population):
    one = generate_national(config, regions, population, scale="small")
    two = generate_national(config, regions, population, scale="small")
    pd.testing.assert_frame_equal(one.observations, two.observations)
    other = generate_national(config, regions, population, scale="small", seed=7)
    assert not one.observations["value"].equals(other.observations["value"])


def test_the_generated_values_cover_every_stored_indicator_with_gaps_and_late_starts(config, regions, population):
    obs = generate_national(config, regions, population, scale="small").observations
    stored = {i.id for i in config.indicators if i.kind != "derived"}
    assert set(obs["indicator_id"].astype(str)) == stored
    assert not obs.duplicated(["region_code", "indicator_id", "month"]).any()
    firsts = obs.assign(month=obs["month"].astype(str)).groupby(["region_code", "indicator_id"], observed=True)["month"].min()
    assert (firsts == "2015-01").mean() < 0.95 and (firsts > "2015-12").any()
    annual = {i.id for i in config.indicators if i.frequency == "annual" and i.kind != "derived"}
    assert obs[obs["indicator_id"].isin(annual)]["month"].astype(str).str.endswith("-12").all()


def test_the_national_scale_is_every_division_and_every_one_has_a_population(regions, population):
    codes = scale_regions(regions, "national")
    assert len(codes) > 3200
    pop = national_population(regions, population, codes)
    assert all(pop.lookup(c, "2022-06") is not None for c in codes)
    assert pop.lookup("140500", "2022-06") == population.lookup("140500", "2022-06")  # real figures kept


def test_a_small_run_prints_every_figure_and_writes_the_csv(tmp_path, capsys):
    out = tmp_path / "national.csv"
    assert main(["--scale", "small", "--steps", "build,load,upload,evaluate,pages", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    for words in ("loader ÷ DuckDB read_csv", "evaluate every target of every region", "national: grid",
                  "demo: overview", "validate + preview", "peak memory of any step"):
        assert words in printed
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert all(r["measure"] != "failed" for r in rows)
    assert all(r["peak_mb"] for r in rows if r["step"] != "all" or r["measure"].startswith("peak"))


def test_the_sweep_covers_every_set_at_three_region_levels_and_three_months(config):
    from bench.sweep import sweep_states

    states = sweep_states(config, ["2022-06", "2024-06", "2026-10"])
    assert len(states) == len(config.target_sets) * 3 * 3
    national = [s for s in states if s["target_set"] == "national_14th_plan"]
    assert {s.get("county") for s in national} == {None, "140525"}  # 泽州县 under the national set
    for state in states:  # never a region above the set's own (a city's plan is not its province's)
        assert state["region"] != "140000" or config.target_set(state["target_set"]).region in ("140000", "100000")


def test_the_sweep_summary_names_every_state_over_the_goal():
    from bench.sweep import SWEEP_PAGES, summarise

    runs = [{"state": f"s{k}", "page": page, "seconds": 0.5, "problem": ""} for k in range(3) for page in SWEEP_PAGES]
    runs[4] = {**runs[4], "seconds": 2.5}
    rows = summarise(runs)
    assert len(rows) == len(SWEEP_PAGES) + 1
    over = rows[-1]
    assert over["ok"] is False and over["value"] == 2.5 and over["note"] == "s0"
    assert [r["ok"] for r in rows[:-1]].count(False) == 1
