"""Milestone tasks: status as of a month from dated updates, and recording an update.

Tasks and updates are built inline; the last tests use the 18 tasks of 晋政办发〔2022〕73号 from
indicators.yaml and a real store.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from monitor.domain.config import MilestoneTarget
from monitor.store.milestones import (
    MilestoneError,
    TaskStatus,
    load_demo_updates,
    month_end,
    read_updates,
    record_update,
    task_status,
    task_table,
)


def task(*, deadline: date | None = date(2022, 12, 31), id: str = "t1") -> MilestoneTarget:
    return MilestoneTarget(
        id=id, type="milestone", title="推进知识产权保护中心建设", lead=["山西省知识产权局"], cooperating=[],
        deadline=deadline, ongoing=deadline is None, clause="扎实推进知识产权保护中心软硬件建设",
    )


def updates(*rows: tuple[str, str]) -> pd.DataFrame:
    """updates(("2022-10-15", "in_progress"), ...) for task t1, ids in the order given."""
    return pd.DataFrame(
        [(i, "t1", status, pd.Timestamp(on), f"说明{i}") for i, (on, status) in enumerate(rows, start=1)],
        columns=["id", "target_id", "status", "updated_on", "note"],
    )


NONE = pd.DataFrame(columns=["id", "target_id", "status", "updated_on", "note"])
WORKING = updates(("2022-10-15", "in_progress"))
DONE_IN_TIME = updates(("2022-10-15", "in_progress"), ("2022-12-16", "done"))
DONE_LATE = updates(("2022-10-15", "in_progress"), ("2023-02-28", "done"))


def status(t: MilestoneTarget, ups: pd.DataFrame, as_of: str) -> tuple[TaskStatus, bool]:
    state, late, _ = task_status(t, ups, as_of)
    return state, late


def status_issued(t: MilestoneTarget, ups: pd.DataFrame, as_of: str, issued: date) -> tuple[TaskStatus, bool]:
    state, late, _ = task_status(t, ups, as_of, issued)
    return state, late


# --------------------------------------------------------------------------- status as of a month


def test_month_end_is_the_last_day_of_the_month():
    assert month_end("2024-02") == date(2024, 2, 29)
    assert month_end("2023-02") == date(2023, 2, 28)
    assert month_end("2022-12") == date(2022, 12, 31)


def test_a_task_without_progress_reports_is_unreported_not_unstarted():
    assert status(task(), NONE, "2022-10") == (TaskStatus.UNREPORTED, False)


def test_a_task_with_an_in_progress_update_is_in_progress():
    assert status(task(), WORKING, "2022-10") == (TaskStatus.IN_PROGRESS, False)


def test_an_update_after_the_as_of_month_is_ignored():
    assert status(task(), WORKING, "2022-09") == (TaskStatus.UNREPORTED, False)
    assert status(task(), DONE_IN_TIME, "2022-11") == (TaskStatus.IN_PROGRESS, False)


def test_a_task_done_by_its_deadline_is_done_and_not_late():
    assert status(task(), DONE_IN_TIME, "2022-12") == (TaskStatus.DONE, False)
    assert status(task(), DONE_IN_TIME, "2030-01") == (TaskStatus.DONE, False)


def test_a_task_not_done_in_its_deadline_month_is_still_in_progress():
    assert status(task(), WORKING, "2022-12") == (TaskStatus.IN_PROGRESS, False)


def test_a_task_not_done_after_its_deadline_is_overdue():
    assert status(task(), WORKING, "2023-01") == (TaskStatus.OVERDUE, False)
    assert status(task(), NONE, "2023-01") == (TaskStatus.OVERDUE, False)


def test_a_task_done_after_its_deadline_is_overdue_until_then_and_done_late_after():
    assert status(task(), DONE_LATE, "2023-01") == (TaskStatus.OVERDUE, False)
    assert status(task(), DONE_LATE, "2023-02") == (TaskStatus.DONE, True)


def test_a_deadline_within_a_month_is_overdue_at_that_months_end():
    # 于12月20日之前 报送: as of the end of December the report is overdue unless done
    report = task(deadline=date(2022, 12, 20))
    assert status(report, NONE, "2022-11") == (TaskStatus.UNREPORTED, False)
    assert status(report, NONE, "2022-12") == (TaskStatus.OVERDUE, False)
    assert status(report, updates(("2022-12-15", "done")), "2022-12") == (TaskStatus.DONE, False)


def test_an_ongoing_task_is_never_overdue():
    ongoing = task(deadline=None)
    assert status(ongoing, NONE, "2030-12") == (TaskStatus.UNREPORTED, False)
    assert status(ongoing, WORKING, "2030-12") == (TaskStatus.IN_PROGRESS, False)
    assert status(ongoing, updates(("2023-05-01", "done")), "2030-12") == (TaskStatus.DONE, False)


def test_the_latest_update_wins_and_same_day_updates_go_by_the_order_recorded():
    back = updates(("2022-10-15", "done"), ("2022-11-01", "in_progress"))
    assert status(task(), back, "2022-11") == (TaskStatus.IN_PROGRESS, False)
    same_day = updates(("2022-10-15", "in_progress"), ("2022-10-15", "done"))
    assert status(task(), same_day, "2022-10") == (TaskStatus.DONE, False)


def test_updates_of_other_tasks_do_not_count():
    other = DONE_IN_TIME.assign(target_id="t2")
    assert status(task(), other, "2022-12") == (TaskStatus.UNREPORTED, False)


def test_the_update_in_force_is_returned_with_its_date_and_note():
    _, _, latest = task_status(task(), DONE_IN_TIME, "2022-11")
    assert (latest["_on"], latest["note"]) == (date(2022, 10, 15), "说明1")


# --------------------------------------------------------------------------- the Shanxi tasks in a store


@pytest.fixture
def shanxi(config):
    return config.target_set("shanxi_tasks_2022_2023")


def test_the_task_table_shows_the_18_tasks_as_of_a_month(store, config, shanxi):
    load_demo_updates(store, config)
    views = {v.target_id: v for v in task_table(shanxi, read_updates(store), "2023-12")}
    assert len(views) == 18
    assert (views["sxt_02"].status, views["sxt_02"].done_late) == (TaskStatus.DONE, False)
    assert (views["sxt_03"].status, views["sxt_03"].done_late) == (TaskStatus.DONE, True)  # 2023-02-28 > 2022-12-31
    assert views["sxt_05"].status is TaskStatus.IN_PROGRESS  # due 2023-12-31
    assert views["sxt_01"].status is TaskStatus.IN_PROGRESS and views["sxt_01"].ongoing
    assert views["sxt_11"].status is TaskStatus.UNREPORTED and views["sxt_11"].last_update is None  # no report
    assert views["sxt_17"].status is TaskStatus.NOT_STARTED and views["sxt_17"].last_note == "示例：待人社部门出台细则"
    assert views["sxt_02"].lead == ("山西省知识产权局",)


def test_the_task_table_as_of_an_earlier_month_ignores_later_updates(store, config, shanxi):
    load_demo_updates(store, config)
    views = {v.target_id: v for v in task_table(shanxi, read_updates(store), "2022-12")}
    assert views["sxt_03"].status is TaskStatus.IN_PROGRESS
    assert views["sxt_03"].last_update == date(2022, 9, 30)
    assert views["sxt_04"].status is TaskStatus.UNREPORTED  # its first report came later
    after = {v.target_id: v for v in task_table(shanxi, read_updates(store), "2024-01")}
    assert after["sxt_05"].status is TaskStatus.OVERDUE


# --------------------------------------------------------------------------- recording an update


TODAY = date(2024, 3, 1)


@pytest.mark.parametrize(
    ("target_id", "status_key", "on", "note", "message"),
    [
        ("sxt_99", "done", date(2024, 2, 1), "已完成", "「sxt_99」不是任务节点，不能登记进度"),
        ("jc_invention_patents", "done", date(2024, 2, 1), "已完成", "「jc_invention_patents」不是任务节点，不能登记进度"),
        ("sxt_04", "已完成", date(2024, 2, 1), "已完成",
         "状态「已完成」无效，应为 not_started（未启动）、in_progress（进行中）、done（已完成） 之一"),
        ("sxt_04", "done", date(2024, 3, 2), "已完成", "日期 2024-03-02 晚于今天，不能登记未来的进度"),
        ("sxt_04", "done", date(2024, 2, 1), "", "请填写进度说明（例如完成了什么、依据哪份文件）"),
        ("sxt_04", "done", date(2024, 2, 1), " \u3000 ", "请填写进度说明（例如完成了什么、依据哪份文件）"),
    ],
    ids=["unknown task", "not a milestone", "unknown status", "future date", "empty note", "blank note"],
)
def test_an_update_is_refused_with_a_reason_and_nothing_is_written(store, config, target_id, status_key, on,
                                                                   note, message):
    with pytest.raises(MilestoneError) as caught:
        record_update(store, config, target_id, status_key, on, note, "测试员", today=TODAY)
    assert str(caught.value) == message
    assert read_updates(store).empty
    assert store.data_version() == 0


def test_an_update_is_recorded_and_changes_the_status(store, config, shanxi):
    first = record_update(store, config, "sxt_04", "in_progress", date(2023, 3, 1), "  申报材料起草中 ",
                          "测试员", today=TODAY)
    second = record_update(store, config, "sxt_04", "done", TODAY, "分中心获批设立", "测试员", today=TODAY)
    assert (first, second) == (1, 2)
    stored = read_updates(store)
    assert stored[["id", "target_id", "status", "note", "recorded_by"]].values.tolist() == [
        [1, "sxt_04", "in_progress", "申报材料起草中", "测试员"],
        [2, "sxt_04", "done", "分中心获批设立", "测试员"],
    ]
    assert store.data_version() == 2
    sxt_04 = next(t for t in shanxi.targets if t.id == "sxt_04")
    assert status(sxt_04, stored, "2023-06") == (TaskStatus.IN_PROGRESS, False)
    assert status(sxt_04, stored, "2024-02") == (TaskStatus.OVERDUE, False)
    assert status(sxt_04, stored, "2024-03") == (TaskStatus.DONE, True)


def test_demo_updates_replace_earlier_demo_updates_and_keep_real_ones(store, config):
    record_update(store, config, "sxt_11", "in_progress", date(2023, 1, 5), "真实登记", "测试员", today=TODAY)
    first = load_demo_updates(store, config)
    again = load_demo_updates(store, config)
    stored = read_updates(store)
    assert first == again == len(stored) - 1
    assert stored[stored["recorded_by"] == "测试员"]["note"].tolist() == ["真实登记"]
    assert stored["id"].is_unique


def test_a_task_before_its_document_was_issued_has_not_started():
    issued = date(2022, 6, 30)
    assert status_issued(task(), NONE, "2022-05", issued) == (TaskStatus.PENDING, False)
    assert status_issued(task(), NONE, "2022-06", issued) == (TaskStatus.UNREPORTED, False)


def test_a_task_reported_as_not_started_says_so():
    assert status(task(), updates(("2022-10-01", "not_started")), "2022-10") == (TaskStatus.NOT_STARTED, False)
    assert TaskStatus.NOT_STARTED.value == "未启动" and TaskStatus.PENDING.value == "未开始"
