"""Hostile upload files, generated (never committed as bombs), and how long and how much memory
refusing each one takes.

    python -m bench.hostile            # every case, each in a fresh process
    python -m bench.hostile xfd_cell   # one case

Each case (devtools/hostile_files.py) is generated here and refused by ``plan_upload`` in a child
process against a throw-away store, which reports the wall time, its peak resident memory (base: the peak before planning,
after the imports and the store), the parsing worker's own wall time and resident memory at its
peak and at the fork (etl/worker.py: the parse runs in a forked child with a memory budget and a
wall time) and the start of the message a person sees.
The tests (tests/test_hostile.py) assert on the messages; the figures belong here.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devtools.hostile_files import CASES

# --------------------------------------------------------------------------- measuring


def _peak_kb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent
    that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def refuse(path: str) -> None:
    """In this process: plan the file against a fresh store, print the outcome."""
    from etl.loader import plan_upload
    from monitor.context import open_context
    from monitor.errors import MonitorError

    case, name = Path(path).parent.name, Path(path).name
    data = Path(path).read_bytes()
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        ctx = open_context(store_path=Path(tmp) / "monitor.duckdb")
        before = _peak_kb()
        start = time.perf_counter()
        stats = None
        try:
            plan = plan_upload(ctx.store, ctx.config, ctx.regions, data, name)
            stats = plan.parse_stats
            outcome = (f"planned: {len(plan.errors)} errors; "
                       + (plan.errors[0].message if plan.errors else "no error"))
        except MonitorError as e:
            stats = getattr(e, "worker_stats", None)
            outcome = f"refused: {e}"
        except Exception as e:  # what a hostile file must never reach: reported, not hidden
            outcome = f"CRASH {type(e).__name__}: {str(e)[:200]}"
        seconds = time.perf_counter() - start
        peak = _peak_kb()
    # the worker (etl/worker.py): its wall time, and its resident memory at the fork and at its peak
    worker = (f"{stats.seconds:.2f}\t{stats.peak_kb / 1024:.0f}\t{stats.start_kb / 1024:.0f}" if stats
              else "\t\t")
    print(f"{case}\t{len(data)}\t{seconds:.2f}\t{peak / 1024:.0f}\t{before / 1024:.0f}\t{worker}\t{outcome[:160]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], help="cases to run (default: all)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a case counts as hung")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        refuse(args.child)
        return 0
    print(f"{'case':<24}{'file':>12}{'seconds':>9}{'peak MB':>9}{'base MB':>9}{'worker s':>10}{'w.peak':>8}"
          f"{'w.base':>8}  outcome")
    for case in args.cases or CASES:
        # generated here, refused in a fresh process: its peak memory is the refusal's alone
        name, data = CASES[case]()
        folder = Path(tempfile.mkdtemp(prefix="bench-hostile-")) / case
        folder.mkdir()
        (folder / name).write_bytes(data)
        del data
        try:
            done = subprocess.run([sys.executable, "-m", "bench.hostile", "--child", str(folder / name)],
                                  capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{case:<24}{'':>12}{'>' + str(int(args.timeout)):>9}{'':>9}{'':>9}  did not finish")
            continue
        finally:
            shutil.rmtree(folder.parent)
        line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if done.returncode or not line:
            print(f"{case:<24}  child failed (exit {done.returncode}): {done.stderr.strip()[-200:]}")
            continue
        _, size, seconds, peak, base, w_seconds, w_peak, w_base, outcome = line.split("\t", 8)
        print(f"{case:<24}{int(size):>12,}{float(seconds):>9.2f}{peak:>9}{base:>9}{w_seconds:>10}{w_peak:>8}"
              f"{w_base:>8}  {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
