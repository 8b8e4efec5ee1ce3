"""Accounts in PostgreSQL are one truth for every process (monitor/accounts/access.py, docs/decisions.md
D20): what one process writes, another reads, counts and is held back by. The other process is a real
one (``python -m etl`` or a short script), on its own connection pool; nothing is mocked."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD

from etl.loader import commit_plan, plan_upload
from monitor.accounts.access import connect
from monitor.accounts.audit import AuditLog
from monitor.accounts.users import AccountStore, ThrottlePolicy
from monitor.errors import AccountsBusyError, AuditTrailBusyError, LoginError
from monitor.store import outbox
from monitor.store.writer import Writer

ROOT = Path(__file__).parent.parent


@pytest.fixture
def accounts_backend() -> str:
    return "postgresql"


def etl(*args: str, url: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m etl …`` in a process of its own, its accounts in the PostgreSQL database ``url``."""
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True, input=stdin,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), "IPMON_ACCOUNTS": url, **(env or {})})


def python(script: str, *args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "IPMON_ACCOUNTS": url})


def test_a_user_added_by_one_process_logs_in_through_another_and_each_reads_the_others_audit(accounts_location):
    url = accounts_location
    added = etl("users", "add", "JC-Clerk", "--role", "uploader", "--scope", "晋城市", "--password-stdin",
                url=url, stdin=TEST_PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "已新建账户 jc-clerk（数据上传员，140500）\n"

    session = AccountStore(url).login("jc-clerk", TEST_PASSWORD, client="10.0.0.9")  # this process, its own pool
    assert (session.role, session.scope) == ("uploader", ("140500",))

    trail = etl("audit", "--since", "2000-01-01", url=url)  # the other process reads this one's login
    assert trail.returncode == 0, trail.stderr
    lines = trail.stdout.splitlines()
    assert any("登录" in line and "jc-clerk" in line and "10.0.0.9" in line for line in lines), trail.stdout
    assert any("新建账户" in line and "（命令行）" in line for line in lines), trail.stdout
    mine = AuditLog(url).query(actions=["user_add"])  # and this one reads the other's
    assert mine["target"].tolist() == ["jc-clerk"] and mine["actor"].iloc[0].startswith("cli:")
    # nothing of it went to a file: the accounts file IPMON_ACCOUNTS names in the rest of the run is not created
    assert not list(ROOT.glob("**/accounts.sqlite3"))


# an hour's wait after five failures: the test does not depend on how fast this machine starts a process
THROTTLED_ELSEWHERE = """
import sys
from monitor.accounts.users import AccountStore, ThrottlePolicy
from monitor.errors import LoginError
store = AccountStore(sys.argv[1], user_throttle=ThrottlePolicy(free=5, base=3600, cap=7200))
for password in sys.argv[2:]:
    try:
        store.login("clerk", password, client="10.0.0.1")
        print("ok")
    except LoginError as e:
        print("refused", e)
"""


def test_login_throttling_counts_the_failures_of_every_process(accounts):
    url = accounts.path
    elsewhere = python(THROTTLED_ELSEWHERE, url, "wrong-1", "wrong-2", "wrong-3", url=url)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert elsewhere.stdout.splitlines() == ["refused 用户名或密码错误"] * 3
    here = AccountStore(url, user_throttle=ThrottlePolicy(free=5, base=3600, cap=7200))
    for _ in range(2):  # failures four and five, here
        with pytest.raises(LoginError, match="用户名或密码错误"):
            here.login("clerk", "wrong-here", client="10.0.0.2")
    with pytest.raises(LoginError, match="登录失败次数过多"):  # the sixth waits, even with the right password
        here.login("clerk", TEST_PASSWORD, client="10.0.0.2")
    again = python(THROTTLED_ELSEWHERE, url, TEST_PASSWORD, url=url)  # and so does the other process
    assert again.stdout.startswith("refused 登录失败次数过多"), again.stdout + again.stderr
    throttled = AuditLog(url).query(actions=["login_throttled"])
    assert throttled["client"].tolist() == ["10.0.0.1", "10.0.0.2"] and set(throttled["actor"]) == {"clerk"}


HOLDER = """
import sys
from monitor.accounts.access import connect
with connect(sys.argv[1]) as con:
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_a_writer_held_up_by_another_process_waits_its_timeout_and_the_audit_waits_in_the_outbox(
        accounts, store, config, regions):
    url = accounts.path
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(AccountsBusyError, match="账户数据库正被另一个程序写入"):
            AuditLog(url, timeout=0.5).record("login", actor="admin")
        assert AccountStore(url).get("admin").role == "admin"  # reading is never held up
        plan = plan_upload(store, config, regions, "地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-06,612\n".encode(),
                           "f.csv", today=date(2025, 1, 15))
        commit_plan(store, plan, by=Writer("clerk"))
        with pytest.raises(AuditTrailBusyError, match="账户数据库"):
            outbox.drain(store, AuditLog(url, timeout=0.5))
        assert outbox.pending(store) == 1
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
    assert outbox.drain(store, AuditLog(url)) == 1
    assert AuditLog(url).query(actions=["commit"])["actor"].tolist() == ["clerk"]


def test_the_cli_keeps_mappings_and_notify_state_in_postgresql(accounts, copy_demo_store, tmp_path):
    url = accounts.path
    db = str(copy_demo_store("cli_pg"))
    sample = tmp_path / "9月.csv"
    sample.write_text("地区,有效发明专利拥有量,质押融资（万元）\n晋城,600,120\n", encoding="utf-8")
    added = etl("--db", db, "mappings", "add", str(sample), "--column", "质押融资（万元）", "--indicator", "pledge_amount",
                url=url)
    assert added.returncode == 0, added.stderr
    listed = etl("--db", db, "mappings", "list", url=url)
    assert listed.returncode == 0 and "质押融资（万元）" in listed.stdout, listed.stderr
    users = etl("users", "list", url=url)
    assert [line.split("\t")[0] for line in users.stdout.splitlines()] == ["admin", "clerk", "jc-clerk", "viewer"]

    notified = etl("--db", db, "notify", url=url, env={"IPMON_TODAY": "2026-12-20"})
    assert notified.returncode == 0, notified.stderr
    with connect(url, write=False) as con:
        (mappings,) = con.execute("SELECT count(*) FROM column_mappings").fetchone()
        (baseline,) = con.execute("SELECT count(*) FROM notify_meta WHERE key = 'targets_baseline_at'").fetchone()
        (states,) = con.execute("SELECT count(*) FROM notify_state").fetchone()
    assert (mappings, baseline) == (1, 1) and states > 0
