"""The national benchmark: its generator (devtools/national.py) is deterministic, and a small run
of the whole benchmark runs in the suite so it cannot rot (its figures are printed, never asserted).
The benchmark is run only through its command line, as a person runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from devtools.national import generate_national, national_population, scale_regions

ROOT = Path(__file__).parent.parent


def bench(*args: str) -> subprocess.CompletedProcess:
    """``python -m bench ARGS`` (or ``python -m bench.sweep`` …: the module is the first arg)."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


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


def test_a_small_run_prints_every_figure_and_writes_the_csv(tmp_path):
    out = tmp_path / "national.csv"
    done = bench("bench", "--scale", "small", "--steps", "build,load,upload,evaluate,pages", "--csv", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout
    for words in ("loader ÷ DuckDB read_csv", "evaluate every target of every region", "national: grid",
                  "demo: overview", "validate + preview", "peak memory of any step"):
        assert words in printed
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert all(r["measure"] != "failed" for r in rows)
    assert all(r["peak_mb"] for r in rows if r["step"] != "all" or r["measure"].startswith("peak"))


def test_the_sweep_covers_every_set_at_three_region_levels_and_three_months(config):
    done = bench("bench.sweep", "states", "--months", "2022-06,2024-06,2026-10")
    assert done.returncode == 0, done.stderr
    states = json_lines(done.stdout)
    assert len(states) == len(config.target_sets) * 3 * 3
    national = [s for s in states if s["target_set"] == "national_14th_plan"]
    assert {s.get("county") for s in national} == {None, "140525"}  # 泽州县 under the national set
    for state in states:  # never a region above the set's own (a city's plan is not its province's)
        assert state["region"] != "140000" or config.target_set(state["target_set"]).region in ("140000", "100000")


SWEEP_PAGES = ["overview", "indicator", "compare", "map", "grid", "rankings"]


def test_the_sweep_summary_names_every_state_over_the_goal(tmp_path):
    runs = [{"state": f"s{k}", "page": page, "seconds": 0.5, "problem": ""} for k in range(3) for page in SWEEP_PAGES]
    runs[4] = {**runs[4], "seconds": 2.5}
    (tmp_path / "runs.json").write_text(json.dumps(runs), encoding="utf-8")
    done = bench("bench.sweep", "summary", str(tmp_path / "runs.json"))
    assert done.returncode == 0, done.stderr
    rows = json_lines(done.stdout)
    assert [r["measure"] for r in rows[:-1]] == [f"sweep: {page} (3 states), worst" for page in SWEEP_PAGES]
    assert len(rows) == len(SWEEP_PAGES) + 1
    over = rows[-1]
    assert over["ok"] is False and over["value"] == 2.5 and over["note"] == "s0"
    assert [r["ok"] for r in rows[:-1]].count(False) == 1
