"""The audit is part of the commit (docs/decisions.md D3): a write's audit record is committed with the write
into the store's outbox and moved to the trail after it (monitor/store/outbox.py), so no batch exists
without its audit row, whatever is killed when and however long the trail is busy."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from etl.loader import commit_plan, plan_upload
from monitor.accounts.audit import AuditLog
from monitor.store import outbox
from monitor.store.database import Store
from monitor.store.milestones import record_update
from monitor.store.outbox import AuditEntry
from monitor.store.writer import Writer, rollback_batch

ROOT = Path(__file__).parent.parent
TODAY = date(2025, 1, 15)
HEADER = "地区,指标,期间,数值\n"


def csv(value: float, month: str = "2024-06") -> bytes:
    return f"{HEADER}晋城,有效发明专利拥有量,{month},{value:g}\n".encode()


def trail_rows(path: Path, action: str = "commit") -> list[tuple]:
    AuditLog(path).actors()  # created with its schema when it does not exist yet
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT target, detail, actor, outbox_id FROM audit WHERE action = ? ORDER BY id",
                           [action]).fetchall()
    finally:
        con.close()


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


class TrailHolder:
    """Another process holding the accounts file's write lock (as a long account change would)."""

    SCRIPT = ("import sqlite3, sys\ncon = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
              "con.execute('BEGIN EXCLUSIVE')\nprint('holding', flush=True)\nsys.stdin.readline()\n"
              "con.execute('ROLLBACK')\n")

    def __init__(self, path: Path):
        AuditLog(path).actors()  # the file and its schema exist before it is held
        self.process = subprocess.Popen([sys.executable, "-c", self.SCRIPT, str(path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "holding"

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            assert self.process.wait(timeout=30) == 0


def test_a_commit_puts_its_audit_record_in_the_outbox_and_a_drain_moves_it_once(store, config, regions, tmp_path):
    trail = AuditLog(tmp_path / "accounts.sqlite3")
    plan = plan_upload(store, config, regions, csv(612), "6月.csv", today=TODAY)
    batch = commit_plan(store, plan, by=Writer("clerk", client="10.0.0.7", via="password"), detail="6月.csv：新增 1")
    assert outbox.pending(store) == 1 and trail_rows(trail.path) == []
    assert outbox.drain(store, trail) == 1
    assert outbox.pending(store) == 0
    [(target, detail, actor, outbox_id)] = trail_rows(trail.path)
    assert (target, detail, actor) == (f"批次 {batch}", "6月.csv：新增 1", "clerk") and outbox_id
    assert outbox.drain(store, trail) == 0
    assert len(trail_rows(trail.path)) == 1


def test_a_record_moved_twice_after_a_kill_between_trail_and_outbox_is_recorded_once(store, config, regions,
                                                                                      tmp_path):
    trail = AuditLog(tmp_path / "accounts.sqlite3")
    plan = plan_upload(store, config, regions, csv(612), "f.csv", today=TODAY)
    commit_plan(store, plan, by=Writer("cli:x"))
    with store.connect() as con:  # what a drain killed after the trail's commit had delivered
        rows = con.execute("SELECT id, occurred, actor, action, outcome, target, detail, client, via "
                           "FROM audit_outbox").fetchall()
    assert trail.deliver(rows) == 1
    assert outbox.pending(store) == 1  # the kill came before the rows left the outbox
    assert outbox.drain(store, trail) == 1
    assert len(trail_rows(trail.path)) == 1 and outbox.pending(store) == 0


def test_a_failed_commit_leaves_no_audit_record_in_the_outbox(store, config, regions):
    plan = plan_upload(store, config, regions, csv(612), "f.csv", today=TODAY)
    plan.rows.loc[plan.rows.index[0], "region_code"] = None  # violates NOT NULL inside the transaction
    with pytest.raises(Exception):  # noqa: B017  (DuckDB's constraint error, whatever its class)
        commit_plan(store, plan, by=Writer("cli:x"))
    assert outbox.pending(store) == 0 and store.observation_count() == 0


def test_rollbacks_and_task_progress_commit_their_audit_records_with_the_write(store, config, regions, tmp_path):
    trail = AuditLog(tmp_path / "accounts.sqlite3")
    batch = commit_plan(store, plan_upload(store, config, regions, csv(612), "f.csv", today=TODAY),
                        by=Writer("clerk"))
    rollback = rollback_batch(store, batch, by=Writer("clerk"))
    task = next(t for s in config.target_sets for t in s.targets if t.type == "milestone")
    record_update(store, config, task.id, "in_progress", date(2025, 1, 10), "已启动", "admin", today=TODAY,
                  audit=AuditEntry("milestone", actor="admin", detail="推进中，生效 2025-01-10"))
    assert outbox.drain(store, trail) == 3
    assert trail_rows(trail.path, "rollback")[0][:2] == (f"批次 {batch}", f"回滚记录为批次 {rollback}")
    assert trail_rows(trail.path, "milestone")[0][:2] == (f"任务 {task.id}", "推进中，生效 2025-01-10，记录 1")


def test_a_cli_load_that_committed_exits_0_and_says_the_audit_follows_when_the_trail_is_busy(store, tmp_path):
    accounts = tmp_path / "accounts.sqlite3"
    env = {"IPMON_ACCOUNTS": str(accounts), "IPMON_ACCOUNTS_TIMEOUT": "1"}
    (tmp_path / "f.csv").write_bytes(csv(612))
    holder = TrailHolder(accounts)
    try:
        done = cli("--db", str(store.path), "load", str(tmp_path / "f.csv"), "--commit", env=env)
    finally:
        holder.release()
    assert done.returncode == 0, done.stderr
    assert "已写入，批次号 1" in done.stdout and "审计记录稍后补写" in done.stdout
    assert "Traceback" not in done.stderr
    assert store.observation_count() == 1 and outbox.pending(store) == 1
    assert trail_rows(accounts) == []
    # the next command (any, even one that only reads) moves the record
    assert cli("--db", str(store.path), "batches", env=env).returncode == 0
    assert [r[0] for r in trail_rows(accounts)] == ["批次 1"] and outbox.pending(store) == 0


def test_a_cli_load_that_wrote_nothing_exits_1_and_records_nothing(store, tmp_path):
    accounts = tmp_path / "accounts.sqlite3"
    (tmp_path / "bad.csv").write_bytes(f"{HEADER}晋城,有效发明专利拥有量,2024-06,inf\n".encode())
    done = cli("--db", str(store.path), "load", str(tmp_path / "bad.csv"), "--commit",
               env={"IPMON_ACCOUNTS": str(accounts)})
    assert done.returncode == 1 and "未写入任何数据" in done.stderr
    assert outbox.pending(store) == 0 and trail_rows(accounts) == []


def test_reset_demo_is_audited_with_each_demo_batch(copy_demo_store, tmp_path):
    accounts = tmp_path / "accounts.sqlite3"
    db = copy_demo_store("reset_audit")
    done = cli("--db", str(db), "init", "--reset-demo", env={"IPMON_ACCOUNTS": str(accounts)})
    assert done.returncode == 0, done.stderr
    assert [r[0] for r in trail_rows(accounts, "demo_reset")] == [None]
    batches = Store(db).query("SELECT id FROM load_batches ORDER BY id")["id"].tolist()
    assert sorted(r[0] for r in trail_rows(accounts)) == sorted(f"批次 {b}" for b in batches)
    assert outbox.pending(Store(db)) == 0


def test_an_accounts_file_from_before_the_outbox_gains_its_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,"
                      " action TEXT NOT NULL, outcome TEXT NOT NULL, target TEXT, detail TEXT, client TEXT, via TEXT);"
                      "INSERT INTO audit (at, actor, action, outcome) VALUES ('2026-01-01 00:00:00', 'a', 'login', 'ok');")
    con.close()
    trail = AuditLog(path)
    row = ("x1", "2026-11-25 10:00:00", "cli:x", "commit", "ok", "批次 1", None, "cli", "cli")
    assert trail.deliver([row]) == 1 and trail.deliver([row]) == 0
    assert trail.query()["action"].tolist() == ["commit", "login"]


# --------------------------------------------------------------------------- kill and check

LOADER = """
import sys
from pathlib import Path
from cli.main import main

db, folder, first = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
print("ready", flush=True)
for k in range(first, first + 1000):
    path = folder / f"{k}.csv"
    # an open month (the product clock is 2026-11-25): a change to a closed one would need a reason
    path.write_text(f"地区,指标,期间,数值\\n晋城,有效发明专利拥有量,2026-10,{600 + k}\\n", encoding="utf-8")
    main(["--db", db, "load", str(path), "--commit", "--accept-warnings"])
"""


def test_no_committed_batch_is_without_its_audit_row_however_the_loader_is_killed(store, tmp_path):
    """A process loads file after file through the CLI and is killed (SIGKILL) at a random moment
    after 0-2 commits, 30 times; in every other round the trail is held by another process, so the kill often lands
    while the audit record waits for it. After each kill the next open drains the outbox, and then
    every committed batch has exactly one audit row, naming its file, and no row names a batch
    that does not exist."""
    accounts = tmp_path / "accounts.sqlite3"
    folder = tmp_path / "files"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IPMON_ACCOUNTS": str(accounts), "IPMON_ACCOUNTS_TIMEOUT": "2"}
    rng = random.Random(19)
    trail = AuditLog(accounts)
    first = 0
    killed_waiting = 0
    for round_ in range(30):
        holder = TrailHolder(accounts) if round_ % 2 else None
        loader = subprocess.Popen([sys.executable, "-c", LOADER, str(store.path), str(folder), str(first)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert loader.stdout.readline().strip() == "ready"
        # let it commit 0, 1 or 2 files first (however slow the machine), then kill it at a random
        # moment of the loads that follow: in a commit, after one, or before
        commits = rng.randint(0, 2)
        while commits:
            line = loader.stdout.readline()
            assert line, "the loader ended before it was killed"
            commits -= line.startswith("已写入")
        try:
            loader.wait(timeout=rng.uniform(0.0, 1.5))
        except subprocess.TimeoutExpired:
            loader.send_signal(signal.SIGKILL)
        assert loader.wait(timeout=30) == -signal.SIGKILL, "the loader ended before it was killed"
        loader.stdout.close()
        if holder is not None:
            holder.release()
        first += 1000
        killed_waiting += outbox.pending(store) > 0
        outbox.drain(store, trail)  # what the next open does
        batches = store.query("SELECT id, file_name FROM load_batches ORDER BY id")
        rows = trail_rows(accounts)
        expected = sorted((f"批次 {b.id}", b.file_name) for b in batches.itertuples())
        assert sorted((target, detail.split("：")[0]) for target, detail, _, _ in rows) == expected, f"round {round_}"
        assert store.observation_count() == (1 if len(batches) else 0)
    assert len(trail_rows(accounts)) >= 15  # the loader got as far as committing, again and again
    assert killed_waiting > 0  # some kills left committed batches whose records had not reached the trail
