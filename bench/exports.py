"""Export benchmark: PNG time per chart (cold and warm) and the time of whole briefings.

    python -m bench.exports                      # demo store built in a temporary directory
    python -m bench.exports --db data/monitor.duckdb --csv exports.csv

Goals (docs/decisions.md D15): under 0.5 s per chart warm; under 15 s per briefing with 10 or more charts;
under 5 s for the briefing of one region as ``python -m etl briefing`` builds it, its browser not yet
started. That figure is set against a baseline from the same run (the machine is shared, and its load
moves every figure): the same briefing without its charts, printed by a browser already running, the
floor every briefing pays; the browser's own start is measured on a row of its own.
Self-contained: it builds its own demo store unless --db is given, and prints one table.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GOAL_CHART_S = 0.5
GOAL_BRIEFING_S = 15.0
GOAL_BRIEFING_MIN_CHARTS = 10
GOAL_ONE_REGION_S = 5.0
# (target set, region, as-of month): the issue's own example, a city measured against another
# city's targets, and a province set with many targets.
BRIEFINGS = [
    ("jincheng_2025", "140500", "2025-12"),
    ("jincheng_2025", "140100", "2025-12"),
    ("shaanxi_2022", "610000", "2022-12"),
]


@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float
    detail: str = ""
    goal: str = ""
    ok: bool | None = None


def _open_store(db: str | None):
    from monitor.context import load_demo_data, open_context

    if db:
        return open_context(store_path=db), None
    tmp = tempfile.TemporaryDirectory(prefix="bench-exports-")
    ctx = open_context(store_path=Path(tmp.name) / "monitor.duckdb")
    load_demo_data(ctx, end="2026-10")
    return ctx, tmp


def _figures(ctx, n: int):
    """``n`` figures as the pages draw them: each Jincheng target's trajectory and its city ranking."""
    from monitor.views.charts import comparison_figure
    from monitor.views.comparison import compare_regions
    from monitor.views.detail import indicator_detail

    tset = ctx.config.target_set("jincheng_2025")
    figures = []
    for target in tset.targets:
        if not hasattr(target, "indicator"):  # a task (MilestoneTarget) draws no chart
            continue
        ind = ctx.config.indicator(target.indicator)
        figures.append(indicator_detail(ctx, target.indicator, "140500", "2025-12", set_id=tset.id,
                                        target_id=target.id).figure)
        cities = compare_regions(ctx, target.indicator, "140000", "2025-12", tset.id).dropna(subset=["value"])
        figures.append(comparison_figure(cities, title=f"山西省各市{ind.name}排名", unit=ind.unit, as_of="2025-12",
                                         has_demo=True))
    return (figures * (n // len(figures) + 1))[:n]


def run(db: str | None = None, charts: int = 10, briefings: list[tuple[str, str, str]] | None = None) -> list[Measurement]:
    from monitor.output.briefing import briefing_pdf, build_briefing, build_context
    from monitor.output.export import figure_pdf, figure_png, prepare_printing, shutdown

    ctx, tmp = _open_store(db)
    try:
        results = []
        set_id, region, as_of = (briefings or BRIEFINGS)[0]
        # The evaluation once, unmeasured, so that the cold briefing below pays for its browser, not
        # for the store's first reads; no browser is started by it.
        build_context(ctx, set_id, region, as_of, with_charts=False)
        shutdown()  # as the command line starts: no browser yet
        started = time.perf_counter()
        briefing = build_briefing(ctx, set_id, region, as_of)
        seconds = time.perf_counter() - started
        cold = (briefing, seconds)
        started = time.perf_counter()
        briefing_pdf(build_context(ctx, set_id, region, as_of, with_charts=False)[0])
        baseline = time.perf_counter() - started
        results.append(Measurement("briefing without charts (baseline)", baseline,
                                   f"{set_id} {region} {as_of}; evaluated and printed, the browser already running"))
        briefing, seconds = cold
        steps = ", ".join(f"{k} {v:.1f}" for k, v in briefing.seconds.items())
        results.append(Measurement(
            "briefing, one region", seconds,
            f"{seconds / baseline:.1f}× baseline; browser started by it; {briefing.chart_count} charts; {steps}",
            f"< {GOAL_ONE_REGION_S:g} s", seconds < GOAL_ONE_REGION_S))
        shutdown()
        started = time.perf_counter()
        prepare_printing()
        results.append(Measurement("browser start", time.perf_counter() - started,
                                   "kaleido's chromium and the tab PDFs are printed in, started again"))
        figures = _figures(ctx, charts)
        shutdown()  # the first chart below starts the browser again
        started = time.perf_counter()
        figure_png(figures[0])
        results.append(Measurement("png_first_chart_cold", time.perf_counter() - started,
                                   "starts the shared browser"))
        png, pdf = [], []
        for fig in figures:
            started = time.perf_counter()
            figure_png(fig)
            png.append(time.perf_counter() - started)
            started = time.perf_counter()
            figure_pdf(fig)
            pdf.append(time.perf_counter() - started)
        median = statistics.median(png)
        results.append(Measurement("png_per_chart_warm", median,
                                   f"median of {len(png)}, max {max(png):.2f} s, 2x scale",
                                   f"< {GOAL_CHART_S} s", median < GOAL_CHART_S))
        results.append(Measurement("pdf_per_chart_warm", statistics.median(pdf), f"median of {len(pdf)}"))
        for set_id, region, as_of in briefings or BRIEFINGS:
            started = time.perf_counter()
            briefing = build_briefing(ctx, set_id, region, as_of)
            seconds = time.perf_counter() - started
            steps = ", ".join(f"{k} {v:.1f}" for k, v in briefing.seconds.items())
            counted = briefing.chart_count >= GOAL_BRIEFING_MIN_CHARTS
            results.append(Measurement(
                f"briefing {set_id} {region} {as_of}", seconds,
                f"{briefing.chart_count} charts, {len(briefing.pdf) // 1024} KB; {steps}",
                f"< {GOAL_BRIEFING_S:g} s" if counted else "", seconds < GOAL_BRIEFING_S if counted else None))
        return results
    finally:
        if tmp is not None:
            tmp.cleanup()


def print_table(results: list[Measurement]) -> None:
    width = max(len(r.name) for r in results)
    print(f"{'measure':<{width}}  {'seconds':>8}  {'goal':<8}  {'ok':<4}  detail")
    for r in results:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"{r.name:<{width}}  {r.seconds:>8.3f}  {r.goal:<8}  {ok:<4}  {r.detail}")


def write_csv(results: list[Measurement], path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["measure", "seconds", "goal", "ok", "detail"])
        for r in results:
            writer.writerow([r.name, f"{r.seconds:.4f}", r.goal, "" if r.ok is None else r.ok, r.detail])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing store (default: a demo store built in a temporary directory)")
    parser.add_argument("--charts", type=int, default=10, help="charts exported warm (default 10)")
    parser.add_argument("--csv", help="also write the results to this CSV file")
    args = parser.parse_args(argv)
    from monitor.output.export import shutdown

    try:
        results = run(args.db, args.charts)
    finally:
        shutdown()
    print_table(results)
    if args.csv:
        write_csv(results, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
