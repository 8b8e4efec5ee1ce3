"""Upload benchmark: validation and preview of a 100,000-row monthly file, long and wide.

    python -m bench.upload                 # 100,000 values, printed as a table
    python -m bench.upload --rows 20000 --csv upload.csv

The file is what a national office would send for one month: every city and county of China ×
the stored monthly indicators (regions by code, some by their full name), GBK-encoded, with a
title row. Figures are measured in one run against a baseline from the same run: pandas'
``read_csv`` of the same bytes, the practical floor for merely parsing the file.

Goal (docs/decisions.md D15): a 100,000-row file validates and previews "in seconds".
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from devtools.monthly_upload import monthly_file


@dataclass(frozen=True)
class Row:
    step: str
    seconds: float
    rows: int
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("nan")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run(rows: int) -> list[Row]:
    from etl.layout import to_raw
    from etl.loader import commit_plan, plan_upload
    from etl.readers import read_grid
    from monitor.context import open_context

    results: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        ctx = open_context(store_path=Path(tmp) / "monitor.duckdb")
        for shape in ("long", "wide"):
            # the wide file has other values: previewed against the long file's, every value changes
            data, truth = monthly_file(ctx.config, ctx.regions, rows, wide=shape == "wide",
                                       seed=7 if shape == "long" else 8)
            n = len(truth)
            _, baseline = timed(pd.read_csv, io.BytesIO(data), encoding="gb18030", skiprows=1, dtype=str)
            results.append(Row(f"{shape}: pandas read_csv (baseline)", baseline, n, f"{len(data) / 1e6:.1f} MB"))
            grid, t = timed(read_grid, data, "bench.csv")
            results.append(Row(f"{shape}: read (decode + CSV)", t, n, f"{t / baseline:.1f}× baseline"))
            _, t = timed(to_raw, grid, ctx.config)
            results.append(Row(f"{shape}: layout (header, shape)", t, n, f"{t / baseline:.1f}× baseline"))
            plan, t = timed(plan_upload, ctx.store, ctx.config, ctx.regions, data, "bench.csv",
                            population=ctx.population)
            assert plan.ok, plan.errors[:3]
            assert len(plan.rows) == n, (len(plan.rows), n)
            c = plan.counts()
            results.append(Row(f"{shape}: validate + preview", t, n,
                               f"{t / baseline:.1f}× baseline; {c['new']} new, {c['changed']} changed, "
                               f"{c['warnings']} warnings"))
            if shape == "long":
                batch, t = timed(commit_plan, ctx.store, plan, accept_warnings=True)
                results.append(Row("long: commit (one transaction)", t, n, f"batch {batch}"))
                again, t = timed(plan_upload, ctx.store, ctx.config, ctx.regions, data, "bench.csv",
                                 population=ctx.population)
                results.append(Row("long: preview of the same file again", t, n,
                                   f"{again.counts()['unchanged']} unchanged; duplicate of batch {again.duplicate_of}"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upload", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="values in the file (default 100,000)")
    parser.add_argument("--csv", help="also write the figures to this CSV file")
    args = parser.parse_args(argv)
    results = run(args.rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'step':<48}{'seconds':>9}{'values':>9}{'values/s':>11}  note")
    for r in results:
        print(f"{r.step:<48}{r.seconds:>9.2f}{r.rows:>9}{r.per_second:>11,.0f}  {r.note}")
    print(f"peak memory of the process: {peak_mb:,.0f} MB")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "seconds", "values", "values_per_second", "note"])
            for r in results:
                writer.writerow([r.step, f"{r.seconds:.3f}", r.rows, f"{r.per_second:.0f}", r.note])
            writer.writerow(["peak_memory_mb", f"{peak_mb:.0f}", "", "", ""])
    return 0


if __name__ == "__main__":
    sys.exit(main())
