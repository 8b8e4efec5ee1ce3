"""The steps of ``python -m bench``, each run in its own process:
``python -m bench.steps STEP WORKDIR SCALE OUT.json`` writes that step's measurements as JSON."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
import time
from pathlib import Path

from bench.__main__ import AS_OF, GOAL_EVALUATE_S, GOAL_FLOOR_RATIO, GOAL_LOAD_RATIO, GOAL_PAGE_S, PAGES, ROOT

PAGE_TIMEOUT_S = 60
HISTORY_REGION = "140000"  # the full-history file: a province with its cities and counties


def _row(step, measure, value, unit, goal="", ok=None, note=""):
    return {"step": step, "measure": measure, "value": value, "unit": unit, "goal": goal, "ok": ok, "note": note}


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def build(workdir: Path, scale: str) -> list[dict]:
    import pandas as pd

    from bench.national import write_history_csv
    from devtools.national import bulk_load, national_parts, national_population, scale_regions
    from monitor.context import load_demo_data, open_context

    ctx = open_context(store_path=workdir / "national.duckdb")
    codes = scale_regions(ctx.regions, scale)
    pop = national_population(ctx.regions, ctx.population, codes)
    history_codes = {HISTORY_REGION, *(r.code for r in ctx.regions.descendants(HISTORY_REGION))}
    seen = {"values": 0, "regions": set(), "indicators": 0, "months": set(), "generate_s": 0.0}
    history: list[pd.DataFrame] = []

    def parts():
        """The generator's parts, each written before the next is made (holding the whole
        national frame as well added ~350 MB to the build's peak), timed apart from the inserts."""
        generated = national_parts(ctx.config, codes, pop)
        while True:
            started = time.perf_counter()
            part = next(generated, None)
            seen["generate_s"] += time.perf_counter() - started
            if part is None:
                return
            seen["values"] += len(part)
            seen["regions"].update(part["region_code"].unique())
            seen["indicators"] += 1
            seen["months"].update(part["month"].unique())
            history.append(part[part["region_code"].isin(history_codes)])
            yield part

    _, t_total = _timed(bulk_load, ctx.store, parts())
    t_gen = seen["generate_s"]
    t_load = t_total - t_gen
    n_values = seen["values"]
    rows = [
        _row("build", "generate (seeded)", t_gen, "s", note=f"{n_values:,} values, {len(seen['regions']):,} regions × "
             f"{seen['indicators']} indicators, {min(seen['months'])}–{max(seen['months'])}"),
        _row("build", "bulk insert into the store (DuckDB, one batch)", t_load, "s",
             note=f"{n_values / t_load:,.0f} values/s incl. history log, a part per indicator as generated; "
                  f"file {(workdir / 'national.duckdb').stat().st_size / 1e6:,.0f} MB"),
    ]
    n = write_history_csv(pd.concat(history, ignore_index=True), workdir / "history.csv")
    demo = open_context(store_path=workdir / "demo.duckdb")
    demo_rows, t_demo = _timed(load_demo_data, demo, end="2026-10")
    rows.append(_row("build", "full-history file written (山西: province, cities, counties)", float(n), "values",
                     note=f"{(workdir / 'history.csv').stat().st_size / 1e6:.1f} MB CSV"))
    rows.append(_row("build", "demo store (demo generator + loader)", t_demo, "s", note=f"{demo_rows:,} values"))
    from monitor.domain.geo import prepare_maps

    maps, t_maps = _timed(prepare_maps, demo.config, demo.regions)  # as scripts/run.sh does at set-up
    rows.append(_row("build", "map cache prepared (etl init --maps, as at set-up)", t_maps, "s",
                     note=f"{len(maps)} maps; a no-op once cached"))
    return rows


LOAD_ROUNDS = 3  # the loader, read_csv and the floor, one after the other, this many times


def load(workdir: Path, scale: str) -> list[dict]:
    """The loader against ``read_csv`` and against its floor, each measured ``LOAD_ROUNDS`` times in
    turn (fresh stores each round) and compared best with best: a machine busy for a moment slows
    one round of one of them, not the comparison. The first round (this process's first load, its
    code paths cold) is reported apart."""
    import duckdb

    from etl.loader import commit_plan, plan_upload
    from etl.readers import ReadLimits
    from monitor.context import open_context

    path = workdir / "history.csv"
    data = path.read_bytes()
    rounds: list[dict] = []
    for _ in range(LOAD_ROUNDS):
        for name in ("loaded.duckdb", "loaded.duckdb.wal", "read_csv.duckdb", "read_csv.duckdb.wal",
                     "floor.duckdb", "floor.duckdb.wal"):
            (workdir / name).unlink(missing_ok=True)  # each round (and a kept directory, --keep) from empty
        ctx = open_context(store_path=workdir / "loaded.duckdb")
        # a bulk load of the whole history, far beyond an upload's limits (etl/readers.py ReadLimits)
        plan, t_plan = _timed(plan_upload, ctx.store, ctx.config, ctx.regions, data, path.name,
                              population=ctx.population, max_bytes=len(data) + 1,
                              limits=ReadLimits(rows=len(data), cells=len(data) * 2))
        assert plan.ok, plan.errors[:3]
        _, t_commit = _timed(commit_plan, ctx.store, plan, accept_warnings=True)
        con = duckdb.connect(str(workdir / "read_csv.duckdb"))
        _, t_raw = _timed(con.execute, f"CREATE TABLE raw AS SELECT * FROM read_csv('{path}')")
        raw_n = con.execute("SELECT count(*) FROM raw").fetchone()[0]
        con.close()
        floor_n, t_floor = _timed(_bare_load, open_context(store_path=workdir / "floor.duckdb").store, path)
        rounds.append({"plan": t_plan, "commit": t_commit, "loader": t_plan + t_commit, "raw": t_raw,
                       "floor": t_floor, "n": len(plan.rows), "raw_n": raw_n, "floor_n": floor_n})
    best = {k: min(r[k] for r in rounds) for k in ("loader", "raw", "floor")}
    fastest = min(rounds, key=lambda r: r["loader"])
    n, raw_n, floor_n = fastest["n"], fastest["raw_n"], fastest["floor_n"]
    loader, raw, floor = n / best["loader"], raw_n / best["raw"], floor_n / best["floor"]
    ratio = loader / raw

    def spread(key: str) -> str:
        return "–".join(f"{t:.2f}" for t in (min(r[key] for r in rounds), max(r[key] for r in rounds))) + " s"

    cold = rounds[0]
    return [
        _row("load", "loader: validate + preview (plan_upload)", fastest["plan"], "s",
             note=f"{n:,} values; best of {LOAD_ROUNDS} rounds"),
        _row("load", "loader: commit (one transaction)", fastest["commit"], "s"),
        _row("load", "loader throughput (plan + commit)", loader, "values/s",
             note=f"plan + commit {spread('loader')} over {LOAD_ROUNDS} rounds"),
        _row("load", "loader, first round (cold process)", cold["loader"], "s",
             note=f"plan {cold['plan']:.2f} s + commit {cold['commit']:.2f} s; floor that round {cold['floor']:.2f} s"),
        _row("load", "DuckDB read_csv into a table (same file)", raw, "values/s",
             note=f"{best['raw']:.2f} s ({spread('raw')}), {raw_n:,} rows"),
        _row("load", "loader ÷ DuckDB read_csv", ratio, "ratio", f"≥ {GOAL_LOAD_RATIO}", ratio >= GOAL_LOAD_RATIO),
        _row("load", "floor: read_csv + the two inserts + commit", floor, "values/s",
             note=f"{best['floor']:.2f} s ({spread('floor')}), {floor_n:,} rows; no validation, no diff, no file "
                  "kept (writer.bulk_load)"),
        _row("load", "floor ÷ DuckDB read_csv", floor / raw, "ratio"),
        _row("load", "loader ÷ floor", loader / floor, "ratio", f"≥ {GOAL_FLOOR_RATIO}", loader / floor >= GOAL_FLOOR_RATIO,
             note=f"loader {best['loader']:.2f} s, floor {best['floor']:.2f} s (best of {LOAD_ROUNDS}): "
                  "≤ 2× the floor's time"),
    ]


def _bare_load(store, path: Path) -> int:
    """The floor under the loader: the same file read by DuckDB's ``read_csv`` and written into a
    new store's observations and observation_log by the writer's bulk load (monitor/store/writer.py
    bulk_load: one batch row, the two INSERTs a commit makes, one transaction), with no
    validation, no diff and no file kept. Returns the rows written."""
    import duckdb

    from monitor.store.writer import Writer, bulk_load

    with duckdb.connect() as con:
        frame = con.execute("SELECT region_code, indicator_id, month, CAST(value AS DOUBLE) AS value "
                            f"FROM read_csv('{path}', header = true, all_varchar = true, "
                            "names = ['region_code', 'indicator_id', 'month', 'value'])").df()
    bulk_load(store, [frame], by=Writer.internal("bench"), file_name=path.name, file_key="floor", note="floor",
              row_note=None, origin="upload")
    return len(frame)


def upload(workdir: Path, scale: str) -> list[dict]:
    from devtools.monthly_upload import monthly_file
    from etl.loader import plan_upload
    from monitor.context import open_context

    ctx = open_context(store_path=workdir / "national.duckdb")
    n_rows = 100_000 if scale == "national" else 2_000
    rows = []
    for shape in ("long", "wide"):
        data, truth = monthly_file(ctx.config, ctx.regions, n_rows, wide=shape == "wide")
        plan, t = _timed(plan_upload, ctx.store, ctx.config, ctx.regions, data, "bench.csv",
                         population=ctx.population)
        assert plan.ok, plan.errors[:3]
        c = plan.counts()
        rows.append(_row("upload", f"{shape}: validate + preview of a monthly file", t, "s",
                         note=f"{len(truth):,} values against the national store; {c['changed']:,} changed, "
                              f"{c['new']:,} new, {c['warnings']:,} warnings"))
    return rows


def evaluate(workdir: Path, scale: str) -> list[dict]:
    from devtools.national import national_population, scale_regions
    from monitor.context import open_context
    from monitor.domain.config import MilestoneTarget, ReferenceTarget
    from monitor.evaluation.applied import applies_to
    from monitor.evaluation.panels import panel_windows, read_panels
    from monitor.evaluation.sets import evaluate_sets
    from monitor.evaluation.targetset import evaluate_target_set

    ctx = open_context(store_path=workdir / "national.duckdb")
    codes = scale_regions(ctx.regions, scale)
    ctx = dataclasses.replace(ctx, population=national_population(ctx.regions, ctx.population, codes))
    sets = [s for s in ctx.config.target_sets if any(not isinstance(t, MilestoneTarget) for t in s.targets)]
    targets = [t for s in sets for t in s.targets if not isinstance(t, MilestoneTarget)]
    needed = sorted({t.indicator for t in targets})
    refs = {t.reference_region for t in targets if isinstance(t, ReferenceTarget)}
    # only the months the targets look at (regions whose answer lies further back are read again
    # in full by the evaluation, and that is timed with it)
    windows = panel_windows(ctx.config, targets, AS_OF)
    (panel_codes, panels), t_read = _timed(read_panels, ctx.store, ctx.config, needed, codes, AS_OF, ctx.population,
                                           since=windows)
    started = time.perf_counter()
    frames = list(evaluate_sets(ctx, [s.id for s in sets], AS_OF, codes, panels=panels,
                                panel_codes=panel_codes).values())
    t_eval = time.perf_counter() - started
    n = sum(len(f) for f in frames)
    statuses = {}
    for f in frames:
        for k, v in f["status"].value_counts().items():
            statuses[k] = statuses.get(k, 0) + int(v)
    total = t_read + t_eval
    sample = codes[:: max(1, len(codes) // 5)][:5]
    # one region at a time, as 总览 evaluates (a set only for regions it applies to: never upward)
    pairs = [(s.id, c) for s in sets for c in sample if applies_to(ctx.regions, s.region, c)]
    _, t_ref = _timed(lambda: [evaluate_target_set(ctx, set_id, AS_OF, c) for set_id, c in pairs])
    per_region = t_ref / len(sample)
    assert refs <= set(panel_codes)
    return [
        _row("evaluate", f"read every indicator, every region (to {AS_OF})", t_read, "s",
             note=f"{len(needed)} indicators (derived from parts) × {len(panel_codes):,} regions, "
                  f"from {min(windows.values())} at the earliest"),
        _row("evaluate", "evaluate every target of every region (set-based)", t_eval, "s",
             f"< {GOAL_EVALUATE_S:g} s", t_eval < GOAL_EVALUATE_S,
             note=f"{n:,} evaluations ({len(sets)} target sets × {len(codes):,} regions); "
                  + ", ".join(f"{k} {v:,}" for k, v in statuses.items())),
        _row("evaluate", "read + evaluate, together", total, "s", f"< {GOAL_EVALUATE_S:g} s",
             total < GOAL_EVALUATE_S),
        _row("evaluate", "one region at a time (总览's path), per region (for scale)", per_region, "s",
             note=f"{len(sample)} regions, {len(pairs)} (set, region) pairs the sets apply to; all regions would take "
                  f"~{per_region * len(codes):,.0f} s"),
    ]


def pages(workdir: Path, scale: str) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from monitor.accounts.users import AccountStore

    # 数据导入 and 导入记录 need a login: measure them as an administrator sees them, not the
    # login prompt an anonymous visitor gets
    accounts = workdir / "accounts.sqlite3"
    accounts.unlink(missing_ok=True)
    AccountStore(accounts).add(BENCH_USER, BENCH_PASSWORD, "admin", actor="bench")
    os.environ["IPMON_ACCOUNTS"] = str(accounts)
    rows = []
    for label, db, view in (("national", workdir / "national.duckdb", None),
                            ("national 全国各省", workdir / "national.duckdb", NATIONAL_VIEW),
                            ("demo", workdir / "demo.duckdb", None)):
        rows += _page_times(AppTest, label, db, view)
    return rows


# the widest views the sidebar offers: the national target set, 全国 and its 31 provinces
NATIONAL_VIEW = {"target_set": "national_14th_plan"}
NATIONAL_VIEW_PAGES = ["overview", "indicator", "compare", "map", "grid", "rankings"]


BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench-only-password-7d1f"


def _log_in(at):
    from pages._auth import SESSION_KEY

    at = at.switch_page("pages/login.py").run()
    [user] = [w for w in at.text_input if w.label == "用户名"]
    [password] = [w for w in at.text_input if w.label == "密码"]
    user.input(BENCH_USER)
    password.input(BENCH_PASSWORD)
    [button] = [b for b in at.button if b.label == "登录"]
    at = button.click().run()
    if SESSION_KEY not in at.session_state:
        raise RuntimeError(f"the benchmark's admin could not log in: {[e.value for e in at.error]}")
    return at


def _login_prompt(at) -> str:
    """Said in the table when a page measured only its login prompt (the figure would be meaningless)."""
    labels = [t.label for t in at.text_input]
    return "; measured the login prompt, not the page" if labels[:2] == ["用户名", "密码"] else ""


def _page_times(AppTest, label: str, db: Path, view: dict | None = None) -> list[dict]:
    """Each page's first run after a page switch (its data not yet cached) and a rerun with the
    same inputs; ``view`` sets sidebar boxes (by key) first."""
    import streamlit as st

    os.environ["IPMON_DB"] = str(db)
    st.cache_data.clear()
    st.cache_resource.clear()
    rows = []
    at, t = _timed(lambda: AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run())
    if view is None:
        rows.append(_row("pages", f"{label}: first run (opens the store) + 总览", t, "s", note=_problems(at)))
    at = _log_in(at)
    for key, value in (view or {}).items():
        at = at.switch_page("pages/overview.py").run()
        at = at.selectbox(key=key).set_value(value).run(timeout=PAGE_TIMEOUT_S)
    if view:
        st.cache_data.clear()  # setting the view ran 总览 with it: measure every page from cold
    for page in (NATIONAL_VIEW_PAGES if view else PAGES):
        try:
            at, cold = _timed(at.switch_page(f"pages/{page}.py").run, timeout=PAGE_TIMEOUT_S)
            at, warm = _timed(at.run, timeout=PAGE_TIMEOUT_S)
        except RuntimeError as e:  # AppTest: the script run did not finish in time
            rows.append(_row("pages", f"{label}: {page}", None, "s", f"< {GOAL_PAGE_S:g} s", False,
                             note=f"did not finish within {PAGE_TIMEOUT_S} s ({e!s:.60})"))
            at = _log_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run())
            continue
        national = label.startswith("national")
        rows.append(_row("pages", f"{label}: {page}", cold, "s", f"< {GOAL_PAGE_S:g} s" if national else "",
                         cold < GOAL_PAGE_S if national else None,
                         note=f"rerun, same inputs {warm:.2f} s" + _problems(at) + _login_prompt(at)))
    return rows


def _problems(at) -> str:
    shown = [e.value for e in at.exception] + [e.value for e in at.error]
    return f"; shows: {shown[0]!s:.80}" if shown else ""


def exports(workdir: Path, scale: str) -> list[dict]:
    from bench import exports as bench_exports
    from monitor.output.export import shutdown

    try:
        results = bench_exports.run(str(workdir / "national.duckdb"), charts=10 if scale == "national" else 3,
                                    briefings=[bench_exports.BRIEFINGS[0]])
    finally:
        shutdown()
    keep = [r for r in results if r.name != "pdf_per_chart_warm"]
    return [_row("exports", r.name, r.seconds, "s", r.goal, r.ok, r.detail + " (national store; chromium's memory "
                 "is its own process, not counted)") for r in keep]


def sweep(workdir: Path, scale: str) -> list[dict]:
    """Every evaluating page × target set × region level × three as-of months, server-side."""
    from bench import sweep as bench_sweep

    runs = bench_sweep.server_side(workdir / "national.duckdb")
    return [_row("sweep", r["measure"], r["value"], "s", r["goal"], r["ok"], r["note"])
            for r in bench_sweep.summarise(runs)]


def browser(workdir: Path, scale: str) -> list[dict]:
    """The default view and five heavy ones in a real browser, until the page is idle."""
    from bench import sweep as bench_sweep

    rows = bench_sweep.browser(workdir / "national.duckdb", workdir / "browser-streamlit.log")
    return [_row("browser", r["measure"], r["value"], "s", r["goal"], r["ok"], r["note"]) for r in rows]


def postgresql(workdir: Path, scale: str, url: str) -> list[dict]:
    """The store on PostgreSQL beside a DuckDB file, the same operations (bench/mirror.py)."""
    from bench.mirror import side_by_side

    return side_by_side(url, workdir, scale)


def main(argv: list[str]) -> int:
    step, workdir, scale, out, *extra = argv
    rows = globals()[step](Path(workdir), scale, *extra)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for r in rows:
        r["peak_mb"] = peak
    Path(out).write_text(json.dumps(rows, ensure_ascii=False, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


