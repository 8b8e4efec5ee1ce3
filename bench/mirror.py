"""The store on PostgreSQL beside the DuckDB file at national scale (docs/decisions.md D19):
``python -m bench --store postgresql://…`` (or ``--store postgresql``: a throw-away cluster) runs it
as its last step; ``python -m bench.mirror [--scale small] [--store postgresql://…]`` runs it alone.

Builds the same national store on PostgreSQL (the writer's bulk load) and on a DuckDB file, then
measures both in this one process, the same operations one after the other: the bulk load; the
read mirror loaded whole from PostgreSQL (what a dashboard process pays at its first read); a commit
of 100 values and its rollback, with the mirror's incremental catch-up after each; reading and
evaluating every target of every region (from the mirror, from the file); the loader (plan_upload
and commit_plan) of the full-history file into an empty store against its floor (``read_csv`` and
the writer's bulk load, bench/steps.py ``_bare_load``), each in a database of its own beside
``--store``'s (so ``--store`` needs a user who may CREATE DATABASE). Without ``--store`` a
throw-away cluster is started (devtools/postgres.py, durable: it syncs its commits as DuckDB does).
Timings live here, never in test asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

import pandas as pd

from bench.__main__ import AS_OF, GOAL_FLOOR_RATIO


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


def _row(measure: str, duckdb: float | None, postgresql: float | None, note: str = "") -> dict:
    return {"step": "postgresql", "measure": measure, "duckdb": duckdb, "postgresql": postgresql,
            "ratio": postgresql / duckdb if duckdb and postgresql is not None else None, "note": note}


def history_file(workdir: Path, ctx, codes) -> Path:
    """The full-history file ``python -m bench``'s build step writes (bench/steps.py), written here
    when that step did not run in this directory."""
    from bench.national import write_history_csv
    from bench.steps import HISTORY_REGION
    from devtools.national import national_parts

    path = workdir / "history.csv"
    if not path.exists():
        history = {HISTORY_REGION, *(r.code for r in ctx.regions.descendants(HISTORY_REGION))}
        parts = national_parts(ctx.config, codes, ctx.population)
        write_history_csv(pd.concat([p[p["region_code"].isin(history)] for p in parts], ignore_index=True), path)
    return path


def load_and_floor(empty_store, path: Path, rounds: int = 3) -> tuple[float, float, int, str]:
    """The loader's time (plan_upload + commit_plan of the whole file, beyond an upload's limits)
    into an empty store, and its floor's (bench/steps.py ``_bare_load``) into another, one after
    the other ``rounds`` times, each from empty: the best of each, the values loaded, and the
    spread of both (a note). ``empty_store``: a function of a name giving the location of a new,
    empty store."""
    from bench.steps import _bare_load
    from etl.loader import commit_plan, plan_upload
    from etl.readers import ReadLimits
    from monitor.context import open_context

    data = path.read_bytes()
    loaders, floors = [], []
    for _ in range(rounds):
        ctx = open_context(store_path=empty_store("bench_loader"))
        started = time.perf_counter()
        plan = plan_upload(ctx.store, ctx.config, ctx.regions, data, path.name, population=ctx.population,
                           max_bytes=len(data) + 1, limits=ReadLimits(rows=len(data), cells=len(data) * 2))
        assert plan.ok, plan.errors[:3]
        commit_plan(ctx.store, plan, accept_warnings=True)
        loaders.append(time.perf_counter() - started)
        floors.append(timed(_bare_load, open_context(store_path=empty_store("bench_floor")).store, path)[1])
    spread = f"loader {min(loaders):.2f}–{max(loaders):.2f} s, floor {min(floors):.2f}–{max(floors):.2f} s"
    return min(loaders), min(floors), len(plan.rows), spread


def _loader_rows(url: str, workdir: Path, ctx, codes) -> list[dict]:
    from devtools.postgres import create_database
    from monitor.postgres import close_pools
    from monitor.store.mirror import close_mirrors

    path = history_file(workdir, ctx, codes)

    def duckdb_file(name: str) -> Path:
        for stale in (workdir / f"{name}.duckdb", workdir / f"{name}.duckdb.wal"):
            stale.unlink(missing_ok=True)
        return workdir / f"{name}.duckdb"

    loader_d, floor_d, n, spread_d = load_and_floor(duckdb_file, path)
    def postgresql_database_named(name: str) -> str:
        # a database made again under the same URL: neither the connections to the one before nor its
        # read mirror may serve it
        close_mirrors()
        close_pools()
        return create_database(url, name, replace=True)

    loader_p, floor_p, _, spread_p = load_and_floor(postgresql_database_named, path)
    ratio_d, ratio_p = floor_d / loader_d, floor_p / loader_p
    goal = f"≥ {GOAL_FLOOR_RATIO}"
    return [
        _row("loader: plan_upload + commit_plan (full history)", loader_d, loader_p,
             f"{n:,} values into an empty store; best of 3 rounds"),
        _row("floor: read_csv + bulk_load (the two inserts, commit)", floor_d, floor_p,
             "no validation, no diff, no file kept (writer.bulk_load); best of 3 rounds alternating with the loader's"),
        _row("  rounds' spread", None, None, f"DuckDB {spread_d}; PostgreSQL {spread_p}"),
        {**_row("loader ÷ floor (a ratio, not seconds)", ratio_d, ratio_p,
                f"goal {goal} on each engine: the loader within 2× of its floor's time"),
         "ratio": None, "goal": goal, "ok": min(ratio_d, ratio_p) >= GOAL_FLOOR_RATIO},
    ]


def side_by_side(url: str, workdir: Path, scale: str) -> list[dict]:
    """The measurements, each as a row with a DuckDB and a PostgreSQL figure (None where the
    operation exists on one engine only); ``url``: an empty PostgreSQL database."""
    from monitor.store import writer
    from monitor.store.mirror import Mirror, mirror_of

    ctx_pg, codes, n, t_pg = build(url, scale)
    duck_file = workdir / "side-by-side.duckdb"
    for stale in (duck_file, duck_file.with_name(duck_file.name + ".wal")):
        stale.unlink(missing_ok=True)
    ctx_duck, _, _, t_duck = build(duck_file, scale)
    rows = [_row("bulk load (one batch, with its log)", t_duck, t_pg, f"{n:,} values")]
    rows += _loader_rows(url, workdir, ctx_duck, codes)

    fresh = Mirror(url)
    _, t_full = timed(fresh.refresh)
    (count,) = fresh.db.execute("SELECT count(*) FROM observations").fetchone()
    fresh.close()
    rows.append(_row("read mirror: full load (a process's first read)", None, t_full,
                     f"{count:,} observations and their log, Arrow (ADBC)"))

    mirror = mirror_of(url)
    mirror.refresh()
    small = pd.DataFrame({"region_code": codes[:100], "indicator_id": "invention_patents", "month": "2026-10",
                          "value": 1.0, "origin": "upload", "source_url": None, "note": None})
    bench_writer = writer.Writer.internal("bench")
    batches, times = {}, {}
    for ctx in (ctx_duck, ctx_pg):  # the first write of a process pays for its imports: not measured
        writer.commit(ctx.store, small.head(1).assign(month="2026-09"), writer.BatchSource("warm-up.csv", "warm-up"),
                      by=bench_writer, at=datetime(2026, 11, 20), review=False)
    mirror.refresh()
    for engine, ctx in (("duckdb", ctx_duck), ("postgresql", ctx_pg)):
        batches[engine], times[engine] = timed(
            writer.commit, ctx.store, small, writer.BatchSource("bench-small.csv", "bench-small"),
            by=bench_writer, at=datetime(2026, 11, 20), review=False)
    rows.append(_row("commit of 100 values", times["duckdb"], times["postgresql"],
                     "diff, delete, insert, log, in one transaction"))
    _, t_catch_up = timed(mirror.refresh)
    rows.append(_row("read mirror: catch-up after that commit", None, t_catch_up, "from observation_log.seq"))
    _, t_check = timed(mirror.refresh)
    rows.append(_row("read mirror: check with nothing new", None, t_check, "one data_version read"))
    for engine, ctx in (("duckdb", ctx_duck), ("postgresql", ctx_pg)):
        _, times[engine] = timed(writer.rollback_batch, ctx.store, batches[engine], by=bench_writer,
                                 at=datetime(2026, 11, 20))
    rows.append(_row("rollback of that commit", times["duckdb"], times["postgresql"], "exact restore, logged"))
    _, t_catch_up = timed(mirror.refresh)
    rows.append(_row("read mirror: catch-up after the rollback", None, t_catch_up))

    for ctx in (ctx_duck, ctx_pg):  # each engine's first read warms caches and imports: measure the second
        evaluate_everything(ctx, codes)
    (d_read, d_eval, evaluations), (p_read, p_eval, _) = (evaluate_everything(ctx_duck, codes),
                                                          evaluate_everything(ctx_pg, codes))
    rows.append(_row("read every indicator, every region", d_read, p_read, "PostgreSQL: from the mirror"))
    rows.append(_row("evaluate every target of every region", d_eval, p_eval, f"{evaluations:,} evaluations"))
    return rows


@contextmanager
def postgresql_database(store: str | None):
    """The database the measurements use: ``store`` as given (an empty database), or for None or
    "postgresql" a new one on a throw-away durable cluster, stopped and deleted afterwards."""
    from devtools.postgres import temporary_cluster

    given = store not in (None, "postgresql")
    with nullcontext(None) if given else temporary_cluster(durable=True) as cluster:
        yield store if given else cluster.create_database("national")


def print_side_by_side(rows: list[dict]) -> None:
    def seconds(value):
        return f"{value:,.3f}" if value is not None else "—"

    print(f"{'measure (seconds)':<52} {'DuckDB':>9} {'PostgreSQL':>11} {'PG ÷ DuckDB':>12}  note")
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r.get("ratio") is not None else ""
        ok = "" if r.get("ok") is None else (" (yes)" if r["ok"] else " (NO)")
        print(f"{r['measure']:<52} {seconds(r['duckdb']):>9} {seconds(r['postgresql']):>11} {ratio:>12}  "
              f"{r['note']}{ok}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mirror", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["national", "small"], default="national")
    parser.add_argument("--store", help="an empty PostgreSQL database (postgresql://…); default: a throw-away cluster")
    args = parser.parse_args(argv)
    with postgresql_database(args.store) as url, tempfile.TemporaryDirectory(prefix="bench-mirror-") as tmp:
        rows = side_by_side(url, Path(tmp), args.scale)
    print_side_by_side(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
