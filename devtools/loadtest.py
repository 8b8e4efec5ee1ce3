"""The load test: simulated people browsing the dashboard through nginx, on 1 and then 2 dashboard
processes (devtools/replicas.py) over one store, while a clerk commits uploads and an
administrator rolls every other one back, both with the command line (`python -m etl load
--commit`, `python -m etl rollback`).

    python -m devtools.loadtest                    # 6 sessions × 10 page views, 1 and 2 processes
    python -m devtools.loadtest --db postgresql://ipmon@127.0.0.1/ipmon_load   # reset with init --reset-demo
    python -m devtools.loadtest --db postgresql    # a throw-away PostgreSQL cluster on this machine

A session is a Playwright browser context (Streamlit talks over a websocket that plain HTTP load
tools cannot drive) following the sidebar's links; a page view is timed from the click to the end
of the page's run. Checks: no page shows an error or the busy notice, and at the end the store's
observations are exactly the values expected from the first state, the uploads kept and the
rollbacks (nothing lost, nothing doubled). Prints p50/p95 page times per number of processes.
Not part of the test suite's timings; tests/test_loadtest.py runs a short one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from playwright.async_api import Error as PlaywrightError

from devtools.replicas import deploy
from devtools.serving import CHROMIUM, CHROMIUM_ARGS, ROOT

# The sidebar links a visitor who is not logged in sees, in the order sessions follow them.
PAGES = ["指标详情", "地区对比", "地图", "状态矩阵", "排名", "任务进度", "报送情况", "总览"]
VIEW_TIMEOUT_MS = 120_000
# A view has ended when the script's state has changed since the click (a run began; two pages
# may share a heading) and is back to not running; or, when the page's run was over before the
# browser drew its state (the start and the end of a short run drawn at once: no change to see),
# when the address and the heading are the new page's and nothing runs.
WATCH_RUN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  window.loadtestRan = false;
  window.loadtestFrom = [location.pathname, h1 ? h1.innerText.trim() : ''];
  new MutationObserver(() => { window.loadtestRan = true; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
RUN_ENDED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  const [path, heading] = window.loadtestFrom;
  const moved = location.pathname !== path && h1 !== null && h1.innerText.trim() !== heading;
  return (window.loadtestRan || moved) && app.dataset.testScriptState === 'notRunning';
}"""
# The first page has ended when its heading is drawn and its run is over.
VIEW_ENDED = """([previous]) => {
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  const app = document.querySelector('[data-testid="stApp"]');
  return h1 !== null && h1.innerText.trim() !== previous && app.dataset.testScriptState === 'notRunning';
}"""
# What the suite's days are (tests/conftest.py): 2026-10 is an open month, approval is off.
ENV = {"IPMON_TODAY": "2026-11-25", "IPMON_APPROVAL": "off"}
KEYS_SQL = ("SELECT region_code, indicator_id, month, value FROM observations WHERE indicator_id = 'invention_patents' "
            "AND month = '2026-10' AND region_code LIKE '14%' ORDER BY region_code")
OBSERVATIONS_SQL = "SELECT region_code, indicator_id, month, value FROM observations"


@dataclass
class Round:
    """What one round measured."""

    replicas: int
    sessions: int
    views: list[float] = field(default_factory=list)  # seconds per page view
    errors: list[str] = field(default_factory=list)
    uploads: int = 0
    rollbacks: int = 0
    store_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average at the start and the end

    def percentile(self, q: float) -> float:
        ordered = sorted(self.views)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def is_url(store: str | Path) -> bool:
    return str(store).startswith(("postgresql://", "postgres://"))


def read(store: str | Path, sql: str) -> pd.DataFrame:
    """A query on the store, from outside the served processes (a short-lived connection, D1)."""
    if is_url(store):
        from monitor import postgres

        with postgres.connect(str(store)) as con:
            return con.execute(sql).df()
    from monitor.store.database import Store

    return Store(Path(store)).query(sql)


def etl(store: str | Path, *args: str) -> list[str]:
    """`python -m etl --db store …` as its own process; raises with its output unless it succeeds."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "etl", "--db", str(store), *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **ENV})
    if done.returncode != 0:
        raise RuntimeError(f"etl {' '.join(args)} exited with {done.returncode}: {done.stdout}{done.stderr}")
    return done.stdout.splitlines()


async def etl_async(store: str | Path, env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "etl", "--db", str(store), *args, cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    text = out.decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"etl {' '.join(args)} exited with {process.returncode}: {text}")
    return text


def fresh_store(store: str | Path | None, folder: Path, template: list[Path]) -> str | Path:
    """The round's store at the demo's first state: a copy of one demo file made once (DuckDB), or
    the given database with its observations reset to the demo (`etl init --reset-demo`)."""
    if store is not None and is_url(store):
        etl(store, "init", "--reset-demo")
        return store
    if not template:
        template.append(folder / "template.duckdb")
        if store is not None:
            shutil.copyfile(store, template[0])
        etl(template[0], "init", "--demo")
    path = folder / f"store-{len(list(folder.glob('store-*.duckdb'))) + 1}.duckdb"
    shutil.copyfile(template[0], path)
    return path


async def _state(page) -> str:
    """What the page showed when a view did not end: the app's script state, whether a run was seen,
    the heading, the address, the connection notice if any."""
    try:
        return await page.evaluate("""() => {
          const app = document.querySelector('[data-testid="stApp"]');
          const h1 = document.querySelector('[data-testid="stMain"] h1');
          const status = document.querySelector('[data-testid="stStatusWidget"]');
          return `state ${app ? app.dataset.testScriptState : 'no app'}, run seen ${window.loadtestRan}, `
            + `heading ${h1 ? h1.innerText.trim() : 'none'}, ${location.pathname}`
            + (status ? `, status ${status.innerText.trim()}` : '');
        }""")
    except PlaywrightError as e:
        return f"state unknown: {str(e).splitlines()[0]}"


async def browse(browser, url: str, index: int, views: int, result: Round, shots: Path | None = None) -> None:
    """One person: opens the dashboard, then follows ``views`` sidebar links. A view that fails
    (no end of run, an exception or the busy notice shown) is counted as an error, with what the
    page showed (and its screenshot in ``shots``)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(VIEW_TIMEOUT_MS)
    page = await context.new_page()
    try:
        await page.goto(url)
        await page.wait_for_function(VIEW_ENDED, arg=[""], timeout=VIEW_TIMEOUT_MS)
        for n in range(views):
            link = PAGES[(index + n) % len(PAGES)]
            try:
                await page.evaluate(WATCH_RUN)
                started = time.perf_counter()
                await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link).click()
                await page.wait_for_function(RUN_ENDED, timeout=VIEW_TIMEOUT_MS)
                result.views.append(time.perf_counter() - started)
            except PlaywrightError as e:  # a timeout is this test's finding, not its failure
                state = await _state(page)
                result.errors.append(f"session {index}, {link}: {str(e).splitlines()[0]} ({state})")
                if shots is not None:
                    await page.screenshot(path=str(shots / f"timeout-{index}-{n}.png"), full_page=True)
                continue
            if await page.locator('[data-testid="stException"]').count():
                result.errors.append(f"session {index}, {link}: an exception is shown")
            if "数据库正忙" in await page.locator('[data-testid="stMain"]').inner_text():
                result.errors.append(f"session {index}, {link}: the busy notice is shown")
    except PlaywrightError as e:
        result.errors.append(f"session {index}, first page: {str(e).splitlines()[0]}")
    finally:
        await context.close()


async def office(store: str | Path, env: dict[str, str], keys: pd.DataFrame, folder: Path, result: Round,
                 pause_s: float) -> dict:
    """The clerk uploads one changed value per file (each file its own key, +1); the administrator
    rolls back every other batch as it arrives. Returns the values expected at the end by key."""
    expected: dict[tuple, float] = {}
    to_roll_back: asyncio.Queue[int | None] = asyncio.Queue()

    async def clerk() -> None:
        for k, row in enumerate(keys.itertuples(index=False)):
            file = folder / f"upload-{k + 1}.csv"
            file.write_text(f"地区,指标,期间,数值\n{row.region_code},有效发明专利拥有量,{row.month},{row.value + 1:.0f}\n",
                            encoding="utf-8")
            out = await etl_async(store, env, "load", str(file), "--commit", "--user", "clerk", "--accept-warnings",
                                  "--reason", "负载测试")
            batch = int(re.search(r"批次号 (\d+)", out).group(1))
            result.uploads += 1
            key = (row.region_code, row.indicator_id, row.month)
            if k % 2:
                await to_roll_back.put(batch)  # rolled back: the first state's value again
            else:
                expected[key] = row.value + 1
            await asyncio.sleep(pause_s)
        await to_roll_back.put(None)

    async def administrator() -> None:
        while (batch := await to_roll_back.get()) is not None:
            await etl_async(store, env, "rollback", str(batch), "--user", "admin")
            result.rollbacks += 1

    await asyncio.gather(clerk(), administrator())
    return expected


def check_store(store: str | Path, first: pd.DataFrame, expected: dict[tuple, float]) -> list[str]:
    """Differences between the store's observations and the first state with the kept uploads."""
    want = Counter()
    for row in first.itertuples(index=False):
        key = (row.region_code, row.indicator_id, row.month)
        want[(*key, float(expected.get(key, row.value)))] += 1
    have = Counter((r.region_code, r.indicator_id, r.month, float(r.value))
                   for r in read(store, OBSERVATIONS_SQL).itertuples(index=False))
    missing, extra = want - have, have - want
    return ([f"missing {k} ×{n}" for k, n in list(missing.items())[:5]]
            + [f"unexpected {k} ×{n}" for k, n in list(extra.items())[:5]]
            + ([f"{sum(missing.values())} missing, {sum(extra.values())} unexpected in all"] if missing or extra else []))


async def run_round(store: str | Path, replicas: int, sessions: int, views: int, uploads: int, folder: Path,
                    accounts: Path | str | None = None) -> Round:
    """One round on ``store`` (at its first state): ``sessions`` people × ``views`` page views through
    nginx to ``replicas`` processes while ``uploads`` files are committed and half rolled back."""
    from playwright.async_api import async_playwright

    result = Round(replicas, sessions)
    first = read(store, OBSERVATIONS_SQL)
    keys = read(store, KEYS_SQL).head(uploads)
    env = {**ENV, **({"IPMON_ACCOUNTS": str(accounts)} if accounts else {})}
    with deploy(store, replicas, folder / f"{replicas}-processes", accounts, env=env) as deployment:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            warm = Round(replicas, 0)  # each process's first run imports and evaluates: not timed
            await asyncio.gather(*(browse(browser, url, 0, 1, warm) for url in deployment.replicas))
            result.errors += [f"warming: {e}" for e in warm.errors]
            started, load = time.perf_counter(), os.getloadavg()[0]
            people = [browse(browser, deployment.url, i, views, result, folder / f"{replicas}-processes")
                      for i in range(sessions)]
            outcome = await asyncio.gather(office(store, env, keys, folder, result, pause_s=2.0), *people,
                                           return_exceptions=True)
            result.seconds, result.load = time.perf_counter() - started, (load, os.getloadavg()[0])
            await browser.close()
    result.errors += [f"{type(e).__name__}: {e}" for e in outcome if isinstance(e, BaseException)]
    expected = outcome[0] if isinstance(outcome[0], dict) else {}
    result.store_problems = check_store(store, first, expected)
    return result


def table(rounds: list[Round], views: int) -> str:
    lines = ["| processes | sessions × views | page views timed | errors | p50 | p95 | max | uploads / rollbacks | "
             "store at the end | machine load (start → end) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rounds:
        lines.append(f"| {r.replicas} | {r.sessions} × {views} | {len(r.views)} | {len(r.errors)} | "
                     f"{statistics.median(r.views) if r.views else float('nan'):.2f} s | {r.percentile(0.95):.2f} s | "
                     f"{max(r.views, default=float('nan')):.2f} s | {r.uploads} / {r.rollbacks} | "
                     f"{'as expected' if not r.store_problems else 'WRONG'} | {r.load[0]:.1f} → {r.load[1]:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="load test: sessions through nginx on 1 and 2 dashboard processes")
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--views", type=int, default=10, help="page views per session")
    parser.add_argument("--uploads", type=int, default=6, help="files the clerk commits per round (half rolled back)")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="numbers of processes, one round each")
    parser.add_argument("--db", help="a DuckDB demo file to start from, a postgresql:// store (reset per round), "
                                     "or `postgresql`: a throw-away cluster on this machine (devtools/postgres.py)")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/ipmon-loadtest"), help="stores, logs, files")
    args = parser.parse_args()
    if args.db == "postgresql":
        from devtools.postgres import temporary_cluster

        with temporary_cluster(durable=True) as cluster:  # commits synced to disk, as DuckDB's are
            args.db = cluster.create_database("ipmon_load")
            return run(args)
    return run(args)


def run(args: argparse.Namespace) -> int:
    shutil.rmtree(args.folder, ignore_errors=True)
    args.folder.mkdir(parents=True)
    if not (args.db and is_url(args.db)):  # never the real accounts file: one of this run's own
        os.environ["IPMON_ACCOUNTS"] = str(args.folder / "accounts.sqlite3")
    accounts = None
    template: list[Path] = []
    rounds = []
    for replicas in args.replicas:
        store = fresh_store(args.db, args.folder, template)
        rounds.append(asyncio.run(run_round(store, replicas, args.sessions, args.views, args.uploads,
                                            args.folder, accounts)))
        r = rounds[-1]
        print(f"{replicas} process(es): {len(r.views)} page views in {r.seconds:.0f} s, {len(r.errors)} errors",
              flush=True)
        for problem in r.errors + r.store_problems:
            print(f"  {problem}")
    print(f"store: {'PostgreSQL' if args.db and is_url(args.db) else 'a DuckDB file'}")
    print(table(rounds, args.views))
    return 0 if all(not r.errors and not r.store_problems for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
