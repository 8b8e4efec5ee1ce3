"""The store's one writer (monitor/store/writer.py): it checks the writer's region scope again, whatever
the door checked before, and commits each write's audit record with the write."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from etl.loader import commit_plan, plan_upload
from monitor.accounts.audit import AuditLog
from monitor.errors import ScopeError
from monitor.store import outbox
from monitor.store.writer import Writer, bulk_load, reset_demo, rollback_batch

TODAY = date(2025, 1, 15)
JINCHENG_AND_TAIYUAN = ("地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-06,612\n"
                        "太原,有效发明专利拥有量,2024-06,9000\n").encode()
JINCHENG = "140500"


def jincheng_clerk(regions) -> Writer:
    from monitor.accounts.users import allowed_regions

    return Writer("jc-clerk", regions=allowed_regions([JINCHENG], regions))


def counts(store) -> list[int]:
    return [int(store.query(f"SELECT count(*) AS n FROM {t}")["n"].iloc[0])
            for t in ("observations", "observation_log", "load_batches", "upload_files")]


def test_a_commit_with_a_region_outside_the_writers_scope_is_refused_and_writes_nothing(store, config, regions):
    # planned without the scope (as a plan made before the account's scope was narrowed)
    plan = plan_upload(store, config, regions, JINCHENG_AND_TAIYUAN, "f.csv", today=TODAY)
    assert plan.ok
    with pytest.raises(ScopeError, match="地区范围以外的地区（140100）") as refused:
        commit_plan(store, plan, by=jincheng_clerk(regions), detail="f.csv")
    assert refused.value.regions == ["140100"]
    assert counts(store) == [0, 0, 0, 0] and outbox.pending(store) == 0 and store.data_version() == 0


def test_the_same_commit_by_a_writer_of_every_region_is_written_and_audited(store, config, regions, tmp_path):
    plan = plan_upload(store, config, regions, JINCHENG_AND_TAIYUAN, "f.csv", today=TODAY)
    batch = commit_plan(store, plan, by=Writer("sx-admin", client="10.0.0.7", via="password"), detail="f.csv：新增 2")
    assert counts(store) == [2, 2, 1, 1]
    trail = AuditLog(tmp_path / "accounts.sqlite3")
    assert outbox.drain(store, trail) == 1
    assert trail.query()[["actor", "action", "target", "detail", "client", "via"]].values.tolist() == [
        ["sx-admin", "commit", f"批次 {batch}", "f.csv：新增 2", "10.0.0.7", "password"]]


def test_a_rollback_of_a_batch_reaching_outside_the_writers_scope_is_refused(store, config, regions):
    plan = plan_upload(store, config, regions, JINCHENG_AND_TAIYUAN, "f.csv", today=TODAY)
    batch = commit_plan(store, plan)
    before = counts(store)
    with pytest.raises(ScopeError, match=f"批次 {batch} 含有您地区范围以外的地区（140100）"):
        rollback_batch(store, batch, by=jincheng_clerk(regions))
    assert counts(store) == before and outbox.pending(store) == 0
    assert store.query("SELECT status FROM load_batches WHERE id = ?", [batch])["status"].tolist() == ["committed"]


def demo_rows() -> pd.DataFrame:
    return pd.DataFrame({"region_code": ["140000", JINCHENG], "indicator_id": ["invention_patents"] * 2,
                         "month": ["2024-06"] * 2, "value": [30000.0, 612.0], "origin": ["published", "demo"],
                         "source_url": [None, None], "note": [None, None]})


def test_a_demo_reset_leaves_an_audit_row_and_one_for_each_demo_batch(store, config, regions, tmp_path):
    commit_plan(store, plan_upload(store, config, regions, JINCHENG_AND_TAIYUAN, "f.csv", today=TODAY))
    reset_demo(store, demo_rows(), by=Writer("demo-generator", actor="cli:ops", client="cli", via="cli"))
    assert counts(store) == [2, 2, 2, 0]
    assert store.query("SELECT file_name FROM load_batches ORDER BY id")["file_name"].tolist() == [
        "示例数据生成器（published）", "示例数据生成器（demo）"]
    trail = AuditLog(tmp_path / "accounts.sqlite3")
    assert outbox.drain(store, trail) == 3
    rows = trail.query().astype(object).where(lambda t: t.notna(), None)
    reset = rows[rows["action"] == "demo_reset"][["actor", "target", "detail"]].values.tolist()
    assert reset == [["cli:ops", None, "清空观测值、批次和历史，重新载入示例数据"]]
    commits = rows[rows["action"] == "commit"]
    assert sorted(commits["target"]) == ["批次 2", "批次 3"]
    assert set(zip(commits["actor"], commits["detail"])) == {("cli:ops", "示例数据")}


def test_a_demo_reset_by_a_writer_of_some_regions_is_refused(store, config, regions):
    commit_plan(store, plan_upload(store, config, regions, JINCHENG_AND_TAIYUAN, "f.csv", today=TODAY))
    with pytest.raises(ScopeError, match="只有不限地区范围的账户可以操作"):
        reset_demo(store, demo_rows(), by=jincheng_clerk(regions))
    assert counts(store) == [2, 2, 1, 1]


def test_a_bulk_load_with_a_region_outside_the_scope_writes_nothing(store, regions):
    parts = [demo_rows().iloc[[1]], pd.DataFrame({"region_code": ["140100"], "indicator_id": ["trademarks"],
                                                  "month": ["2024-06"], "value": [5.0]})]
    with pytest.raises(ScopeError, match="140100"):
        bulk_load(store, parts, by=jincheng_clerk(regions), file_name="bulk", file_key="bulk", note="n", row_note="r")
    assert counts(store) == [0, 0, 0, 0]


def test_a_bulk_load_records_each_value_and_its_history_as_one_batch_and_keeps_the_stores_indexes(store, backend):
    indexes = postgres_indexes(store) if backend == "postgresql" else None
    parts = [pd.DataFrame({"region_code": ["140500", "140100"], "indicator_id": "trademarks",
                           "month": ["2024-06", "2024-07"], "value": [5.0, 0.1]}),
             pd.DataFrame({"region_code": ["140500"], "indicator_id": ["invention_patents"], "month": ["2024-06"],
                           "value": [612.0]})]
    batch = bulk_load(store, parts, by=Writer.internal("bench"), file_name="bulk", file_key="bulk", note="n",
                      row_note="示例")
    assert store.query("SELECT region_code, indicator_id, month, value, origin, batch_id, source_url, note "
                       "FROM observations ORDER BY indicator_id, region_code").values.tolist() == [
        ["140500", "invention_patents", "2024-06", 612.0, "demo", batch, None, "示例"],
        ["140100", "trademarks", "2024-07", 0.1, "demo", batch, None, "示例"],
        ["140500", "trademarks", "2024-06", 5.0, "demo", batch, None, "示例"]]
    log = store.query("SELECT seq, batch_id, region_code, month, value, source_batch, source_url, note, recorded_at, "
                      "(SELECT loaded_at FROM load_batches) AS loaded_at FROM observation_log ORDER BY seq")
    assert log[["batch_id", "region_code", "month", "value", "source_batch", "note"]].values.tolist() == [
        [batch, "140500", "2024-06", 5.0, batch, "示例"], [batch, "140100", "2024-07", 0.1, batch, "示例"],
        [batch, "140500", "2024-06", 612.0, batch, "示例"]]
    assert log["source_url"].isna().all() and (log["recorded_at"] == log["loaded_at"]).all()
    assert store.query("SELECT file_hash, rows_total FROM load_batches").values.tolist() == [["bulk-3", 3]]
    if backend == "postgresql":
        assert postgres_indexes(store) == indexes


def postgres_indexes(store) -> list[tuple]:
    from monitor import postgres

    with postgres.connect(store.url) as con:
        return con.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                           "ORDER BY indexname").fetchall()


def test_an_internal_write_leaves_no_audit_record(store, config, regions):
    commit_plan(store, plan_upload(store, config, regions, JINCHENG_AND_TAIYUAN, "f.csv", today=TODAY),
                by=Writer.internal("bench"))
    assert outbox.pending(store) == 0
    assert store.query("SELECT loaded_by FROM load_batches")["loaded_by"].tolist() == ["bench"]
