"""The store on PostgreSQL at national scale (docs/decisions.md D19):
``python -m bench.mirror [--scale small] [--store postgresql://…]``.

Builds the national store on PostgreSQL (the writer's bulk load) and on a DuckDB file, then
measures, in this one process: the read mirror loaded whole from PostgreSQL; a small commit and the
mirror's incremental catch-up after it; reading and evaluating every target of every region from
the mirror and from the DuckDB file. Without ``--store`` a throw-away cluster is started
(devtools/postgres.py, durable: it syncs its commits as DuckDB does). Timings live here, never in
test asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import pandas as pd

from bench.__main__ import AS_OF


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def build(location, scale: str):
    from devtools.national import bulk_load, national_parts, national_population, scale_regions
    from monitor.context import open_context

    ctx = open_context(store_path=location)
    codes = scale_regions(ctx.regions, scale)
    pop = national_population(ctx.regions, ctx.population, codes)
    parts = list(national_parts(ctx.config, codes, pop))
    _, seconds = timed(bulk_load, ctx.store, parts)
    return dataclasses.replace(ctx, population=pop), codes, sum(len(p) for p in parts), seconds


def evaluate_everything(ctx, codes) -> tuple[float, float, int]:
    from monitor.domain.config import MilestoneTarget
    from monitor.evaluation.panels import panel_windows, read_panels
    from monitor.evaluation.sets import evaluate_sets

    sets = [s for s in ctx.config.target_sets if any(not isinstance(t, MilestoneTarget) for t in s.targets)]
    targets = [t for s in sets for t in s.targets if not isinstance(t, MilestoneTarget)]
    needed = sorted({t.indicator for t in targets})
    windows = panel_windows(ctx.config, targets, AS_OF)
    (panel_codes, panels), t_read = timed(read_panels, ctx.store, ctx.config, needed, codes, AS_OF, ctx.population,
                                          since=windows)
    frames, t_eval = timed(lambda: list(evaluate_sets(ctx, [s.id for s in sets], AS_OF, codes, panels=panels,
                                                      panel_codes=panel_codes).values()))
    return t_read, t_eval, sum(len(f) for f in frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mirror", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["national", "small"], default="national")
    parser.add_argument("--store", help="an empty PostgreSQL database (postgresql://…); default: a throw-away cluster")
    args = parser.parse_args(argv)
    from devtools.postgres import temporary_cluster
    from monitor.store import writer
    from monitor.store.mirror import Mirror, mirror_of

    rows: list[tuple[str, float, str]] = []
    with (nullcontext(None) if args.store else temporary_cluster(durable=True)) as cluster, \
            tempfile.TemporaryDirectory(prefix="bench-mirror-") as tmp:
        url = args.store or cluster.create_database("national")
        ctx_pg, codes, n, t_pg = build(url, args.scale)
        rows.append(("bulk load into PostgreSQL (one batch, with its log)", t_pg, f"{n:,} values"))
        ctx_duck, _, _, t_duck = build(Path(tmp) / "national.duckdb", args.scale)
        rows.append(("bulk load into a DuckDB file (the same)", t_duck, f"{n:,} values"))

        fresh = Mirror(url)
        _, t_full = timed(fresh.refresh)
        (count,) = fresh.db.execute("SELECT count(*) FROM observations").fetchone()
        fresh.close()
        rows.append(("read mirror: full load from PostgreSQL", t_full, f"{count:,} observations and their log"))

        mirror = mirror_of(url)
        mirror.refresh()
        small = pd.DataFrame({"region_code": codes[:100], "indicator_id": "invention_patents", "month": "2026-10",
                              "value": 1.0, "origin": "upload", "source_url": None, "note": None})
        _, t_commit = timed(writer.commit, ctx_pg.store, small, writer.BatchSource("bench-small.csv", "bench-small"),
                            by=writer.Writer.internal("bench"), at=datetime(2026, 11, 20), review=False)
        rows.append(("commit of 100 values (PostgreSQL)", t_commit, "diff, delete, insert, log, in one transaction"))
        _, t_small_duck = timed(writer.commit, ctx_duck.store, small,
                                writer.BatchSource("bench-small.csv", "bench-small"),
                                by=writer.Writer.internal("bench"), at=datetime(2026, 11, 20), review=False)
        rows.append(("commit of 100 values (DuckDB file)", t_small_duck, ""))
        _, t_catch_up = timed(mirror.refresh)
        rows.append(("read mirror: catch-up after that commit", t_catch_up, "incremental, from observation_log.seq"))
        _, t_check = timed(mirror.refresh)
        rows.append(("read mirror: check with nothing new", t_check, "one data_version read"))

        for label, ctx in (("mirror of PostgreSQL", ctx_pg), ("DuckDB file", ctx_duck)):
            t_read, t_eval, evaluations = evaluate_everything(ctx, codes)
            rows.append((f"read every indicator, every region ({label})", t_read, ""))
            rows.append((f"evaluate every target of every region ({label})", t_eval, f"{evaluations:,} evaluations"))
    print(f"{'measure':<62} {'seconds':>9}  note")
    for measure, seconds, note in rows:
        print(f"{measure:<62} {seconds:>9.3f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
