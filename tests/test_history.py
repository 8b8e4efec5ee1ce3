"""History: batches and their rows, rollback that restores exactly, the store as published at a
moment, completeness of reporting, and commits that fail halfway leaving nothing behind."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from importlib import resources

import duckdb
import pandas as pd
import psycopg
import pytest

from etl.loader import commit_plan, plan_upload
from monitor.errors import HistoryError, StoreError
from monitor.store.database import SCHEMA_VERSION, Store
from monitor.store.history import (
    STATE_LABELS,
    SUMMARY_HEADERS,
    Completeness,
    batch_regions,
    batch_row_count,
    batch_rows,
    completeness,
    list_batches,
    publication_dates,
    rollback_preview,
    stored_file,
)
from monitor.store.series import read_observations
from monitor.store.writer import Writer, rollback_batch

TODAY = date(2025, 1, 15)
HEADER = "地区,指标,期间,数值\n"
A = HEADER + "晋城,有效发明专利拥有量,2024-05,600\n晋城,有效发明专利拥有量,2024-06,612\n"
B = HEADER + "晋城,有效发明专利拥有量,2024-06,615\n晋城,有效注册商标量,2024-06,13000\n"  # corrects one, adds one
C = HEADER + "晋城,有效注册商标量,2024-06,13100\n"  # corrects B's new value


@pytest.fixture
def load(store, config, regions):
    def run(text: str, name: str = "f.csv", *, at: datetime | None = None, by: str = "测试员") -> int | None:
        plan = plan_upload(store, config, regions, text.encode(), name, today=TODAY)
        assert plan.ok, [p.message for p in plan.errors]
        return commit_plan(store, plan, by=Writer.internal(by), at=at, accept_warnings=True)

    return run


def current(store: Store) -> list[tuple]:
    frame = store.query("SELECT region_code, indicator_id, month, value, origin, batch_id FROM observations "
                        "ORDER BY ALL")
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_a_batch_lists_what_it_wrote_with_the_values_it_replaced(load, store):
    load(A)
    second = load(B)
    rows = batch_rows(store, second)
    assert rows[["indicator_id", "month", "old_value", "value", "still_current"]].fillna(-1).values.tolist() == [
        ["invention_patents", "2024-06", 612.0, 615.0, True],
        ["trademarks", "2024-06", -1, 13000.0, True],
    ]
    batches = list_batches(store)
    assert batches["id"].tolist() == [2, 1]
    assert batches.iloc[0][["rows_inserted", "rows_updated", "rows_unchanged", "status", "kind"]].tolist() == [
        1, 1, 0, "committed", "load"]


def test_a_large_batch_is_read_a_page_at_a_time_with_its_count_and_regions(load, store):
    load(A)
    second = load(B + "太原,有效发明专利拥有量,2024-06,12000\n")
    assert batch_row_count(store, second) == 3
    first_two = batch_rows(store, second, limit=2)
    assert first_two[["region_code", "indicator_id", "old_value", "value"]].fillna(-1).values.tolist() == [
        ["140100", "invention_patents", -1, 12000.0], ["140500", "invention_patents", 612.0, 615.0]]
    assert batch_regions(store, second) == {"140100", "140500"}


def test_the_uploaded_file_is_kept_with_its_batch_by_content(load, store):
    load(A, "五月.csv")
    file_hash = list_batches(store)["file_hash"].iloc[0]
    assert stored_file(store, file_hash) == ("五月.csv", A.encode())


def test_rollback_restores_exactly_the_values_a_batch_replaced_and_removes_what_it_added(load, store):
    load(A)
    before = current(store)
    second = load(B)
    rollback = rollback_batch(store, second, by=Writer.internal("管理员"))
    assert current(store) == before  # same values, origins and the batch they came from
    assert rollback == 3
    info = list_batches(store).set_index("id")
    assert info.loc[second, "status"] == "rolled_back" and info.loc[second, "rolled_back_by"] == rollback
    assert (info.loc[rollback, "kind"], info.loc[rollback, "rolls_back"], info.loc[rollback, "loaded_by"]) == (
        "rollback", second, "管理员")
    assert info.loc[rollback, "rows_updated"] == 1  # one value restored, one removed


def test_a_batch_superseded_by_a_later_one_cannot_be_rolled_back_first(load, store):
    load(A)
    second = load(B)
    third = load(C)
    with pytest.raises(HistoryError, match=f"之后又被批次 {third} 修改；请先回滚这些较新的批次"):
        rollback_batch(store, second, by=Writer.internal("管理员"))
    rollback_batch(store, third, by=Writer.internal("管理员"))
    assert ("140500", "trademarks", "2024-06", 13000.0, "upload", second) in current(store)
    rollback_batch(store, second, by=Writer.internal("管理员"))
    assert [r[:4] for r in current(store)] == [("140500", "invention_patents", "2024-05", 600.0),
                                              ("140500", "invention_patents", "2024-06", 612.0)]


# Confirmations (docs/decisions.md D5): D corrects 2024-06 to 615 and adds 2024-05; E re-reports 615 unchanged
# and adds a trademark value; F re-reports 615 too.
D = HEADER + "晋城,有效发明专利拥有量,2024-05,600\n晋城,有效发明专利拥有量,2024-06,615\n"
E = HEADER + "晋城,有效发明专利拥有量,2024-06,615\n晋城,有效注册商标量,2024-06,13000\n"
F = HEADER + "晋城,有效发明专利拥有量,2024-06,615\n晋城,有效注册商标量,2024-07,13050\n"
JUNE = ("140500", "invention_patents", "2024-06")


def value_of(store: Store, key: tuple) -> tuple | None:
    """(value, origin, batch) of one key, None when it has no value."""
    found = [r[3:] for r in current(store) if r[:3] == key]
    return found[0] if found else None


def test_rolling_back_a_batch_keeps_a_value_a_later_batch_re_reported_and_the_preview_names_it(load, store):
    load(A)  # 2024-06 = 612
    first = load(D, at=datetime(2025, 1, 10, 9, 30))  # 612 → 615, 2024-05 unchanged (600)
    second = load(E, at=datetime(2025, 1, 12, 14, 3))  # 615 again: a confirmation, not a change
    preview = rollback_preview(store, first)
    assert preview.sentences() == [f"批次 {second} 于 2025-01-12 14:03 再次报送了相同数值（1 个），回滚后保留"]
    assert (preview.restored, preview.removed) == (0, 0)
    rollback = rollback_batch(store, first, by=Writer.internal("管理员"))
    assert value_of(store, JUNE) == (615.0, "upload", second)  # E's report stands
    info = list_batches(store).set_index("id")
    assert info.loc[rollback, "note"] == f"回滚批次 {first}（批次 {second} 于 2025-01-12 14:03 再次报送了相同数值（1 个），回滚后保留）"
    assert info.loc[rollback, "rows_unchanged"] == 1
    # then rolling back E as well leaves what stood before both: A's 612
    rollback_batch(store, second, by=Writer.internal("管理员"))
    assert value_of(store, JUNE) == (612.0, "upload", 1)
    assert value_of(store, ("140500", "trademarks", "2024-06")) is None


def test_rolling_back_the_re_reporting_batch_first_leaves_the_earlier_value_then_its_own_rollback_restores(load, store):
    load(A)
    first = load(D)
    second = load(E)
    rollback_batch(store, second, by=Writer.internal("管理员"))  # E's own value goes; 2024-06 was D's and stays D's
    assert value_of(store, JUNE) == (615.0, "upload", first)
    assert value_of(store, ("140500", "trademarks", "2024-06")) is None
    assert rollback_preview(store, first).sentences() == []  # a rolled-back confirmation keeps nothing
    rollback_batch(store, first, by=Writer.internal("管理员"))
    assert value_of(store, JUNE) == (612.0, "upload", 1)


def test_a_value_confirmed_twice_stays_until_every_confirming_batch_is_rolled_back(load, store):
    first = load(D)  # 2024-06 = 615, new
    second = load(E)
    third = load(F)
    rollback_batch(store, first, by=Writer.internal("x"))
    assert value_of(store, JUNE) == (615.0, "upload", third)  # the latest report holds it
    rollback_batch(store, third, by=Writer.internal("x"))
    assert value_of(store, JUNE) == (615.0, "upload", second)  # E reported it too
    rollback_batch(store, second, by=Writer.internal("x"))
    assert value_of(store, JUNE) is None  # D added the key: with D, E and F gone, so is the key


def test_a_confirmation_changed_since_by_a_standing_batch_keeps_nothing(load, store):
    load(A)
    first = load(D)
    load(E)  # confirms 615
    changed = load(HEADER + "晋城,有效发明专利拥有量,2024-06,620\n")
    with pytest.raises(HistoryError, match=f"之后又被批次 {changed} 修改"):
        rollback_batch(store, first, by=Writer.internal("x"))


def test_a_rollback_is_refused_twice_and_for_a_rollback_and_for_an_unknown_batch(load, store):
    load(A)
    rollback = rollback_batch(store, 1, by=Writer.internal("x"))
    with pytest.raises(HistoryError, match="批次 1 已被回滚"):
        rollback_batch(store, 1, by=Writer.internal("x"))
    with pytest.raises(HistoryError, match="本身是一次回滚，不能再回滚"):
        rollback_batch(store, rollback, by=Writer.internal("x"))
    with pytest.raises(HistoryError, match="没有批次 99"):
        rollback_batch(store, 99, by=Writer.internal("x"))
    assert current(store) == []


def test_a_rolled_back_file_can_be_loaded_again(load, store):
    load(A)
    rollback_batch(store, 1, by=Writer.internal("x"))
    again = load(A)
    assert again == 3 and len(current(store)) == 2


def test_the_store_as_published_at_a_moment_shows_what_was_there_then(load, store):
    load(A, at=datetime(2024, 7, 10, 9, 0))
    load(B, at=datetime(2024, 7, 20, 9, 0))
    rollback_batch(store, 2, by=Writer.internal("x"), at=datetime(2024, 7, 25, 9, 0))

    def values_at(moment):
        frame = read_observations(store.as_published(moment), ["invention_patents", "trademarks"])
        return frame[["indicator_id", "month", "value"]].values.tolist()

    assert values_at(datetime(2024, 7, 1)) == []
    assert values_at(datetime(2024, 7, 15)) == [["invention_patents", "2024-05", 600.0],
                                                ["invention_patents", "2024-06", 612.0]]
    assert values_at(datetime(2024, 7, 21)) == [["invention_patents", "2024-05", 600.0],
                                                ["invention_patents", "2024-06", 615.0],
                                                ["trademarks", "2024-06", 13000.0]]
    assert values_at(datetime(2024, 7, 26)) == values_at(datetime(2024, 7, 15))
    assert publication_dates(store) == [date(2024, 7, 10), date(2024, 7, 20), date(2024, 7, 25)]


def test_a_store_read_as_published_refuses_writes(store):
    with pytest.raises(StoreError, match="历史版本视图是只读的"), store.as_published(datetime(2024, 1, 1)).transaction():
        pass


def test_an_exception_inside_the_commit_leaves_the_store_exactly_as_it_was(load, store, config, regions):
    load(A)
    snapshot = (current(store), store.query("SELECT * FROM load_batches").values.tolist(),
                store.query("SELECT count(*) FROM observation_log").values.tolist(),
                store.query("SELECT count(*) FROM upload_files").values.tolist(), store.data_version())
    plan = plan_upload(store, config, regions, B.encode(), "broken.csv", today=TODAY)
    plan.rows.loc[1, "region_code"] = None  # violates NOT NULL in the middle of the write
    with pytest.raises((duckdb.ConstraintException, psycopg.errors.NotNullViolation)):
        commit_plan(store, plan)
    assert (current(store), store.query("SELECT * FROM load_batches").values.tolist(),
            store.query("SELECT count(*) FROM observation_log").values.tolist(),
            store.query("SELECT count(*) FROM upload_files").values.tolist(), store.data_version()) == snapshot


def test_a_version_1_store_with_data_is_upgraded_and_its_values_become_the_start_of_history(tmp_path):
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    con.execute(resources.files("monitor.store.sql").joinpath("001_initial.sql").read_text(encoding="utf-8"))
    con.execute("INSERT INTO schema_version VALUES (1, now())")
    con.execute("INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, "
                "rows_inserted, rows_updated, rows_unchanged) VALUES ('old.csv', 'h', '2024-07-01', 'x', 'upload', 1, 1, 0, 0)")
    con.execute("INSERT INTO observations VALUES ('140500', 'invention_patents', '2024-06', 612, 'upload', 1, NULL, NULL)")
    con.close()
    store = Store(path)
    assert store.migrate() == SCHEMA_VERSION
    log = store.query("SELECT batch_id, region_code, month, value, recorded_at FROM observation_log")
    assert log.values.tolist() == [[1, "140500", "2024-06", 612.0, datetime(2024, 7, 1)]]
    assert list_batches(store)["kind"].tolist() == ["load"]


def test_a_version_2_store_with_history_is_upgraded_with_every_row_and_its_history_still_works(tmp_path):
    path = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for version, name in ((1, "001_initial.sql"), (2, "002_history.sql")):
        con.execute(resources.files("monitor.store.sql").joinpath(name).read_text(encoding="utf-8"))
        con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    # what the version 2 loader wrote for A, then B (corrects 2024-06, adds trademarks)
    for batch_id, day, rows in ((1, 10, [("invention_patents", "2024-05", 600), ("invention_patents", "2024-06", 612)]),
                                (2, 20, [("invention_patents", "2024-06", 615), ("trademarks", "2024-06", 13000)])):
        con.execute("INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, "
                    "rows_inserted, rows_updated, rows_unchanged) VALUES (?, ?, ?, 'x', 'upload', 2, 1, 1, 0)",
                    [f"{batch_id}.csv", f"h{batch_id}", datetime(2024, 7, day)])
        for indicator, month, value in rows:
            con.execute("INSERT OR REPLACE INTO observations VALUES ('140500', ?, ?, ?, 'upload', ?, NULL, NULL)",
                        [indicator, month, value, batch_id])
            con.execute("INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, "
                        "source_batch, recorded_at) VALUES (?, '140500', ?, ?, ?, 'upload', ?, ?)",
                        [batch_id, indicator, month, value, batch_id, datetime(2024, 7, day)])
    con.close()
    store = Store(path)
    before = (current(store), store.query("SELECT * FROM observation_log ORDER BY seq").values.tolist())

    assert store.migrate() == SCHEMA_VERSION
    assert (current(store), store.query("SELECT * FROM observation_log ORDER BY seq").values.tolist()) == before
    assert store.query("SELECT count(*) AS n FROM duckdb_indexes() WHERE table_name IN "
                       "('observations', 'observation_log')")["n"].iloc[0] == 0  # the point of version 3
    assert batch_rows(store, 2)[["month", "old_value", "value"]].fillna(-1).values.tolist() == [
        ["2024-06", 612.0, 615.0], ["2024-06", -1, 13000.0]]
    rollback = rollback_batch(store, 2, by=Writer.internal("x"), at=datetime(2024, 7, 25))
    assert [r[:5] for r in current(store)] == [("140500", "invention_patents", "2024-05", 600.0, "upload"),
                                               ("140500", "invention_patents", "2024-06", 612.0, "upload")]
    assert store.query("SELECT seq FROM observation_log WHERE batch_id = ?", [rollback])["seq"].tolist() == [5, 6]
    assert read_observations(store.as_published(datetime(2024, 7, 21)), ["invention_patents"])["value"].tolist() == [
        600.0, 615.0]


def test_every_key_has_one_row_after_the_demo_loads_corrections_and_rollbacks(copy_demo_store, config, regions):
    from monitor.context import Context, load_demo_data
    from monitor.domain.population import load_population

    store = Store(copy_demo_store("one_row_per_key"))

    def load(text: str, name: str) -> int:
        plan = plan_upload(store, config, regions, text.encode(), name, today=TODAY)
        # June 2024 closed long ago: the later files are corrections (更正), which need a reason
        return commit_plan(store, plan, accept_warnings=True, reason="测试更正")

    load(A, "a.csv")  # corrects demo values of 晋城
    load(B, "b.csv")
    third = load(C, "c.csv")
    rollback_batch(store, third, by=Writer.internal("x"))
    load(C, "c_again.csv")
    load_demo_data(Context(config, regions, load_population(), store), end="2026-10")  # the demo values again
    reload = int(store.query("SELECT max(id) AS id FROM load_batches")["id"].iloc[0])
    rollback_batch(store, reload, by=Writer.internal("x"))  # back to the corrections
    assert ("140500", "trademarks", "2024-06", 13100.0, "upload") in [r[:5] for r in current(store)]
    counts = store.query("""
        SELECT count(*) AS n, count(DISTINCT (region_code, indicator_id, month)) AS keys,
               (SELECT count(*) - count(DISTINCT seq) FROM observation_log) AS repeated_seq
        FROM observations""").iloc[0]
    assert counts["n"] == counts["keys"] > 0 and counts["repeated_seq"] == 0
    # and what is stored is what the log says is current
    latest = store.query("""
        SELECT region_code, indicator_id, month, value FROM observation_log
        QUALIFY row_number() OVER (PARTITION BY region_code, indicator_id, month ORDER BY seq DESC) = 1""")
    latest = latest[latest["value"].notna()].sort_values(["region_code", "indicator_id", "month"])
    stored = store.query("SELECT region_code, indicator_id, month, value FROM observations ORDER BY ALL")
    assert latest.values.tolist() == stored.values.tolist()
    shutil.rmtree(store.path.parent)


# --------------------------------------------------------------------------- completeness


def test_completeness_says_who_reported_on_time_late_or_not_at_all(load, store, config, regions):
    # June 2024 is due by 2024-07-15 (reporting.due_day in indicators.yaml)
    load(HEADER + "晋城,有效发明专利拥有量,2024-06,612\n", at=datetime(2024, 7, 10))
    load(HEADER + "太原,有效发明专利拥有量,2024-06,12000\n", at=datetime(2024, 7, 20))
    late_then_undone = load(HEADER + "大同市,有效发明专利拥有量,2024-06,1500\n", at=datetime(2024, 7, 12))
    rollback_batch(store, late_then_undone, by=Writer.internal("x"), at=datetime(2024, 7, 13))
    result = completeness(store, config, regions, "140000", "2024-06")
    assert result.due == datetime(2024, 7, 15, 23, 59, 59)
    cells = result.cells.set_index(["region_code", "indicator_id"])["state"]
    assert cells[("140500", "invention_patents")] == "on_time"
    assert cells[("140100", "invention_patents")] == "late"
    assert cells[("140200", "invention_patents")] == "owed"  # a rolled-back upload is not a report
    assert cells[("140500", "trademarks")] == "owed"
    summary = result.summary.set_index("region_code")
    assert summary.loc["140500", ["on_time", "late"]].tolist() == [1, 0]
    assert summary.loc["140500", "owed"] == summary.loc["140500", "expected"] - 1
    assert "140000" in summary.index and "140500" in summary.index and "140502" not in summary.index
    # people read the states and the summary in Chinese (报送情况, python -m etl completeness)
    assert [STATE_LABELS[s] for s in Completeness.STATES] == ["按时报送", "逾期报送", "未报送", "示例/公布数据"]
    assert list(result.summary.rename(columns=SUMMARY_HEADERS).columns) == [
        "region_code", "地区", "应报", "按时报送", "逾期报送", "未报送", "示例/公布数据"]


def test_completeness_marks_demo_values_as_such_not_as_reports(copy_demo_store, config, regions):
    store = Store(copy_demo_store("completeness"))
    result = completeness(store, config, regions, "140000", "2024-06")
    states = set(result.cells.loc[result.cells["region_code"] == "140500", "state"])
    assert states <= {"not_uploaded", "owed"} and "not_uploaded" in states


def test_annual_indicators_are_expected_only_in_december(store, config, regions):
    june = completeness(store, config, regions, "140500", "2024-06")
    december = completeness(store, config, regions, "140500", "2024-12")
    annual = {i.id for i in config.indicators if i.frequency == "annual" and i.kind != "derived"}
    assert annual and not annual & set(june.cells["indicator_id"])
    assert annual <= set(december.cells["indicator_id"])


def test_reset_demo_clears_history_too(copy_demo_store):
    from monitor.store.writer import reset_demo

    path = copy_demo_store("reset")
    store = Store(path)
    assert store.query("SELECT count(*) AS n FROM observation_log")["n"].iloc[0] > 0
    nothing = pd.DataFrame(columns=["region_code", "indicator_id", "month", "value", "origin", "source_url", "note"])
    reset_demo(store, nothing, by=Writer.internal())  # erased, and a demo of no rows loaded
    assert [store.query(f"SELECT count(*) AS n FROM {t}")["n"].iloc[0]
            for t in ("observations", "observation_log", "load_batches", "upload_files")] == [0, 0, 0, 0]
    shutil.rmtree(path.parent)


def test_the_demo_batches_read_in_chinese_on_the_import_record():
    from monitor.store.history import batch_words

    assert batch_words("demo-generator") == "示例数据生成器"
    assert batch_words("示例数据生成器（published）") == "示例数据生成器（公布值）"
    assert batch_words("示例数据生成器（demo）") == "示例数据生成器（示例数据）"
    assert batch_words("晋城_2026年10月.xlsx") == "晋城_2026年10月.xlsx" and batch_words(None) == ""
