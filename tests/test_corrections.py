"""The reporting calendar (indicators.yaml ``reporting``) and closed periods: each indicator's due
date, the day its period closes, and a commit that changes a reported value of a closed period,
which is a correction (更正): refused without a reason, pending a reviewer with one, and flagged on
指标详情, 导入记录 and in the briefing once approved; and a rollback that changes one, a correction
made and approved by whoever rolls back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from etl.loader import commit_plan, plan_upload
from monitor.accounts.audit import AuditLog
from monitor.context import open_context
from monitor.domain.config import DEFAULT_REPORTING, due_on, parse_config
from monitor.errors import ClosedPeriodError, ConfigError, PermissionDenied
from monitor.output.briefing import corrections_line
from monitor.store import outbox
from monitor.store.approval import approve, return_batch
from monitor.store.history import batch, batch_rows, completeness, list_batches, official_corrections
from monitor.store.series import read_observations
from monitor.store.writer import Writer, pending_corrections, rollback_batch, rollback_corrections
from monitor.views.chase import due_dates_text, owed_reports
from monitor.views.detail import indicator_detail, observations_for_people

HEADER = "地区,指标,期间,数值\n"
JUNE = HEADER + "晋城,有效发明专利拥有量,2024-06,{}\n"
# June 2024 is due on 2024-07-15 and closes 30 days later, on 2024-08-14 (indicators.yaml)
OPEN, LAST_OPEN, CLOSED = datetime(2024, 7, 10, 9), datetime(2024, 8, 13, 9), datetime(2024, 8, 14, 9)


# --------------------------------------------------------------------------- the calendar


def test_monthly_figures_are_due_on_the_day_of_the_next_month_and_annual_ones_on_a_date_of_the_next_year(config):
    patents, satisfaction = config.indicator("invention_patents"), config.indicator("protection_satisfaction")
    assert satisfaction.frequency == "annual"
    assert config.reporting.due_date(patents, "2024-06") == date(2024, 7, 15)
    assert config.reporting.due_date(patents, "2024-12") == date(2025, 1, 15)
    assert config.reporting.due_date(satisfaction, "2024-12") == date(2025, 3, 31)
    assert config.reporting.closes_on(patents, "2024-06") == date(2024, 8, 14)
    assert DEFAULT_REPORTING.closes_on(patents, "2024-06") is None  # a config without the block: never closes
    assert due_on("04-30", "2024-12") == date(2025, 4, 30) and due_on(20, "2024-11") == date(2024, 12, 20)


def _reporting_config(text: str, regions) -> str:
    from monitor import DEFAULT_CONFIG

    real = DEFAULT_CONFIG.read_text(encoding="utf-8")
    start, end = real.index("reporting:\n"), real.index("close_after_days: 30\n") + len("close_after_days: 30\n")
    return real[:start] + text + real[end:]


def test_an_indicator_may_be_due_on_its_own_day(regions):
    text = _reporting_config('reporting:\n  due:\n    monthly: 15\n    annual: "03-31"\n  indicator_due:\n'
                             '    invention_patents: 20\n    protection_satisfaction: "04-30"\n'
                             '  close_after_days: 10\n', regions)
    config = parse_config(text, regions=regions)
    assert config.reporting.due_date(config.indicator("invention_patents"), "2024-06") == date(2024, 7, 20)
    assert config.reporting.due_date(config.indicator("trademarks"), "2024-06") == date(2024, 7, 15)
    assert config.reporting.due_date(config.indicator("protection_satisfaction"), "2024-12") == date(2025, 4, 30)
    assert config.reporting.closes_on(config.indicator("invention_patents"), "2024-06") == date(2024, 7, 30)


def test_a_due_rule_that_does_not_fit_its_indicator_is_an_error_naming_the_line(regions):
    text = _reporting_config('reporting:\n  due:\n    monthly: 15\n    annual: "02-29"\n  indicator_due:\n'
                             '    invention_patents: "03-31"\n    protection_satisfaction: 20\n    nonsense: 3\n'
                             '  close_after_days: 10\n', regions)
    with pytest.raises(ConfigError) as refused:
        parse_config(text, regions=regions)
    assert "「02-29」不是每年都有的日期" in str(refused.value)
    text = text.replace('"02-29"', '"03-31"')
    with pytest.raises(ConfigError) as refused:
        parse_config(text, regions=regions)
    message = str(refused.value)
    assert "有 3 处错误" in message and "按月报送，截止日应为次月的日期 1–28" in message
    assert "按年报送，截止日应为次年的 MM-DD" in message and "不存在的指标「nonsense」" in message
    assert "reporting › 字段 indicator_due" in message and "行" in message


def test_completeness_and_the_chase_list_use_each_indicators_due_date(tmp_path):
    ctx = open_context(store_path=tmp_path / "monitor.duckdb")
    result = completeness(ctx.store, ctx.config, ctx.regions, "140500", "2024-12")
    dues = result.cells.set_index("indicator_id")["due"].groupby(level=0).first()
    assert dues["invention_patents"] == datetime(2025, 1, 15, 23, 59, 59)
    assert dues["protection_satisfaction"] == datetime(2025, 3, 31, 23, 59, 59)
    assert due_dates_text(result) == "2025年1月15日（部分指标 2025年3月31日）"
    owed = owed_reports(result, [], ctx.regions, date(2025, 2, 1)).set_index(["region_code", "indicator_id"])
    assert owed.loc[("140500", "invention_patents"), ["due", "days_overdue"]].tolist() == ["2025-01-15", 17]
    assert owed.loc[("140500", "protection_satisfaction"), ["due", "days_overdue"]].tolist() == ["2025-03-31", 0]


# --------------------------------------------------------------------------- closed periods


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("IPMON_ACCOUNTS", str(tmp_path / "accounts.sqlite3"))
    return open_context(store_path=tmp_path / "monitor.duckdb")  # mirrors the calendar into the store


def load(ctx, value: float, at: datetime, *, reason: str | None = None, by: str = "jc-clerk",
         text: str = JUNE) -> int | None:
    plan = plan_upload(ctx.store, ctx.config, ctx.regions, text.format(value).encode(), "june.csv",
                       today=at.date())
    return commit_plan(ctx.store, plan, by=Writer(by), at=at, accept_warnings=True, reason=reason)


def official(ctx) -> float:
    frame = read_observations(ctx.store, ["invention_patents"])
    return float(frame[frame["month"] == "2024-06"]["value"].iloc[0])


def test_a_change_to_a_closed_month_without_a_reason_is_refused_saying_since_when(ctx):
    load(ctx, 612, OPEN)
    load(ctx, 615, LAST_OPEN)  # the last day before it closes: a plain change
    batches = len(list_batches(ctx.store))
    with pytest.raises(ClosedPeriodError) as refused:
        load(ctx, 620, CLOSED)
    assert "修改已关账期间的 1 个数值（2024年6月自 2024年8月14日 起已关账），属于更正；未写入任何数据" in str(refused.value)
    assert "请填写更正理由" in str(refused.value)
    assert refused.value.periods == [("invention_patents", "2024-06", date(2024, 8, 14))]
    assert len(list_batches(ctx.store)) == batches and official(ctx) == 615


def test_with_a_reason_the_correction_waits_for_a_reviewer_even_with_approval_off(ctx, tmp_path):
    load(ctx, 612, OPEN)
    correction = load(ctx, 620, CLOSED, reason="市局复核：漏报一个区县")
    info = batch(ctx.store, correction)
    assert (info["review"], info["correction_reason"]) == ("pending", "市局复核：漏报一个区县")
    assert official(ctx) == 612  # not official before it is approved
    assert batch_rows(ctx.store, correction)[["old_value", "value", "corrected"]].values.tolist() == [[612, 620, True]]
    assert official_corrections(ctx.store).empty

    with pytest.raises(PermissionDenied, match="本人上传"):
        approve(ctx.store, correction, by=Writer("jc-clerk"))
    approve(ctx.store, correction, by=Writer("jc-reviewer"), at=datetime(2024, 8, 15, 10))
    assert official(ctx) == 620
    found = official_corrections(ctx.store)
    assert found[["region_code", "month", "old_value", "value", "reason"]].values.tolist() == [
        ["140500", "2024-06", 612.0, 620.0, "市局复核：漏报一个区县"]]

    trail = AuditLog(tmp_path / "accounts.sqlite3")
    outbox.drain(ctx.store, trail)
    [entry] = trail.query(actions=["correction"]).to_dict("records")
    assert entry["actor"] == "jc-clerk" and entry["target"] == f"批次 {correction}"
    assert entry["detail"].startswith("更正理由：市局复核：漏报一个区县；更正已关账期间的 1 个值：2024年6月（2024年8月14日关账）")


def test_adding_a_value_a_closed_month_lacked_is_a_late_report_not_a_correction(ctx):
    load(ctx, 612, OPEN)
    late = load(ctx, 13000, CLOSED, text=HEADER + "晋城,有效注册商标量,2024-06,{}\n")
    assert batch(ctx.store, late)["review"] is None and batch(ctx.store, late)["correction_reason"] is None


def test_the_preview_names_the_values_a_commit_would_correct(ctx):
    load(ctx, 612, OPEN)
    plan = plan_upload(ctx.store, ctx.config, ctx.regions, JUNE.format(620).encode(), "june.csv",
                       today=CLOSED.date())
    assert pending_corrections(ctx.store, plan.rows, LAST_OPEN.date()).empty
    found = pending_corrections(ctx.store, plan.rows, CLOSED.date())
    assert found[["month", "old_value", "value", "closed_on"]].values.tolist() == [
        ["2024-06", 612.0, 620.0, date(2024, 8, 14)]]


def test_an_approved_correction_is_flagged_on_the_detail_table_and_in_the_briefing(ctx):
    load(ctx, 612, OPEN)
    correction = load(ctx, 620, CLOSED, reason="市局复核：漏报一个区县")
    approve(ctx.store, correction, by=Writer("jc-reviewer"), at=datetime(2024, 8, 15, 10))
    detail = indicator_detail(ctx, "invention_patents", "140500", "2024-08")
    table = observations_for_people(detail.observations).set_index("月份")
    assert table.loc["2024-06", "更正"] == "更正：市局复核：漏报一个区县（2024-08-14 关账后修改，原值 612）"
    assert corrections_line(ctx, "140500", "2024-08") == (
        "更正：自2024年8月以来，晋城市已关账期间的以下数值经审核后更正：有效发明专利拥有量2024年6月 612 → 620件"
        "（市局复核：漏报一个区县）。")
    assert corrections_line(ctx, "140500", "2024-09") is None  # approved before that briefing's month
    assert corrections_line(ctx, "140100", "2024-08") is None


# --------------------------------------------------------------------------- rollbacks


BOTH = JUNE + "晋城,有效注册商标量,2024-06,13000\n"


def test_a_rollback_changing_a_closed_month_is_refused_without_a_reason_and_names_what_it_would_remove(ctx):
    load(ctx, 612, OPEN)
    second = load(ctx, 620, LAST_OPEN, text=BOTH)  # changes the patents, adds the trademarks
    batches = len(list_batches(ctx.store))
    assert rollback_corrections(ctx.store, second, LAST_OPEN.date()).empty
    found = rollback_corrections(ctx.store, second, CLOSED.date())
    assert found[["indicator_id", "old_value", "value", "closed_on"]].fillna(-1).values.tolist() == [
        ["invention_patents", 620, 612, date(2024, 8, 14)], ["trademarks", 13000, -1, date(2024, 8, 14)]]  # -1: removed
    with pytest.raises(ClosedPeriodError) as refused:
        rollback_batch(ctx.store, second, by=Writer("admin"), at=CLOSED)
    assert str(refused.value).startswith("回滚批次 2 会修改已关账期间的 2 个数值（其中 1 个将被删除），"
                                         "2024年6月自 2024年8月14日 起已关账，属于更正；未做任何更改。请填写更正理由")
    assert refused.value.periods == [("invention_patents", "2024-06", date(2024, 8, 14)),
                                     ("trademarks", "2024-06", date(2024, 8, 14))]
    assert len(list_batches(ctx.store)) == batches and official(ctx) == 620
    assert batch(ctx.store, second)["status"] == "committed"


def test_with_a_reason_the_rollback_is_a_correction_official_at_once_and_marked_on_pages_and_the_briefing(
        ctx, tmp_path):
    load(ctx, 612, OPEN)
    second = load(ctx, 620, LAST_OPEN, text=BOTH)
    rollback = rollback_batch(ctx.store, second, by=Writer("admin"), at=datetime(2024, 8, 20, 9),
                              reason="  第二批数值重复统计 ")
    info = batch(ctx.store, rollback)
    assert (info["kind"], info["review"], info["correction_reason"]) == ("rollback", None, "第二批数值重复统计")
    assert info["note"] == ("回滚批次 2；更正已关账期间的 2 个值：2024年6月（2024年8月14日关账），"
                            "其中删除 1 个：晋城市有效注册商标量2024年6月（原值 13,000）")
    assert official(ctx) == 612  # no reviewer: the admin rolling back approved it
    assert batch_rows(ctx.store, rollback)[["indicator_id", "value", "corrected"]].fillna(-1).values.tolist() == [
        ["invention_patents", 612, True], ["trademarks", -1, False]]  # a removed value (-1) has no row
    found = official_corrections(ctx.store)
    assert found[["indicator_id", "old_value", "value", "batch_id", "reason", "reviewed_by"]].values.tolist() == [
        ["invention_patents", 620.0, 612.0, rollback, "第二批数值重复统计", "admin"]]
    assert found["reviewed_at"].tolist() == [datetime(2024, 8, 20, 9)]

    detail = indicator_detail(ctx, "invention_patents", "140500", "2024-08")
    table = observations_for_people(detail.observations).set_index("月份")
    assert table.loc["2024-06", "更正"] == "更正：第二批数值重复统计（2024-08-14 关账后修改，原值 620）"
    assert corrections_line(ctx, "140500", "2024-08") == (
        "更正：自2024年8月以来，晋城市已关账期间的以下数值经审核后更正：有效发明专利拥有量2024年6月 620 → 612件"
        "（第二批数值重复统计）。")

    trail = AuditLog(tmp_path / "accounts.sqlite3")
    outbox.drain(ctx.store, trail)
    assert trail.query(actions=["rollback"]).empty
    [entry] = trail.query(actions=["correction"]).to_dict("records")
    assert (entry["actor"], entry["target"]) == ("admin", f"批次 {second}")
    assert entry["detail"] == ("更正理由：第二批数值重复统计；回滚批次 2，更正已关账期间的 2 个值：2024年6月（2024年8月14日关账），"
                               f"其中删除 1 个：晋城市有效注册商标量2024年6月（原值 13,000）；回滚记录为批次 {rollback}")


def test_rolling_back_an_approved_correction_is_a_correction_and_the_mark_follows_the_value(ctx):
    load(ctx, 612, OPEN)
    correction = load(ctx, 620, CLOSED, reason="市局复核：漏报一个区县")
    approve(ctx.store, correction, by=Writer("jc-reviewer"), at=datetime(2024, 8, 15, 10))
    with pytest.raises(ClosedPeriodError, match="回滚批次 2 会修改已关账期间的 1 个数值，2024年6月"):
        rollback_batch(ctx.store, correction, by=Writer("admin"), at=datetime(2024, 8, 16, 9))
    rollback = rollback_batch(ctx.store, correction, by=Writer("admin"), at=datetime(2024, 8, 16, 9),
                              reason="区县复核后仍为 612")
    assert official(ctx) == 612
    found = official_corrections(ctx.store)
    assert found[["old_value", "value", "batch_id", "reason"]].values.tolist() == [
        [620.0, 612.0, rollback, "区县复核后仍为 612"]]


def test_returning_or_rolling_back_a_pending_batch_needs_no_correction_reason(ctx, tmp_path, monkeypatch):
    load(ctx, 612, OPEN)
    correction = load(ctx, 620, CLOSED, reason="市局复核：漏报一个区县")  # pending: a correction waits
    assert rollback_corrections(ctx.store, correction, CLOSED.date()).empty  # its value was never official
    returned = return_batch(ctx.store, correction, by=Writer("jc-reviewer"), reason="请附区县明细",
                            at=datetime(2024, 8, 15, 10))
    assert batch(ctx.store, returned)["correction_reason"] is None and official(ctx) == 612

    monkeypatch.setenv("IPMON_APPROVAL", "on")
    late = load(ctx, 13000, CLOSED, text=HEADER + "晋城,有效注册商标量,2024-06,{}\n")  # a late report, pending
    rollback = rollback_batch(ctx.store, late, by=Writer("admin"), at=datetime(2024, 8, 20, 9))  # removes it
    assert batch(ctx.store, rollback)["correction_reason"] is None
    assert official_corrections(ctx.store).empty

    trail = AuditLog(tmp_path / "accounts.sqlite3")
    outbox.drain(ctx.store, trail)
    assert [e["action"] for e in trail.query(actions=["return", "rollback", "correction"]).to_dict("records")] == [
        "rollback", "return", "correction"]  # newest first; the one correction is the pending commit's own
