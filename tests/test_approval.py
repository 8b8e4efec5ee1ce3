"""Approval before publish: a committed upload waits as 待审核 outside the official view; a reviewer
of its regions (not its uploader) approves it or returns it with a reason, which rolls it back;
every step is audited; the setting and the reviewer role."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pytest

from cli.main import main as cli
from etl.loader import commit_plan, plan_upload
from monitor.accounts.access import connect
from monitor.accounts.audit import AuditLog
from monitor.accounts.users import AccountStore, Action, Session, allowed_regions, may
from monitor.errors import HistoryError, PermissionDenied, SettingError
from monitor.evaluation.panels import _observations_sql
from monitor.output.notify import pending_batches as notify_pending
from monitor.store import outbox
from monitor.store.approval import approval_required, approve, pending_batches, pending_values, return_batch
from monitor.store.history import batch, list_batches
from monitor.store.series import read_observations
from monitor.store.writer import Writer

TODAY = date(2025, 1, 15)
HEADER = "地区,指标,期间,数值\n"
FIRST = HEADER + "晋城,有效发明专利拥有量,2024-06,612\n"
CORRECTION = HEADER + "晋城,有效发明专利拥有量,2024-06,615\n晋城,有效注册商标量,2024-06,13000\n"
TAIYUAN = HEADER + "太原,有效发明专利拥有量,2024-06,9000\n"


@pytest.fixture
def approval_on(monkeypatch):
    monkeypatch.setenv("IPMON_APPROVAL", "on")


@pytest.fixture
def load(store, config, regions):
    def run(text: str, *, by: str = "jc-clerk", reason: str | None = None) -> int:
        plan = plan_upload(store, config, regions, text.encode(), "f.csv", today=TODAY)
        assert plan.ok, [p.message for p in plan.errors]
        return commit_plan(store, plan, by=Writer(by), accept_warnings=True, reason=reason)

    return run


def official(store) -> dict[tuple, float]:
    frame = read_observations(store, ["invention_patents", "trademarks"])
    return {(r.region_code, r.indicator_id, r.month): r.value for r in frame.itertuples()}


def evaluated(store) -> dict[tuple, float]:
    relation, params = _observations_sql(store)
    frame = store.query(f"SELECT region_code, indicator_id, month, value FROM {relation} ORDER BY ALL", params)
    return {(r.region_code, r.indicator_id, r.month): r.value for r in frame.itertuples()}


def test_a_pending_upload_stays_out_of_the_official_view_until_approved(approval_on, load, store, regions):
    first = load(FIRST)
    assert batch(store, first)["review"] == "pending"
    assert official(store) == {} and evaluated(store) == {}
    assert pending_values(store)[["region_code", "value", "batch_id"]].values.tolist() == [["140500", 612.0, first]]
    assert pending_batches(store)["batch_id"].tolist() == [first]
    assert notify_pending(store)["batch_id"].tolist() == [first]

    approve(store, first, by=Writer("jc-reviewer", regions=allowed_regions(["140500"], regions)),
            at=datetime(2025, 1, 16, 10, 0))
    info = batch(store, first)
    assert (info["review"], info["reviewed_by"], str(info["reviewed_at"])) == ("approved", "jc-reviewer",
                                                                              "2025-01-16 10:00:00")
    assert official(store) == {("140500", "invention_patents", "2024-06"): 612.0}
    assert evaluated(store) == official(store)
    assert pending_batches(store).empty and pending_values(store).empty


def test_a_pending_correction_keeps_the_published_value_on_official_pages(approval_on, load, store):
    first = load(FIRST)
    approve(store, first, by=Writer("jc-reviewer"))
    second = load(CORRECTION)
    # the changed key shows its published value, the new key is absent
    assert official(store) == {("140500", "invention_patents", "2024-06"): 612.0}
    assert evaluated(store) == official(store)
    assert sorted(pending_values(store)["value"]) == [615.0, 13000.0]
    approve(store, second, by=Writer("jc-reviewer"))
    assert official(store) == {("140500", "invention_patents", "2024-06"): 615.0,
                               ("140500", "trademarks", "2024-06"): 13000.0}


def test_returning_a_batch_needs_a_reason_rolls_it_back_and_keeps_the_reason(approval_on, load, store):
    first = load(FIRST)
    approve(store, first, by=Writer("jc-reviewer"))
    second = load(CORRECTION)
    with pytest.raises(HistoryError, match="必须填写理由"):
        return_batch(store, second, by=Writer("jc-reviewer"), reason="  ")
    assert batch(store, second)["review"] == "pending"

    rollback_id = return_batch(store, second, by=Writer("jc-reviewer"), reason="商标数应为万件以下，请核对单位")
    info = batch(store, second)
    assert (info["review"], info["status"], info["rolled_back_by"]) == ("returned", "rolled_back", rollback_id)
    assert info["review_note"] == "商标数应为万件以下，请核对单位"
    # nothing of it stays: the store holds exactly the published value
    assert store.query("SELECT region_code, indicator_id, month, value FROM observations").values.tolist() == [
        ["140500", "invention_patents", "2024-06", 612.0]]
    assert official(store) == {("140500", "invention_patents", "2024-06"): 612.0}
    assert pending_batches(store).empty
    with pytest.raises(HistoryError, match="不在待审核状态"):
        approve(store, second, by=Writer("jc-reviewer"))


def test_an_uploader_cannot_review_their_own_batch_nor_a_reviewer_outside_their_regions(approval_on, load, store,
                                                                                        regions):
    mine = load(FIRST, by="sx-reviewer")
    with pytest.raises(PermissionDenied, match="本人上传"):
        approve(store, mine, by=Writer("sx-reviewer"))
    with pytest.raises(PermissionDenied, match="本人上传"):
        return_batch(store, mine, by=Writer("sx-reviewer"), reason="自己退回")
    taiyuan = load(TAIYUAN)
    with pytest.raises(PermissionDenied, match="地区范围以外.*140100"):
        approve(store, taiyuan, by=Writer("jc-reviewer", regions=allowed_regions(["140500"], regions)))
    assert set(pending_batches(store)["batch_id"]) == {mine, taiyuan}
    approve(store, taiyuan, by=Writer("sx-reviewer", regions=allowed_regions(["140000"], regions)))
    assert official(store) == {("140100", "invention_patents", "2024-06"): 9000.0}


def test_as_published_shows_a_batch_from_the_moment_it_was_approved(approval_on, load, store):
    first = load(FIRST)  # recorded at the product clock's now: 2026-11-25
    approve(store, first, by=Writer("jc-reviewer"), at=datetime(2026, 11, 27, 9, 0))
    before = store.as_published(datetime(2026, 11, 26))
    after = store.as_published(datetime(2026, 11, 28))
    assert official(before) == {} and evaluated(before) == {}
    assert official(after) == {("140500", "invention_patents", "2024-06"): 612.0} == evaluated(after)


def test_every_step_is_audited_through_the_outbox(approval_on, load, store, tmp_path):
    trail = AuditLog(tmp_path / "accounts.sqlite3")
    first = load(FIRST)
    approve(store, first, by=Writer("jc-reviewer"))
    second = load(CORRECTION)
    return_batch(store, second, by=Writer("jc-reviewer"), reason="单位有误")
    outbox.drain(store, trail)
    rows = trail.query()[["actor", "action", "target", "detail"]].values.tolist()[::-1]
    assert [r[:3] for r in rows] == [["jc-clerk", "commit", f"批次 {first}"], ["jc-reviewer", "approve", f"批次 {first}"],
                                     ["jc-clerk", "commit", f"批次 {second}"],
                                     ["jc-reviewer", "return", f"批次 {second}"]]
    assert rows[3][3].startswith("理由：单位有误")


def test_without_approval_an_upload_is_published_at_once(monkeypatch, load, store):
    monkeypatch.setenv("IPMON_APPROVAL", "off")
    first = load(FIRST)
    assert batch(store, first)["review"] is None
    assert official(store) == {("140500", "invention_patents", "2024-06"): 612.0}
    with pytest.raises(HistoryError, match="不在待审核状态（无需审核）"):
        approve(store, first, by=Writer("jc-reviewer"))


def test_approval_is_on_by_default_except_in_a_demo_store(monkeypatch, store):
    monkeypatch.delenv("IPMON_APPROVAL")
    with store.connect() as con:
        assert approval_required(con)
        con.execute("INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, "
                    "rows_inserted, rows_updated, rows_unchanged) VALUES ('demo', 'x', now(), 'demo', 'demo', 0, 0, 0, 0)")
        assert not approval_required(con)
        monkeypatch.setenv("IPMON_APPROVAL", "on")
        assert approval_required(con)
        monkeypatch.setenv("IPMON_APPROVAL", "maybe")
        with pytest.raises(SettingError, match="IPMON_APPROVAL"):
            approval_required(con)


def test_the_reviewer_role_reviews_and_includes_uploading(tmp_path, regions):
    accounts = AccountStore(tmp_path / "accounts.sqlite3")
    accounts.add("jc-reviewer", "a-long-password", "reviewer", scope=["140500"], actor="admin")
    assert accounts.get("jc-reviewer").role == "reviewer"
    now = datetime(2026, 11, 25)

    def session(role: str) -> Session:
        return Session("x", role, (), "password", now, now)

    assert [may(session(r), Action.REVIEW, anonymous_view=True) for r in ("viewer", "uploader", "reviewer", "admin")] \
        == [False, False, True, True]
    assert may(session("reviewer"), Action.UPLOAD, anonymous_view=True)
    assert not may(session("reviewer"), Action.ADMIN, anonymous_view=True)


def test_an_accounts_file_from_before_reviewers_accepts_them_and_keeps_its_accounts(tmp_path):
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE accounts (username TEXT PRIMARY KEY, password_hash TEXT, role TEXT NOT NULL CHECK "
                "(role IN ('viewer', 'uploader', 'admin')), scope TEXT NOT NULL DEFAULT '', email TEXT UNIQUE, "
                "display_name TEXT, enabled INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, "
                "updated_at TEXT NOT NULL, last_login TEXT)")
    con.execute("INSERT INTO accounts VALUES ('old', NULL, 'uploader', '140500', NULL, '老用户', 1, 'x', 'x', NULL)")
    con.commit()
    con.close()
    accounts = AccountStore(path)
    accounts.add("rev", "a-long-password", "reviewer", actor="admin")
    assert [(a.username, a.role, a.scope) for a in accounts.list()] == [("old", "uploader", ("140500",)),
                                                                       ("rev", "reviewer", ())]
    with connect(path, write=False) as con:
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'accounts_before%'").fetchone() == (0,)


def test_the_cli_approves_and_returns_and_lists_the_state(approval_on, load, store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IPMON_ACCOUNTS", str(tmp_path / "accounts.sqlite3"))
    first = load(FIRST)
    assert cli(["--db", str(store.url or store.path), "approve", str(first), "--user", "jc-clerk"]) == 1
    assert "本人上传" in capsys.readouterr().err
    assert cli(["--db", str(store.url or store.path), "approve", str(first), "--user", "jc-reviewer"]) == 0
    assert f"批次 {first} 已审核通过" in capsys.readouterr().out
    second = load(CORRECTION, reason="市局复核")  # June 2024 closed long ago (the CLI mirrored the calendar)
    assert cli(["--db", str(store.url or store.path), "return", str(second)]) == 2  # --reason is required
    assert cli(["--db", str(store.url or store.path), "return", str(second), "--reason", "单位有误"]) == 0
    assert f"批次 {second} 已退回" in capsys.readouterr().out
    assert cli(["--db", str(store.url or store.path), "batches"]) == 0
    out = capsys.readouterr().out
    assert "已发布" in out and "已退回" in out
    assert list_batches(store).set_index("id").loc[second, "review"] == "returned"
    actions = AuditLog(tmp_path / "accounts.sqlite3").query()["action"].tolist()
    assert "approve" in actions and "return" in actions
