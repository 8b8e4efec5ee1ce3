"""National-scale benchmark (goals: docs/decisions.md D15): ``python -m bench [--scale small] [--csv national.csv]``.

Builds a national store from the seeded generator (bench/national.py) in a temporary directory
and measures, in the same run, each step in its own process (so each step's peak memory is its
own): the loader on a full-history file against DuckDB's ``read_csv`` of the same file and
against its floor (``read_csv`` and a commit's two inserts, no validation); validation
and preview of a 100,000-row monthly upload; every target of every region at one as-of month;
each page's server-side run (AppTest) at national and at demo scale; every evaluating page in every
state (target set × region level × as-of month, bench/sweep.py) and the default and five heavy
views in a real browser; PNG export per chart and a whole briefing. Prints one table and optionally
writes it as CSV. With ``--store postgresql://…`` (an empty database) or ``--store postgresql`` (a
throw-away cluster, devtools/postgres.py) a last step measures the store on PostgreSQL beside a
DuckDB file, the same operations in the same process (bench/mirror.py), printed as a second table
with both columns. Timings live here, never in test asserts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).parent.parent
GOAL_LOAD_RATIO = 0.5
GOAL_FLOOR_RATIO = 0.5  # the loader within 2× of its floor: read_csv and the two inserts, no validation
GOAL_EVALUATE_S = 1.0
GOAL_PAGE_S = 2.0
GOAL_MEMORY_MB = 2048
AS_OF = "2025-06"
PAGES = ["overview", "indicator", "compare", "map", "grid", "rankings", "tasks", "upload", "history", "completeness"]


def run_step(step: str, workdir: Path, scale: str, *extra: str) -> list[dict]:
    """One step in a fresh interpreter; returns its measurements (each with the step's peak memory)."""
    out = workdir / f"{step}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.steps", step, str(workdir), scale, str(out), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return [{"step": step, "measure": "failed", "value": None, "unit": "", "goal": "", "ok": False,
                 "note": " | ".join(tail), "peak_mb": None, "wall_s": time.perf_counter() - started}]
    return json.loads(out.read_text(encoding="utf-8"))


def print_table(rows: list[dict]) -> None:
    print(f"{'step':<10} {'measure':<52} {'value':>12} {'unit':<8} {'goal':<14} {'ok':<4} {'peak MB':>8}  note")
    for r in rows:
        value = "" if r["value"] is None else (f"{r['value']:,.3f}" if isinstance(r["value"], float) else f"{r['value']:,}")
        ok = "" if r.get("ok") is None else ("yes" if r["ok"] else "NO")
        peak = "" if r.get("peak_mb") is None else f"{r['peak_mb']:,.0f}"
        print(f"{r['step']:<10} {r['measure']:<52} {value:>12} {r['unit']:<8} {r.get('goal', ''):<14} {ok:<4} "
              f"{peak:>8}  {r.get('note', '')}")


def write_csv(rows: list[dict], path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["step", "measure", "value", "unit", "goal", "ok", "peak_mb", "note", "duckdb",
                                    "postgresql", "ratio"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["national", "small"], default="national",
                        help="national: every region of China (~11.5 million values); small: 山西 and a few more "
                             "(~0.5 million, for the test suite)")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    parser.add_argument("--steps", help="comma-separated subset of: " + ",".join(STEPS))
    parser.add_argument("--keep", help="build the stores in this directory and keep them")
    parser.add_argument("--store", help="also measure the store on PostgreSQL beside DuckDB: an empty database "
                                        "(postgresql://…), or 'postgresql' for a throw-away cluster")
    args = parser.parse_args(argv)
    if args.store and args.store != "postgresql" and not args.store.startswith(("postgresql://", "postgres://")):
        parser.error("--store takes postgresql://… or postgresql")
    steps = args.steps.split(",") if args.steps else STEPS
    started = time.perf_counter()
    from bench.mirror import postgresql_database, print_side_by_side

    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp, \
            (postgresql_database(args.store) if args.store else nullcontext()) as url:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows: list[dict] = []
        for step in steps:
            rows += run_step(step, workdir, args.scale)
            print(f"… {step} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        if url:
            rows += run_step("postgresql", workdir, args.scale, url)
            print(f"… postgresql done ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    peak = max((r["peak_mb"] for r in rows if r.get("peak_mb")), default=0)
    rows.append({"step": "all", "measure": "peak memory of any step", "value": float(peak), "unit": "MB",
                 "goal": f"< {GOAL_MEMORY_MB} MB", "ok": peak < GOAL_MEMORY_MB, "peak_mb": peak, "note": ""})
    rows.append({"step": "all", "measure": "whole benchmark (wall)", "value": time.perf_counter() - started,
                 "unit": "s", "goal": "< 600 s", "ok": time.perf_counter() - started < 600, "peak_mb": None,
                 "note": f"scale {args.scale}"})
    print_table([r for r in rows if "duckdb" not in r])
    side = [r for r in rows if "duckdb" in r]
    if side:
        print()
        print_side_by_side(side)
    if args.csv:
        write_csv(rows, args.csv)
    return 0 if all(r["measure"] != "failed" for r in rows) else 1


STEPS = ["build", "load", "upload", "evaluate", "pages", "sweep", "browser", "exports"]

if __name__ == "__main__":
    sys.exit(main())
