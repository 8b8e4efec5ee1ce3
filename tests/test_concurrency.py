"""The CLI and the dashboard at the same time: a second writer waits for the first, then either
writes or gives up with a message a person can act on; the store is never left half-written."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

import monitor.store.database
from etl.loader import commit_plan, plan_upload
from monitor.store.database import Store

ROOT = Path(__file__).parent.parent
HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()  # hold the file until the test says so
con.close()
"""
FILE = "地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-06,612\n".encode()


def hold(path: Path) -> subprocess.Popen:
    """Another process holding the store file open (as a CLI run or the dashboard does)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def let_go(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.stdin.close()
        assert process.wait(timeout=30) == 0


@pytest.fixture
def holder(store):
    process = hold(store.path)
    yield process
    let_go(process)


def test_a_commit_waits_for_the_other_process_and_then_writes(store, config, regions, monkeypatch):
    plan = plan_upload(store, config, regions, FILE, "f.csv", today=date(2025, 1, 15))
    waiting = threading.Event()
    real_sleep = monitor.store.database.time.sleep

    def sleep(seconds: float) -> None:  # the store retries with sleeps while the file is held
        waiting.set()
        real_sleep(seconds)

    monkeypatch.setattr(monitor.store.database.time, "sleep", sleep)
    result: dict = {}

    def write() -> None:
        try:
            result["batch"] = commit_plan(Store(store.path, timeout=60), plan)
        except Exception as e:  # reported below
            result["error"] = e

    other = hold(store.path)
    thread = threading.Thread(target=write)
    thread.start()
    assert waiting.wait(timeout=30), "the commit never waited"
    let_go(other)  # the first writer finishes; the waiting one goes ahead
    thread.join(timeout=60)
    assert "error" not in result, result.get("error")
    assert result["batch"] == 1
    assert store.observation_count() == 1


def test_the_cli_gives_up_on_a_held_store_with_a_clear_message_and_writes_nothing(store, holder, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(FILE)
    env = {**os.environ, "IPMON_STORE_TIMEOUT": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "etl", "--db", str(store.path), "load", str(path), "--commit"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"数据库 {store.path.name} 正被另一个程序写入（等待 1 秒后仍未释放）；请稍后重试" in done.stderr
    assert "Traceback" not in done.stderr
    let_go(holder)
    assert store.observation_count() == 0
    assert store.data_version() == 0
