"""The folder of real-shaped upload files (tests/data/uploads, made by make_files.py): every good
shape loads exactly its values, every bad file fails with its one check and message and writes
nothing, every warning needs a confirmation. "Today" is 2025-01-15 throughout.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.loader import commit_plan, plan_upload
from monitor.errors import AmbiguousRegionError, LoadError
from monitor.store.database import Store
from monitor.store.series import indicator_values
from monitor.store.writer import Writer, rollback_batch

UPLOADS = Path(__file__).parent / "data" / "uploads"
TODAY = date(2025, 1, 15)


@pytest.fixture
def plan_file(store, config, regions, population):
    def plan(name: str, data: bytes | None = None, **options):
        content = data if data is not None else (UPLOADS / name).read_bytes()
        return plan_upload(store, config, regions, content, name, population=population, today=TODAY, **options)

    return plan


def observations(store: Store) -> list[tuple]:
    frame = store.query("SELECT region_code, indicator_id, month, value FROM observations "
                        "ORDER BY region_code, indicator_id, month")
    return [(r, i, m, round(v, 6)) for r, i, m, v in frame.itertuples(index=False)]


def state(store: Store) -> tuple:
    """Everything a failed upload must leave exactly as it was."""
    return (observations(store), store.query("SELECT count(*) AS n FROM load_batches")["n"].iloc[0],
            store.query("SELECT count(*) AS n FROM observation_log")["n"].iloc[0],
            store.query("SELECT count(*) AS n FROM upload_files")["n"].iloc[0], store.data_version())


TWO_VALUES = [("140100", "trademarks", "2024-06", 151200.0), ("140500", "invention_patents", "2024-06", 612.0)]


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize(
    ("name", "options", "source", "expected"),
    [
        ("good_long_english.csv", {}, "UTF-8", TWO_VALUES),
        ("good_long_bom.csv", {}, "UTF-8（带 BOM）", TWO_VALUES),
        ("good_long_gbk_tab.txt", {}, "GBK/GB18030，制表符分隔", TWO_VALUES),
        ("good_long_utf16.txt", {}, "UTF-16，制表符分隔", TWO_VALUES),
        ("good_long.xlsx", {}, "Excel 工作簿，工作表「数据」", TWO_VALUES),
        ("good_wide.xlsx", {"sheet": "6月"}, "工作表「6月」（共 2 个工作表）",
         [("140100", "invention_patents", "2024-06", 12000.0), ("140100", "trademarks", "2024-06", 151200.0),
          ("140500", "invention_patents", "2024-06", 612.0), ("140500", "trademarks", "2024-06", 15000.0)]),
        ("good_wide.xlsx", {"sheet": "2"}, "工作表「6月」", None),  # a sheet by its number
        ("good_long_units.csv", {}, "UTF-8",
         [("140500", "invention_patents", "2024-06", 612.0),  # 0.0612 万件
          ("140500", "patent_intensive_share", "2024-06", 8.5),  # 8.5%
          ("140500", "pledge_amount", "2024-06", 0.8),  # 8000 万元 in 亿元
          ("140500", "trademarks", "2024-06", 15000.0)]),  # "1.5万件" in the cell
        ("good_wide_gbk_title.csv", {}, "GBK/GB18030，逗号分隔",
         [("140100", "invention_patents", "2024-06", 12000.0), ("140100", "pledge_amount", "2024-06", 3.5),
          ("140200", "invention_patents", "2024-06", 1500.0), ("140500", "invention_patents", "2024-06", 612.0),
          ("140500", "pledge_amount", "2024-06", 0.8)]),
    ],
)
def test_a_good_file_of_every_supported_shape_loads_exactly_its_values(plan_file, store, name, options, source,
                                                                        expected):
    plan = plan_file(name, **options)
    assert plan.ok and not plan.warnings, [p.message for p in plan.problems]
    assert source in plan.source
    batch = commit_plan(store, plan, by=Writer.internal("测试员"))
    assert batch == 1
    if expected is not None:
        assert observations(store) == expected


def test_the_wide_gbk_file_reports_its_title_period_totals_row_blank_cell_and_footnote(plan_file):
    plan = plan_file("good_wide_gbk_title.csv")
    assert plan.layout.shape == "wide" and plan.layout.header_row == 2
    assert plan.layout.title == "2024年6月山西省知识产权主要指标"
    assert (plan.layout.period, plan.layout.period_source, plan.layout.cumulative) == ("2024-06", "title", False)
    notes = {(p.row, p.check): p.message for p in plan.problems}
    assert notes[(4, "value")] == "第 4 行「知识产权质押融资额（万元）」列为空或「—」，按缺失处理（不按 0 计），该值不导入"
    assert notes[(6, "total")] == "第 6 行「合计」是合计行：与各行之和一致，仅用于核对，不导入"
    assert notes[(7, "footnote")].startswith("第 7 行「注：质押融资额为当月登记金额」看起来是注释或说明行")
    assert {p.severity for p in plan.problems} == {"info"}
    assert "140000" not in set(plan.rows["region_code"])  # 合计 is never loaded as a region


def test_short_names_ambiguous_nationally_resolve_within_the_province_of_the_file(plan_file, regions):
    with pytest.raises(AmbiguousRegionError):
        regions.resolve("大同")  # 大同市 (Shanxi) and 大同区 (Daqing) nationally
    plan = plan_file("good_wide_gbk_title.csv")
    assert "140200" in set(plan.rows["region_code"])


def test_a_period_option_fills_a_file_without_a_period(plan_file):
    plan = plan_file("bad_no_period.csv", period="2024-06")
    assert plan.ok
    assert plan.rows[["region_code", "month", "value"]].values.tolist() == [["140500", "2024-06", 612.0]]
    assert plan.layout.period_source == "option"


def test_year_to_date_flows_are_kept_and_give_the_months_own_amount(plan_file, store, config, population):
    monthly = ("地区,指标,期间,数值\n晋城,知识产权质押融资金额,2024-01,0.5\n晋城,知识产权质押融资金额,2024-02,0.25\n"
               "晋城,知识产权质押融资项目数,2024-01,4\n晋城,知识产权质押融资项目数,2024-02,3\n").encode()
    commit_plan(store, plan_file("jan_feb.csv", monthly))
    plan = plan_file("good_ytd_flows.csv")
    assert plan.ok, [p.message for p in plan.errors]
    assert plan.layout.cumulative
    assert sorted(plan.rows[["indicator_id", "month", "value"]].values.tolist()) == [
        ["pledge_amount@ytd", "2024-03", 1.5], ["pledge_projects@ytd", "2024-03", 12.0]]
    [note] = [p for p in plan.problems if p.check == "cumulative" and "质押融资金额" in p.message]
    assert note.message == "第 3 行「知识产权质押融资金额」2024年1-3月累计 1.5，按累计值保存；3月当月值推算为 0.75（减去此前各月之和 0.75）"
    commit_plan(store, plan)
    values = indicator_values(store, config, "pledge_amount", ["140500"], population)
    assert values[["month", "value"]].values.tolist() == [["2024-01", 0.5], ["2024-02", 0.25], ["2024-03", 0.75]]


# --------------------------------------------------------------------------- one error per file

ROW_ERRORS = [
    ("bad_unknown_region.csv", 3, "region", "第 3 行「地区」列：「晋阳市」不是已知地区；是否是：山西省晋城市"),
    ("bad_ambiguous_region.csv", 3, "region", "第 3 行「地区」列：「城区」对应多个地区：山西省阳泉市城区（140302）、山西省晋城市城区（140502）"),
    ("bad_unknown_indicator.csv", 3, "indicator", "第 3 行「指标」列的「有效发明专利数量」不是已知指标；是否是：有效发明专利拥有量"),
    ("bad_period.csv", 3, "period", "第 3 行「期间」列：「2024-13」不是有效月份"),
    ("bad_future.csv", 3, "future", "第 3 行的期间 2025-01 尚未结束（最近可报送的月份是 2024-12）"),
    ("bad_not_a_number.csv", 3, "value", "第 3 行「数值」列的「六百」不是数字；请只填数字"),
    ("bad_negative.csv", 3, "negative", "第 3 行「有效发明专利拥有量」为负数 -3；计数不能为负"),
    ("bad_conflicting_duplicate.csv", 2, "duplicate", "第 2、3 行是同一地区、指标和期间，但数值不同；请只保留正确的一行"),
    ("bad_unit.csv", 3, "unit", "第 3 行「有效发明专利拥有量」的单位「万元」无法换算为指标单位「件」；请按件填报或改正单位"),
    ("bad_percent_on_count.csv", 3, "unit", "第 3 行「有效发明专利拥有量」的单位是件，不是百分比，但数值「61%」带 %"),
]


@pytest.mark.parametrize(("name", "row", "check", "message"), ROW_ERRORS)
def test_a_file_with_one_bad_row_is_rejected_naming_the_row_check_and_fix(plan_file, store, name, row, check, message):
    before = state(store)
    plan = plan_file(name)
    assert not plan.ok
    first = plan.errors[0]
    assert (first.row, first.check) == (row, check)
    assert first.message.startswith(message)
    assert {p.check for p in plan.errors} == {check}
    with pytest.raises(LoadError, match="未写入任何数据"):
        commit_plan(store, plan, accept_warnings=True)
    assert state(store) == before


FILE_ERRORS = [
    ("bad_no_period.csv", "没有「期间」列，标题中也没有可识别的月份；请加一列「期间」"),
    ("bad_no_header.csv", "中找不到表头：需要「地区」列"),
    ("bad_empty.csv", "文件 bad_empty.csv 是空的"),
    ("bad_old_excel.xls", "不是有效的 Excel（.xls）文件，或已损坏（CalamineError）；请用 Excel 打开后“另存为” Excel 工作簿（.xlsx）再导入"),
    ("bad_not_really.xlsx", "不是有效的 Excel（.xlsx）文件"),
    ("good_wide.xlsx", "读取的是工作表「说明」；工作簿中还有 「6月」，请选择数据所在的工作表"),
]


@pytest.mark.parametrize(("name", "message"), FILE_ERRORS)
def test_a_file_that_cannot_be_read_is_refused_with_what_to_do(plan_file, store, name, message):
    before = state(store)
    with pytest.raises(LoadError) as caught:
        plan_file(name)
    assert message in str(caught.value)
    assert state(store) == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(plan_file, monkeypatch):
    monkeypatch.setenv("IPMON_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(LoadError, match=r"大小为 0\.0 MB，超过上限 0.001 MB；请按月份或地区拆分后分别导入"):
        plan_file("big.csv", b"x" * 2000)


# --------------------------------------------------------------------------- one warning per file

WARNINGS = [
    ("warn_outlier.csv", 3, "outlier", "第 3 行「有效发明专利拥有量」2024年6月为 900，较上月 600 变化 +50.0%，超过该指标的波动阈值 ±10%"),
    ("warn_stock_falls.csv", 3, "stock_falls", "第 3 行「有效发明专利拥有量」是存量指标，2024年6月为 590，低于上月的 600"),
    ("warn_per_capita.csv", 3, "per_capita", "第 3 行「每万人口发明专利拥有量」为 9.9，而「有效发明专利拥有量」612 ÷ 常住人口"),
    ("warn_total_mismatch.csv", 5, "total", "第 5 行「全省合计」的「有效发明专利拥有量」合计为 13,000，但各行之和为 12,612（相差 388）"),
    ("warn_unknown_column.csv", 1, "columns", "第 1 行的列「专利质押（件）」不是已知指标，该列不导入"),
]


@pytest.mark.parametrize(("name", "row", "check", "message"), WARNINGS)
def test_a_warning_is_shown_and_loads_only_after_confirmation(plan_file, store, name, row, check, message):
    plan = plan_file(name)
    assert plan.ok
    [warning] = plan.warnings
    assert (warning.row, warning.check) == (row, check)
    assert warning.message.startswith(message)
    before = state(store)
    with pytest.raises(LoadError, match="条警告，需确认后才能写入"):
        commit_plan(store, plan)
    assert state(store) == before
    assert commit_plan(store, plan, accept_warnings=True) == 1
    assert len(observations(store)) == len(plan.rows)


def test_an_outlier_is_also_found_against_the_month_already_in_the_store(plan_file, store):
    commit_plan(store, plan_file("may.csv", "地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-05,600\n".encode()))
    plan = plan_file("june.csv", "地区,指标,期间,数值\n晋城,有效发明专利拥有量,2024-06,6000\n".encode())
    assert [p.check for p in plan.warnings] == ["outlier"]
    assert "较上月 600 变化 +900.0%" in plan.warnings[0].message


# --------------------------------------------------------------------------- the done-when scenario


def test_wide_gbk_upload_then_a_bad_region_is_rejected_then_a_correction_shows_only_changes_and_rolls_back(
        plan_file, store):
    original = (UPLOADS / "good_wide_gbk_title.csv").read_bytes()
    first = commit_plan(store, plan_file("6月.csv", original), by=Writer.internal("数据员"))
    loaded = observations(store)

    unknown = original.decode("gbk").replace("大同,", "大铜,").encode("gbk")
    rejected = plan_file("6月-有误.csv", unknown)
    assert [(p.row, p.check) for p in rejected.errors] == [(4, "region")]
    assert rejected.errors[0].message.startswith("第 4 行「地区」列：「大铜」不是已知地区")
    with pytest.raises(LoadError):
        commit_plan(store, rejected)
    assert observations(store) == loaded

    corrected = original.decode("gbk").replace("太原,12000", "太原,12100").replace("晋城,612,8000", "晋城,612,9000")
    corrected = corrected.replace("合计,14112,43000", "合计,14212,44000").encode("gbk")
    plan = plan_file("6月-更正.csv", corrected)
    assert plan.ok and not plan.warnings
    changed = plan.diff[plan.diff["change"] == "changed"]
    assert changed[["region_code", "indicator_id", "old_value", "value"]].values.tolist() == [
        ["140100", "invention_patents", 12000.0, 12100.0], ["140500", "pledge_amount", 0.8, 0.9]]
    assert plan.counts()["unchanged"] == 3 and plan.counts()["new"] == 0
    second = commit_plan(store, plan, by=Writer.internal("数据员"))
    assert second == first + 1

    rollback_batch(store, second, by=Writer.internal("数据员"))
    assert observations(store) == loaded
