"""The upload benchmark runs small in the suite so it cannot rot (through its command line, as a
person runs it); its generator (devtools/monthly_upload.py) is deterministic and the loader reads
back exactly what it wrote."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from devtools.monthly_upload import monthly_file
from etl.loader import plan_upload

ROOT = Path(__file__).parent.parent


def test_the_benchmark_file_loads_back_exactly_its_values(store, config, regions):
    data, truth = monthly_file(config, regions, 600, wide=False)
    again, _ = monthly_file(config, regions, 600, wide=False)
    assert data == again and data.startswith("2026年9月".encode("gb18030"))
    plan = plan_upload(store, config, regions, data, "bench.csv", today=date(2026, 11, 23))
    assert plan.ok and not plan.warnings
    loaded = plan.rows[["region_code", "indicator_id", "month", "value"]].sort_values(
        ["region_code", "indicator_id", "month"]).reset_index(drop=True)
    expected = truth.sort_values(["region_code", "indicator_id", "month"]).reset_index(drop=True)
    assert loaded.values.tolist() == expected[["region_code", "indicator_id", "month", "value"]].values.tolist()


def test_the_wide_benchmark_file_holds_the_same_number_of_values(store, config, regions):
    data, truth = monthly_file(config, regions, 600, wide=True)
    plan = plan_upload(store, config, regions, data, "bench.csv", today=date(2026, 11, 23))
    assert plan.ok and len(plan.rows) == len(truth) >= 600


def test_a_small_run_prints_and_writes_every_step(tmp_path):
    out = tmp_path / "upload.csv"
    done = subprocess.run([sys.executable, "-m", "bench.upload", "--rows", "800", "--csv", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout
    assert "validate + preview" in printed and "peak memory" in printed
    steps = [row["step"] for row in csv.DictReader(out.open(encoding="utf-8"))]
    assert steps[:4] == ["long: pandas read_csv (baseline)", "long: read (decode + CSV)", "long: layout (header, shape)",
                         "long: validate + preview"]
    assert "long: commit (one transaction)" in steps and "wide: validate + preview" in steps
