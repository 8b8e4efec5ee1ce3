"""1–N月累计 values are data: stored as reported, months derived from them, targets on annual flows
reading them directly (monitor/domain/yeartodate.py). Files are made here in the shape offices send."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.loader import commit_plan, plan_upload
from monitor.context import Context
from monitor.domain.config import LevelTarget
from monitor.domain.periods import month_index
from monitor.domain.yeartodate import combine, running_total, ytd_id
from monitor.evaluation import evaluate_target
from monitor.evaluation.sets import evaluate_regions
from monitor.evaluation.targetset import evaluate_target_set
from monitor.store.database import Store
from monitor.store.series import indicator_values, year_to_date_values

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2025, 8, 15)
CITIES = ["太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁"]


def office_file(title: str, pledge: list[float]) -> bytes:
    """A province office's wide table: GBK, a title row, Chinese headers with units, 11 cities,
    stocks and a flow side by side, the flow in 万元."""
    lines = [title, "地区,有效发明专利,有效注册商标,地理标志商标,知识产权质押融资金额（万元）"]
    for k, (city, amount) in enumerate(zip(CITIES, pledge)):
        lines.append(f"{city},{1000 + k},{20000 + k},{3 + k % 4},{amount:g}")
    return ("\n".join(lines) + "\n").encode("gbk")


@pytest.fixture
def plan_file(store, config, regions, population):
    def plan(name: str, data: bytes, today: date = TODAY):
        return plan_upload(store, config, regions, data, name, population=population, today=today)

    return plan


def stored(store: Store, indicator_id: str) -> dict[tuple[str, str], float]:
    frame = store.query("SELECT region_code, month, value FROM observations WHERE indicator_id = ?", [indicator_id])
    return {(r, m): round(v, 6) for r, m, v in frame.itertuples(index=False)}


# --------------------------------------------------------------------------- the arithmetic


def test_a_missing_month_is_the_year_to_date_less_the_one_before():
    first = month_index("2024-01")
    values = np.array([[5.0, np.nan, np.nan, 4.0]])
    ytd = np.array([[np.nan, np.nan, 15.0, np.nan]])  # 1-3月累计 15: February and March unknown apart
    monthly, to_date = combine(values, ytd, first)
    assert np.isnan(monthly[0, 1]) and np.isnan(monthly[0, 2])
    assert to_date[0].tolist() == [5.0, pytest.approx(np.nan, nan_ok=True), 15.0, 19.0]
    ytd[0, 1] = 9.0  # 1-2月累计 9 → February 4, March 15 − 9 = 6
    monthly, to_date = combine(values, ytd, first)
    assert monthly[0].tolist() == [5.0, 4.0, 6.0, 4.0] and to_date[0].tolist() == [5.0, 9.0, 15.0, 19.0]


def test_a_reported_month_wins_over_a_derived_one_and_a_negative_amount_is_not_derived():
    first = month_index("2024-01")
    monthly, to_date = combine(np.array([[5.0, 7.0, np.nan]]), np.array([[np.nan, 10.0, 8.0]]), first)
    assert monthly[0, 1] == 7.0  # reported, although 1-2月累计 10 − 5 would say 5
    assert to_date[0, 1] == 10.0  # the reported year-to-date is the year so far
    assert np.isnan(monthly[0, 2])  # 8 − 10 < 0: earlier months were revised; left unknown
    assert to_date[0, 2] == 8.0


def test_the_year_to_date_starts_again_each_january_and_is_unknown_before_the_first():
    first = month_index("2023-11")
    values = np.array([[1.0, 2.0, 3.0, 4.0]])  # 2023-11, 2023-12, 2024-01, 2024-02
    _, to_date = combine(values, None, first)
    assert np.isnan(to_date[0, 0]) and np.isnan(to_date[0, 1])  # no January of 2023 in the panel
    assert to_date[0, 2:].tolist() == [3.0, 7.0]


def test_a_running_total_across_years_adds_each_december_and_the_next_years_year_to_date():
    first = month_index("2024-01")
    to_date = np.full((1, 18), np.nan)
    to_date[0, 5], to_date[0, 11], to_date[0, 17] = 30.0, 70.0, 40.0  # 2024 1-6月, 1-12月, 2025 1-6月
    values = np.full((1, 18), np.nan)
    from_march = running_total(values, to_date, first, 2)  # since 2024-03: needs 1-2月 → unknown
    assert np.isnan(from_march[0, 5])
    to_date[0, 1] = 10.0  # 1-2月累计 10
    from_march = running_total(values, to_date, first, 2)
    assert from_march[0, 1] == 0 and from_march[0, 5] == 20.0 and from_march[0, 11] == 60.0
    assert from_march[0, 17] == 100.0  # 60 in 2024 since March, 40 in 2025 so far


# --------------------------------------------------------------------------- an office's first upload


def test_an_offices_year_to_date_table_loads_on_an_empty_store(plan_file, store, config):
    data = office_file("2024年1-6月山西省知识产权主要指标统计表", [8000 + 100 * k for k in range(11)])
    plan = plan_file("2024年1-6月.csv", data)
    assert plan.ok, [p.message for p in plan.errors]
    assert not plan.warnings, [p.message for p in plan.warnings]
    assert commit_plan(store, plan) is not None
    pledge = stored(store, ytd_id("pledge_amount"))
    assert len(pledge) == 11 and pledge[("140500", "2024-06")] == 0.84  # 8400 万元 = 0.84 亿元, as 1-6月累计
    assert stored(store, "pledge_amount") == {}  # no month's own amount can be known yet
    assert stored(store, "invention_patents")[("140100", "2024-06")] == 1000  # a stock's 1-6月 is its June level
    [note] = [p for p in plan.problems if p.check == "cumulative" and p.row == 7]
    assert note.severity == "info"
    assert note.message == ("第 7 行「知识产权质押融资金额」2024年1-6月累计 0.84，按累计值保存，全年目标直接使用；"
                            "该年缺少1月、2月、3月、4月、5月的数据，暂不推算6月当月值（补报后自动推算）")


def test_a_later_upload_of_the_month_before_fills_in_the_months_own_amount(plan_file, store, config, population):
    commit_plan(store, plan_file("1-6月.csv", office_file("2024年1-6月统计表", [8400] * 11)))
    commit_plan(store, plan_file("1-5月.csv", office_file("2024年1-5月统计表", [7000] * 11)))
    values = indicator_values(store, config, "pledge_amount", ["140500"], population, until="2024-06")
    [june] = values[values["month"] == "2024-06"].to_dict("records")
    assert june["value"] == pytest.approx(0.14)  # 0.84 − 0.70
    assert june["note"] == "由2024年1—6月累计推算" and june["origin"] == "upload"
    assert values[values["month"] == "2024-05"].empty  # 1-5月 still has no 1-4月 before it
    reported = year_to_date_values(store, config, "pledge_amount", ["140500"])
    assert reported["month"].tolist() == ["2024-05", "2024-06"]
    assert reported["value"].tolist() == pytest.approx([0.7, 0.84])


def test_a_cumulative_that_disagrees_with_stored_months_is_a_warning_naming_both_figures(plan_file, store):
    months = "".join(f"晋城,知识产权质押融资金额,2024-{m:02d},0.2\n" for m in range(1, 6))  # 1.0 by May
    commit_plan(store, plan_file("monthly.csv", ("地区,指标,期间,数值\n" + months).encode()))
    plan = plan_file("1-6月.csv", "2024年1-6月统计\n地区,知识产权质押融资金额（亿元）\n晋城,0.9\n".encode())
    assert plan.ok
    [warning] = plan.warnings
    assert warning.message == ("第 3 行「知识产权质押融资金额」2024年1-6月累计 0.9，小于已有的此前各月之和 1，"
                               "推算的6月当月值为负（-0.1）；请核对累计值和单位；如此前月份的数据已修订，确认后可继续导入"
                               "（累计值照常保存，6月当月值暂不推算）")
    assert commit_plan(store, plan, accept_warnings=True) is not None
    assert stored(store, ytd_id("pledge_amount")) == {("140500", "2024-06"): 0.9}


def test_the_same_file_on_the_demo_store_loads_with_warnings_not_errors(copy_demo_store, config, regions,
                                                                        population):
    store = Store(copy_demo_store("ytd_on_demo"))
    data = office_file("2024年1-6月山西省知识产权主要指标统计表", [8000 + 100 * k for k in range(11)])
    plan = plan_upload(store, config, regions, data, "1-6月.csv", population=population, today=TODAY)
    assert plan.ok, [p.message for p in plan.errors]
    flagged = [p for p in plan.warnings if p.check == "cumulative"]
    assert flagged and all("已有" in p.message for p in flagged)
    assert commit_plan(store, plan, accept_warnings=True) is not None
    assert stored(store, ytd_id("pledge_amount"))[("140500", "2024-06")] == 0.84


def test_the_cli_loads_a_gbk_year_to_date_file_into_a_new_store(tmp_path):
    db, path = tmp_path / "new.duckdb", tmp_path / "2024年1-6月.csv"
    path.write_bytes(office_file("2024年1-6月山西省知识产权主要指标统计表", [8000] * 11))
    env = {"IPMON_TODAY": "2025-08-15", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = [sys.executable, "-m", "etl", "--db", str(db)]
    assert subprocess.run([*run, "init"], cwd=ROOT, env=env, capture_output=True, text=True).returncode == 0
    loaded = subprocess.run([*run, "load", str(path), "--commit"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "按累计值保存" in loaded.stdout
    assert stored(Store(db), ytd_id("pledge_amount"))[("140500", "2024-06")] == 0.8


# --------------------------------------------------------------------------- targets read it directly


def test_a_level_target_on_a_monthly_flow_reads_the_reported_year_to_date(config):
    ind = config.indicator("copyright_registrations")
    target = LevelTarget(id="t", type="at_least", indicator=ind.id, value=60, start="2025-01", deadline="2025-12",
                         clause="作品著作权登记数量达到60件")
    result = evaluate_target(target, ind, pd.Series(dtype=float), "2025-06",
                             year_to_date=pd.Series({"2025-06": 30.0}))
    assert (result.current, result.current_period, result.needed_per_month) == (30.0, "2025-06", 5.0)
    # one value: on the line, but no months to draw a trend from
    assert result.explanation == ("2025年1—6月累计30件，不低于全年目标的线性进度30件；后6个月需月均新增5件方可全年达到60件；"
                                  "数据尚少，趋势尚无法判断")


def test_every_view_judges_a_stored_year_to_date_the_same(plan_file, store, config, regions, population):
    data = "2025年1-6月晋城市作品著作权登记情况\n地区,作品著作权登记（件）\n晋城,24\n".encode("gbk")
    commit_plan(store, plan_file("2025年1-6月.csv", data))
    ctx = Context(config, regions, population, store)
    overview = evaluate_target_set(ctx, "jincheng_2025", "2025-06").set_index("target_id").loc["jc_copyright"]
    panel = evaluate_regions(ctx, "jincheng_2025", "2025-06", ["140500"], targets=["jc_copyright"],
                             explain=True).iloc[0]
    assert overview["current"] == panel["current"] == 24.0
    assert overview["status"] == panel["status"] == "滞后"
    assert overview["explanation"] == panel["explanation"]
    assert overview["explanation"].startswith("2025年1—6月累计24件")


def test_the_indicator_page_shows_the_reported_year_to_date_as_such_and_no_demo_mark(plan_file, store, config,
                                                                                     regions, population):
    from monitor.views.detail import indicator_detail, observations_for_people

    data = "2025年1-6月晋城市作品著作权登记情况\n地区,作品著作权登记（件）\n晋城,24\n".encode("gbk")
    commit_plan(store, plan_file("2025年1-6月.csv", data))
    ctx = Context(config, regions, population, store)
    detail = indicator_detail(ctx, "copyright_registrations", "140500", "2025-06", set_id="jincheng_2025",
                              target_id="jc_copyright")
    assert detail.observations[["month", "span", "value", "origin"]].values.tolist() == [["2025-06", "1—6月累计", 24.0, "upload"]]
    assert observations_for_people(detail.observations)[["月份", "口径", "数值", "类型"]].values.tolist() == [
        ["2025-06", "1—6月累计", 24.0, "报送值"]]
    drawn = {(trace.name, tuple(trace.y)) for trace in detail.figure.data if trace.mode == "markers"}
    assert ("报送值", (24.0,)) in drawn and not any(name == "示例数据" for name, _ in drawn)
    assert "示例" not in str(detail.figure.layout.annotations)
