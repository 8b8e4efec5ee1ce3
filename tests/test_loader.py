"""The loader: CSV bytes → staged rows and every problem → a plan against the store → one commit.

CSVs are written inline, as a person would save them from a spreadsheet. ``today`` is fixed at
2025-01-15, so 2024-12 is the latest month that may be reported.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from etl.loader import commit_plan, file_digest, parse_number, plan_upload
from etl.problems import problems_frame
from monitor.errors import LoadError
from monitor.store.database import Store
from monitor.store.writer import Writer

TODAY = date(2025, 1, 15)
HEADER = "地区,指标,期间,数值\n"


@pytest.fixture
def plan_of(store, config, regions):
    """plan_of(csv text or bytes) -> the LoadPlan, as the upload page and the CLI would compute it."""

    def plan(content: str | bytes, name: str = "upload.csv"):
        data = content.encode("utf-8") if isinstance(content, str) else content
        return plan_upload(store, config, regions, data, name, today=TODAY)

    plan.config, plan.regions = config, regions
    return plan


@pytest.fixture
def load(store, config, regions, tmp_path):
    """load(csv text, commit=...) from a real file, as the CLI does: plan, then commit when clean."""

    def run(text: str, *, name: str = "upload.csv", commit: bool = True):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        plan = plan_upload(store, config, regions, path.read_bytes(), path.name, today=TODAY)
        batch = commit_plan(store, plan, by=Writer.internal("测试员")) if commit and plan.ok else None
        return plan, batch

    return run


def staged(plan) -> list[tuple]:
    return [tuple(r) for r in plan.rows[["region_code", "indicator_id", "month", "value", "line"]].itertuples(index=False)]


def observations(store: Store) -> list[tuple]:
    frame = store.query("SELECT region_code, indicator_id, month, value, origin, batch_id FROM observations "
                        "ORDER BY region_code, indicator_id, month")
    return [tuple(r) for r in frame.itertuples(index=False)]


def batches(store: Store) -> list[tuple]:
    frame = store.query("SELECT id, file_name, origin, loaded_by, rows_total, rows_inserted, rows_updated, "
                        "rows_unchanged, status FROM load_batches ORDER BY id")
    return [tuple(r) for r in frame.itertuples(index=False)]


# --------------------------------------------------------------------------- reading


def test_a_csv_with_chinese_headers_is_read(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-06,612\n")
    assert staged(plan) == [("140500", "invention_patents", "2024-06", 612.0, 2)]
    assert plan.problems == []


def test_a_csv_saved_with_a_byte_order_mark_and_english_headers_is_read(plan_of):
    data = "region,indicator,period,value\n140500,invention_patents,2024-06,612\n".encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert staged(plan_of(data)) == [("140500", "invention_patents", "2024-06", 612.0, 2)]


def test_blank_lines_are_skipped_and_rows_keep_the_line_numbers_a_person_sees(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-05,600\n\n,,,\n晋城,有效发明专利拥有量,2024-06,612\n")
    assert [line for *_, line in staged(plan)] == [2, 5]


@pytest.mark.parametrize("region", ["晋城", "晋城市", "140500", "山西省晋城市"])
def test_a_region_is_found_by_short_name_full_name_or_code(plan_of, region):
    plan = plan_of(HEADER + f"{region},有效发明专利拥有量,2024-06,612\n")
    assert plan.rows["region_code"].tolist() == ["140500"]


@pytest.mark.parametrize("indicator", ["invention_patents", "有效发明专利拥有量", "有效发明专利", "国内（不含港澳台）发明专利有效量"])
def test_an_indicator_is_found_by_id_name_or_alias(plan_of, indicator):
    plan = plan_of(HEADER + f"晋城,{indicator},2024-06,612\n")
    assert plan.rows["indicator_id"].tolist() == ["invention_patents"]


@pytest.mark.parametrize(
    ("written", "value"),
    [("612", 612.0), ('"1,234"', 1234.0), ("１２３４", 1234.0), ('"１，２３４．５"', 1234.5), (" 612 ", 612.0)],
)
def test_numbers_with_thousands_separators_or_full_width_digits_are_read(plan_of, written, value):
    plan = plan_of(HEADER + f"晋城,有效发明专利拥有量,2024-06,{written}\n")
    assert plan.rows["value"].tolist() == [value]


@pytest.mark.parametrize("written", ["1.2.3", "约600", "600件", "六百"])
def test_parse_number_refuses_what_is_not_a_number(written):
    with pytest.raises(ValueError):
        parse_number(written)


@pytest.mark.parametrize("written", ["", "—", "--", "－", "——"])
def test_a_missing_value_is_said_and_is_never_loaded_as_zero(plan_of, written):
    plan = plan_of(HEADER + f"晋城,有效发明专利拥有量,2024-06,{written}\n晋城,有效发明专利拥有量,2024-07,615\n")
    assert staged(plan) == [("140500", "invention_patents", "2024-07", 615.0, 3)]
    assert plan.ok and not plan.warnings
    [note] = plan.problems
    assert (note.row, note.severity) == (2, "info")
    assert note.message == f"第 2 行「数值」列为空或「{written}」，按缺失处理（不按 0 计），该值不导入"


def test_a_missing_required_column_names_the_columns(plan_of):
    with pytest.raises(LoadError) as caught:
        plan_of("地区,指标,时间段,值得\n晋城,有效发明专利拥有量,2024-06,612\n", name="表.csv")
    message = str(caught.value)
    assert message.startswith("表.csv 第 1 行像是表头，但缺少必需的列：数值")
    assert "现有列：地区、指标、时间段、值得" in message


def test_a_gbk_file_is_read_without_being_asked(plan_of):
    data = (HEADER + "晋城,有效发明专利拥有量,2024-06,612\n").encode("gbk")
    plan = plan_of(data, name="gbk.csv")
    assert staged(plan) == [("140500", "invention_patents", "2024-06", 612.0, 2)]
    assert "GBK" in plan.source


# --------------------------------------------------------------------------- every problem, one pass

EVERY_PROBLEM = HEADER + (
    "晋城,有效发明专利拥有量,2024-06,612\n"  # 2 good
    "晋阳市,有效发明专利拥有量,2024-06,5\n"  # 3 unknown region
    "晋城,有效发明专利数量,2024-06,5\n"  # 4 unknown indicator
    "晋城,有效发明专利拥有量,2024-13,5\n"  # 5 not a month
    "晋城,有效发明专利拥有量,2025-01,5\n"  # 6 a month not yet over
    "晋城,有效发明专利拥有量,2024-07,六百\n"  # 7 not a number
    "晋城,有效发明专利拥有量,2024-08,-3\n"  # 8 a negative count
    "晋城,有效发明专利拥有量,2024-09,620\n"  # 9 same key as 10, different value
    "晋城,有效发明专利拥有量,2024-09,621\n"  # 10
    "晋城,有效注册商标量,2024-09,13000\n"  # 11 same key and value as 12
    "晋城市,trademarks,2024-09,13000\n"  # 12
)


def test_every_problem_in_a_file_is_found_in_one_pass(plan_of):
    plan = plan_of(EVERY_PROBLEM)
    assert [(p.row, p.check, p.severity) for p in plan.problems] == [
        (3, "region", "error"),
        (4, "indicator", "error"),
        (5, "period", "error"),
        (6, "future", "error"),
        (7, "value", "error"),
        (8, "negative", "error"),
        (9, "duplicate", "error"),
        (10, "duplicate", "error"),
        (12, "duplicate", "info"),
    ]
    assert not plan.ok
    assert plan.counts()["errors"] == 8 and plan.counts()["warnings"] == 0


def test_each_problem_says_in_chinese_which_row_and_value_and_what_to_do(plan_of):
    messages = {p.row: p.message for p in plan_of(EVERY_PROBLEM).problems}
    assert messages[3].startswith("第 3 行「地区」列：「晋阳市」不是已知地区；是否是：")
    assert "山西省晋城市" in messages[3]
    assert messages[4] == ("第 4 行「指标」列的「有效发明专利数量」不是已知指标；是否是：有效发明专利拥有量、高价值发明专利拥有量、每万人口发明专利拥有量？"
                           "请使用 indicators.yaml 中的指标名称、别名或代码")
    assert messages[5] == "第 5 行「期间」列：「2024-13」不是有效月份（月份应在 1–12 之间）"
    assert messages[6] == "第 6 行的期间 2025-01 尚未结束（最近可报送的月份是 2024-12）；请检查年份和月份"
    assert messages[7] == "第 7 行「数值」列的「六百」不是数字；请只填数字（可带千分位逗号），缺失请留空或填「—」"
    assert messages[8] == "第 8 行「有效发明专利拥有量」为负数 -3；计数不能为负，请核对"
    assert messages[9] == messages[10] == "第 9、10 行是同一地区、指标和期间，但数值不同；请只保留正确的一行"
    assert messages[12] == "第 11、12 行重复（数值相同），只导入一次"


def test_only_clean_rows_are_staged_and_an_agreeing_duplicate_is_staged_once(plan_of):
    assert staged(plan_of(EVERY_PROBLEM)) == [
        ("140500", "invention_patents", "2024-06", 612.0, 2),
        ("140500", "trademarks", "2024-09", 13000.0, 11),
    ]


def test_the_problems_table_has_chinese_headings_and_check_names(plan_of):
    frame = problems_frame(plan_of(EVERY_PROBLEM).problems)
    assert list(frame.columns) == ["文件", "行", "列", "检查", "值", "说明", "级别"]
    assert frame["检查"].tolist()[:6] == ["地区", "指标", "期间", "未来期间", "数值", "负数"]
    assert frame.loc[0, "值"] == "晋阳市"


def test_a_negative_value_is_allowed_where_the_unit_is_not_a_count(plan_of):
    # 专利密集型产业增加值占GDP比重 is a share in %: a negative count check does not apply
    plan = plan_of(HEADER + "晋城,专利密集型产业增加值占GDP比重,2024-12,-0.5\n")
    assert plan.ok and plan.rows["value"].tolist() == [-0.5]


def test_the_latest_allowed_month_follows_today(store, config, regions):
    data = (HEADER + "晋城,有效发明专利拥有量,2025-01,612\n").encode()
    early = plan_upload(store, config, regions, data, "a.csv", today=date(2025, 1, 31))
    later = plan_upload(store, config, regions, data, "a.csv", today=date(2025, 2, 1))
    assert [p.check for p in early.problems] == ["future"]
    assert later.ok and len(later.rows) == 1


# --------------------------------------------------------------------------- plan and commit

FIRST = HEADER + (
    "晋城,有效发明专利拥有量,2024-05,600\n"
    "晋城,有效发明专利拥有量,2024-06,612\n"
    "晋城,有效注册商标量,2024-06,13000\n"
)
CORRECTED = HEADER + (
    "晋城,有效发明专利拥有量,2024-05,600\n"  # unchanged
    "晋城,有效发明专利拥有量,2024-06,615\n"  # corrected
    "晋城,有效注册商标量,2024-06,13000\n"  # unchanged
    "晋城,有效注册商标量,2024-07,13100\n"  # new
)


def test_a_plan_says_which_values_are_new_changed_or_unchanged(load, plan_of):
    load(FIRST)
    plan = plan_of(CORRECTED)
    diff = plan.diff.fillna({"old_value": -1})  # -1: nothing stored before
    assert diff[["month", "indicator_id", "old_value", "value", "change"]].values.tolist() == [
        ["2024-05", "invention_patents", 600.0, 600.0, "unchanged"],
        ["2024-06", "invention_patents", 612.0, 615.0, "changed"],
        ["2024-06", "trademarks", 13000.0, 13000.0, "unchanged"],
        ["2024-07", "trademarks", -1.0, 13100.0, "new"],
    ]
    assert plan.counts() == {"total": 4, "new": 1, "changed": 1, "unchanged": 2, "errors": 0, "warnings": 0}


def test_a_dry_run_writes_nothing(load, store):
    plan, batch = load(FIRST, commit=False)
    assert batch is None and plan.counts()["new"] == 3
    assert observations(store) == [] and batches(store) == []
    assert store.data_version() == 0


def test_a_commit_writes_every_row_and_a_batch_with_its_counts(load, store):
    plan, batch = load(FIRST)
    assert batch == 1
    assert observations(store) == [
        ("140500", "invention_patents", "2024-05", 600.0, "upload", 1),
        ("140500", "invention_patents", "2024-06", 612.0, "upload", 1),
        ("140500", "trademarks", "2024-06", 13000.0, "upload", 1),
    ]
    assert batches(store) == [(1, "upload.csv", "upload", "测试员", 3, 3, 0, 0, "committed")]
    stored_hash = store.query("SELECT file_hash FROM load_batches")["file_hash"].iloc[0]
    assert stored_hash == file_digest(FIRST.encode("utf-8"))
    assert store.data_version() == 1


def test_a_file_with_an_error_writes_nothing_at_all(load, store):
    plan, batch = load(FIRST + "晋阳市,有效发明专利拥有量,2024-07,620\n")
    assert not plan.ok and batch is None
    assert len(plan.rows) == 3  # the good rows were staged, and still not written
    assert observations(store) == [] and batches(store) == []
    assert store.data_version() == 0


def test_committing_a_plan_with_errors_is_refused(plan_of, store):
    plan = plan_of(EVERY_PROBLEM)
    with pytest.raises(LoadError, match="upload.csv 有 8 处错误，未写入任何数据") as caught:
        commit_plan(store, plan)
    assert len(caught.value.problems) == 8
    assert observations(store) == [] and batches(store) == []


def test_loading_the_same_file_again_changes_nothing_and_names_the_earlier_batch(load, store):
    load(FIRST)
    before = observations(store)
    plan, second = load(FIRST)
    assert plan.duplicate_of == 1
    assert plan.counts()["unchanged"] == 3 and plan.counts()["new"] == plan.counts()["changed"] == 0
    assert second is None  # nothing to write: no batch either
    assert observations(store) == before  # same values, still from batch 1
    assert len(batches(store)) == 1


def test_loading_a_corrected_file_updates_exactly_the_changed_values(load, store):
    load(FIRST)
    plan, second = load(CORRECTED, name="upload_v2.csv")
    assert plan.duplicate_of is None
    assert observations(store) == [
        ("140500", "invention_patents", "2024-05", 600.0, "upload", 1),
        ("140500", "invention_patents", "2024-06", 615.0, "upload", second),
        ("140500", "trademarks", "2024-06", 13000.0, "upload", 1),
        ("140500", "trademarks", "2024-07", 13100.0, "upload", second),
    ]
    assert batches(store)[1] == (second, "upload_v2.csv", "upload", "测试员", 4, 1, 1, 2, "committed")


# --------------------------------------------------------------------------- one row per key
# observations has no primary key since schema 3: the commit itself keeps one row per key.


def duplicate_keys(store: Store) -> int:
    return int(store.query("SELECT count(*) - count(DISTINCT (region_code, indicator_id, month)) AS n "
                           "FROM observations")["n"].iloc[0])


def test_two_commits_of_overlapping_files_leave_one_row_per_key_with_the_later_value(load, store):
    load(FIRST)
    _, second = load(HEADER + "晋城,有效发明专利拥有量,2024-06,615\n晋城,有效注册商标量,2024-06,13050\n"
                     "晋城,有效注册商标量,2024-07,13100\n", name="overlap.csv")
    assert observations(store) == [
        ("140500", "invention_patents", "2024-05", 600.0, "upload", 1),
        ("140500", "invention_patents", "2024-06", 615.0, "upload", second),
        ("140500", "trademarks", "2024-06", 13050.0, "upload", second),
        ("140500", "trademarks", "2024-07", 13100.0, "upload", second),
    ]
    _, third = load(FIRST, name="first_again.csv")  # the first file again: its values are the later ones now
    assert [r[3:] for r in observations(store)] == [(600.0, "upload", 1), (612.0, "upload", third),
                                                   (13000.0, "upload", third), (13100.0, "upload", second)]
    assert duplicate_keys(store) == 0


def test_a_commit_overlapping_another_writers_commit_fails_and_writes_nothing(store, config, regions, monkeypatch,
                                                                              backend):
    import duckdb

    import monitor.store.approval
    from monitor.errors import StoreBusyError

    first = plan_upload(store, config, regions, FIRST.encode(), "first.csv", today=TODAY)
    other = plan_upload(store, config, regions, CORRECTED.encode(), "other.csv", today=TODAY)

    def another_writer_meanwhile(con) -> bool:
        # called inside the first commit's transaction, after its diff: the other commit starts
        # and finishes in between, writing the same keys
        monkeypatch.setattr(monitor.store.approval, "approval_required", lambda con: False)
        commit_plan(store, other)
        return False

    monkeypatch.setattr(monitor.store.approval, "approval_required", another_writer_meanwhile)
    if backend == "postgresql":
        # the first commit holds the writer lock (monitor/store/pg.py): the other cannot start,
        # waits its timeout and is refused, and its refusal fails the first, which writes nothing
        store.timeout = 0.5
        with pytest.raises(StoreBusyError, match="正被另一个程序写入"):
            commit_plan(store, first)
        assert observations(store) == [] and batches(store) == [] and store.data_version() == 0
        return
    with pytest.raises(duckdb.TransactionException, match="(?i)conflict"):
        commit_plan(store, first)
    assert [r[:4] for r in observations(store)] == [
        ("140500", "invention_patents", "2024-05", 600.0), ("140500", "invention_patents", "2024-06", 615.0),
        ("140500", "trademarks", "2024-06", 13000.0), ("140500", "trademarks", "2024-07", 13100.0)]
    assert [b[1] for b in batches(store)] == ["other.csv"]
    assert store.data_version() == 1
    assert duplicate_keys(store) == 0


# --------------------------------------------------------------------------- checks worked out per column
# stage and the checks work on whole columns (once per distinct region, indicator, period and
# unit) and write a problem only for a row that has one: these pin down what a row-by-row pass said.


def test_a_row_with_several_problems_says_each_in_the_order_of_its_columns(plan_of):
    plan = plan_of(HEADER + "晋阳市,有效发明专利数量,2024-13,六百\n")
    assert [(p.row, p.column, p.check) for p in plan.problems] == [
        (2, "地区", "region"), (2, "指标", "indicator"), (2, "数值", "value"), (2, "期间", "period")]


def test_a_wide_row_says_its_region_and_period_problem_once_however_many_values_it_carries(plan_of):
    plan = plan_of("地区,期间,有效发明专利（件）,有效注册商标（件）,专利授权量（件）\n"
                   "晋阳市,2024-06,1,2,3\n晋城,2025-03,4,5,6\n晋城,2024-06,7,,９\n")
    assert [(p.row, p.check) for p in plan.problems] == [(2, "region"), (3, "future")]
    assert plan.rows["value"].tolist() == [7.0, 9.0]  # a blank cell of a wide table is nothing to load


def test_units_convert_per_unit_and_indicator_wherever_they_are_written(plan_of):
    plan = plan_of("地区,指标,期间,数值,单位\n"
                   "晋城,有效发明专利拥有量,2024-05,0.06,万件\n"
                   "晋城,知识产权质押融资金额,2024-05,8000,万元\n"
                   "晋城,有效发明专利拥有量,2024-06,612,件\n"
                   "晋城,知识产权质押融资金额,2024-06,80,百万元\n"
                   "晋城,有效注册商标量,2024-06,1.5万件,\n"
                   "晋城,有效注册商标量,2024-05,15000,家\n"
                   "晋城,专利密集型产业增加值占GDP比重,2024-06,8.5%,\n"
                   "晋城,有效注册商标量,2024-04,12%,\n")
    assert [(p.row, p.check, p.value) for p in plan.problems] == [(7, "unit", "家"), (9, "unit", "12%")]
    assert plan.problems[0].message == "第 7 行「有效注册商标量」的单位「家」无法换算为指标单位「件」；请按件填报或改正单位"
    assert [round(v, 9) for v in plan.rows["value"]] == [600.0, 0.8, 612.0, 0.8, 15000.0, 8.5]


def test_an_origin_column_is_checked_and_an_empty_one_is_stored_as_null(plan_of):
    plan = plan_of("地区,指标,期间,数值,来源类型,来源,备注\n"
                   "晋城,有效发明专利拥有量,2024-05,600,published,http://a,\n"
                   "晋城,有效发明专利拥有量,2024-06,612,,,更正\n"
                   "晋城,有效注册商标量,2024-06,13000,官方,,\n")
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(4, "origin", "官方")]
    assert plan.rows[["origin", "source_url", "note"]].values.tolist() == [
        ["published", "http://a", None], [None, None, "更正"]]


def test_only_an_administrator_may_mark_values_as_published_or_name_their_source(store, config, regions):
    text = ("地区,指标,期间,数值,来源类型,来源,备注\n"
            "晋城,有效发明专利拥有量,2024-05,600,published,https://evil.example/fake-bulletin.html,\n"
            "晋城,有效发明专利拥有量,2024-06,612,,,更正\n"
            "晋城,有效注册商标量,2024-06,13000,,https://evil.example/,\n"
            "晋城,有效注册商标量,2024-05,12000,,,\n").encode()
    clerk = plan_upload(store, config, regions, text, "a.csv", today=TODAY, provenance=False)
    assert [(p.row, p.check, p.severity) for p in clerk.problems] == [
        (2, "provenance", "error"), (4, "provenance", "error"), (None, "provenance", "info")]
    assert clerk.problems[0].message == ("第 2 行填写了「来源类型」或「来源」：只有管理员可以把数值标为公布值或注明来源；"
                                         "请删去这两列（或清空其中的单元格）后重新上传，或请管理员导入")
    assert clerk.problems[-1].message == "「备注」列未导入：只有管理员可以为数值写备注；该列已忽略，数值照常导入"
    assert clerk.rows[["origin", "source_url", "note"]].values.tolist() == [[None, None, None]] * 2
    admin = plan_upload(store, config, regions, text, "a.csv", today=TODAY)
    assert admin.ok and admin.rows["note"].tolist() == [None, "更正", None, None]


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://a.example/x", "evil.example/x", "https://a.example/ x",
                                  'https://a.example/"onmouseover="x', "data:text/html,<b>x</b>"])
def test_a_source_link_must_be_a_web_address(plan_of, link):
    quoted_link = '"' + link.replace('"', '""') + '"'
    plan = plan_of(f"地区,指标,期间,数值,来源\n晋城,有效发明专利拥有量,2024-05,600,{quoted_link}\n")
    [error] = plan.errors
    assert (error.check, error.row) == ("link", 2)
    assert error.message.endswith("不是以 http:// 或 https:// 开头的网址；请填写完整网址，或清空该单元格")


def test_the_month_before_is_taken_from_the_file_before_the_store(load, plan_of):
    load(HEADER + "晋城,有效发明专利拥有量,2024-05,100\n晋城,有效注册商标量,2024-05,13000\n")
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-05,600\n晋城,有效发明专利拥有量,2024-06,612\n"
                   "晋城,有效注册商标量,2024-06,12000\n")
    # 612 follows the file's 600 (the stored 100 is being corrected); 12000 follows the stored 13000
    [falls] = plan.problems
    assert (falls.row, falls.check) == (4, "stock_falls")
    assert falls.message.startswith("第 4 行「有效注册商标量」是存量指标，2024年6月为 12,000，低于上月的 13,000；")


def test_a_totals_row_is_checked_against_the_leaves_of_its_indicator_and_month(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-06,600\n城区,有效发明专利拥有量,2024-06,200\n"
                   "沁水县,有效发明专利拥有量,2024-06,400\n合计,有效发明专利拥有量,2024-06,600\n"
                   "合计,有效注册商标量,2024-06,5\n全省,每万人口发明专利拥有量,2024-06,3\n")
    assert [(p.row, p.check, p.severity) for p in plan.problems] == [
        (5, "total", "info"), (7, "total", "info")]
    assert plan.problems[0].message == "第 5 行「合计」是合计行：与各行之和一致，仅用于核对，不导入"


def test_the_diff_inside_a_transaction_sees_what_that_transaction_wrote(load, plan_of, store):
    from monitor.store.writer import diff_against_store

    plan, _ = load(FIRST)
    with store.transaction() as con:
        con.execute("UPDATE observations SET value = 700 WHERE month = '2024-06' AND indicator_id = 'invention_patents'")
        inside = diff_against_store(con, plan.rows)
        con.execute("ROLLBACK")
        con.execute("BEGIN TRANSACTION")
    outside = diff_against_store(store, plan.rows)
    assert inside["change"].tolist() == ["unchanged", "changed", "unchanged"]
    assert outside["change"].tolist() == ["unchanged"] * 3
    assert outside["old_origin"].tolist() == ["upload"] * 3


def test_a_commit_counts_and_writes_against_the_store_as_it_is_when_another_commit_came_after_the_preview(
        load, plan_of, store):
    load(FIRST)
    plan = plan_of(CORRECTED, name="upload_v2.csv")
    assert plan.counts()["changed"] == 1 and plan.counts()["new"] == 1
    # between this preview and its commit someone else writes the corrected 2024-06 value and 2024-07
    _, other = load(HEADER + "晋城,有效发明专利拥有量,2024-06,615\n晋城,有效注册商标量,2024-07,13100\n",
                    name="other.csv")
    assert commit_plan(store, plan, by=Writer.internal("测试员")) is None  # nothing left to change
    assert [r[3:] for r in observations(store)] == [(600.0, "upload", 1), (615.0, "upload", other),
                                                   (13000.0, "upload", 1), (13100.0, "upload", other)]
    assert duplicate_keys(store) == 0 and len(batches(store)) == 2


def test_a_commit_right_after_its_preview_writes_what_the_preview_counted_without_diffing_again(
        load, plan_of, store, monkeypatch):
    from monitor.store import writer

    load(FIRST)
    plan = plan_of(CORRECTED, name="upload_v2.csv")
    assert plan.read_at == (store.identity, store.data_version())
    diffs = []
    monkeypatch.setattr(writer, "diff_against_store", lambda *a: diffs.append(a) or pytest.fail("diffed again"))
    second = commit_plan(store, plan, by=Writer.internal("测试员"))
    assert diffs == []
    assert batches(store)[1] == (second, "upload_v2.csv", "upload", "测试员", 4, 1, 1, 2, "committed")
    assert [r[3:] for r in observations(store)] == [(600.0, "upload", 1), (615.0, "upload", second),
                                                   (13000.0, "upload", 1), (13100.0, "upload", second)]


def test_a_value_changed_in_the_plan_after_its_preview_is_diffed_again_and_written(load, plan_of, store):
    load(FIRST)
    plan = plan_of(CORRECTED, name="upload_v2.csv")  # 2024-05 unchanged at 600 in the preview
    plan.rows.loc[0, "value"] = 601.0
    second = commit_plan(store, plan, by=Writer.internal("测试员"))
    assert batches(store)[1] == (second, "upload_v2.csv", "upload", "测试员", 4, 1, 2, 1, "committed")
    assert [r[3] for r in observations(store)] == [601.0, 615.0, 13000.0, 13100.0]


def test_a_preview_committed_to_another_store_is_diffed_against_that_store(load, plan_of, store, migrated_store_file,
                                                                           tmp_path, backend):
    import shutil

    if backend == "postgresql":
        other = Store(tmp_path / "other.duckdb")
        other.migrate()
    else:
        shutil.copyfile(migrated_store_file, tmp_path / "other.duckdb")
        other = Store(tmp_path / "other.duckdb")
    load(FIRST)
    plan = plan_of(CORRECTED, name="upload_v2.csv")  # 1 new, 1 changed, 2 unchanged against ``store``
    commit_plan(other, plan_upload(other, plan_of.config, plan_of.regions,
                                   (HEADER + "晋城,有效发明专利拥有量,2024-06,700\n").encode(), "other.csv", today=TODAY))
    assert other.data_version() == store.data_version()  # the same version number, another store
    commit_plan(other, plan, by=Writer.internal("测试员"))
    assert other.query("SELECT rows_inserted, rows_updated, rows_unchanged FROM load_batches ORDER BY id"
                       ).values.tolist() == [[1, 0, 0], [3, 1, 0]]


def test_the_diff_of_rows_the_store_does_not_hold_says_new_for_each(plan_of):
    diff = plan_of(FIRST).diff
    assert diff["change"].tolist() == ["new"] * 3 and diff["old_value"].isna().all()
    assert list(diff.columns) == ["region_code", "indicator_id", "month", "value", "line", "column", "origin",
                                  "source_url", "note", "cumulative", "old_value", "old_origin", "change"]


@pytest.mark.parametrize(
    "cells",
    [["612", "0.5", "-0"], ["-0", "12"], ["1,234", "-0", "7"], ["99999999999999999999", "-1"], ["9007199254740993", "1.5"],
     ["１２３", "3.5亿元", "12%", "—", "六百", "1.5万件", "-0.0", "0012"], ["12.4268248997037", "1.23456789012345678"],
     ["", "--", "nan"], []],
)
def test_plain_numbers_read_by_pyarrow_are_what_pandas_reads_in_the_whole_column(cells):
    from etl.loader import _parse_cells, parse_values

    column = pd.Series(cells, dtype="str")
    fast, whole = parse_values(column), _parse_cells(column, has_fraction=False, whole=True)
    assert list(fast.columns) == list(whole.columns)
    assert np.array_equal(np.signbit(fast["value"]), np.signbit(whole["value"]))
    assert fast["value"].tolist() == pytest.approx(whole["value"].tolist(), nan_ok=True, rel=0, abs=0)
    for name in ("missing", "percent", "unit", "bad"):
        assert fast[name].tolist() == whole[name].tolist()


# --------------------------------------------------------------------------- numbers and dates that exist


@pytest.mark.parametrize("written", ["inf", "Infinity", "-inf", "1e309", "-1E400"])
def test_a_value_that_is_not_a_finite_number_is_an_error(plan_of, written):
    plan = plan_of(HEADER + f"晋城,有效发明专利拥有量,2024-06,{written}\n晋城,有效发明专利拥有量,2024-07,615\n")
    assert not plan.ok and staged(plan) == [("140500", "invention_patents", "2024-07", 615.0, 3)]
    [error] = plan.errors
    assert error.message == f"第 2 行「数值」列的「{written}」不是有限的数字；请填写实际数值，缺失请留空或填「—」"


def test_a_number_of_thirty_digits_is_an_error_not_a_rounded_figure(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-06,123456789012345678901234567890\n")
    [error] = plan.errors
    assert error.message.startswith("第 2 行「数值」列的「123456789012345678901234567890」有效数字超过 15 位")


def test_a_value_beyond_the_indicators_plausible_maximum_is_an_error(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-06,1e308\n"
                   "晋城,专利密集型产业增加值占GDP比重,2024-06,150\n晋城,专利密集型产业增加值占GDP比重,2024-07,15%\n")
    assert [(e.row, e.check) for e in plan.errors] == [(2, "range"), (3, "range")]
    assert plan.errors[0].message == ("第 2 行「有效发明专利拥有量」的数值 1e+308件超过合理上限 1,000,000,000件；"
                                      "请核对数值和单位（是否把元填成了亿元，或多填了几位数字）")
    assert plan.errors[1].message.endswith("超过合理上限 100%；百分比请填 0–100 之间的数（12.5 表示 12.5%）")
    assert staged(plan) == [("140500", "patent_intensive_share", "2024-07", 15.0, 4)]


def test_a_value_at_the_plausible_maximum_is_loaded(plan_of):
    plan = plan_of(HEADER + "晋城,专利密集型产业增加值占GDP比重,2024-06,100\n")
    assert plan.ok and staged(plan)[0][3] == 100.0


@pytest.mark.parametrize("written", ['"1,5"', '"1,2345"', '"12,34.5"', '"１，５"'])
def test_a_comma_that_is_not_a_thousands_separator_is_an_error_saying_how_to_write_it(plan_of, written):
    plan = plan_of(HEADER + f"晋城,有效发明专利拥有量,2024-06,{written}\n")
    [error] = plan.errors
    assert error.message == (f"第 2 行「数值」列的「{written.strip(chr(34))}」中的逗号不是千分位分隔符，无法确定数值；"
                             "小数请用小数点（如 1.5），千分位请每三位一个逗号（如 1,500）或不写逗号")


@pytest.mark.parametrize(("written", "month"), [("2025-02-30", "2025-02"), ("2025年2月30日", "2025-02"),
                                                ("2024/13/01", "2024-12")])
def test_a_date_that_does_not_exist_is_an_error(plan_of, written, month):
    plan = plan_of(HEADER + f"晋城,有效发明专利拥有量,{written},612\n")
    [error] = plan.errors
    assert error.message == f"第 2 行「期间」列：「{written}」不是存在的日期；期间只需写月份，例如 {month}"


def test_a_date_that_exists_is_taken_as_its_month(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,2024-02-29,612\n")
    assert plan.ok and staged(plan)[0][2] == "2024-02"


def test_a_year_out_of_range_is_said_to_be_the_year(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,1899-05,612\n")
    [error] = plan.errors
    assert error.message == "第 2 行「期间」列：「1899-05」不是有效月份（年份应在 1900–2200 之间）"


def test_a_year_of_five_digits_is_an_error_not_the_month_inside(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,12000-01,612\n")
    [error] = plan.errors
    assert error.message.startswith("第 2 行「期间」列：「12000-01」不是可识别的期间；期间请写作 2024-06（月份）")
    assert plan.rows.empty  # not 2000-01, the month inside it


def test_a_sign_before_the_year_is_an_error_not_the_month_inside(plan_of):
    plan = plan_of(HEADER + "晋城,有效发明专利拥有量,-2024-06,612\n")
    [error] = plan.errors
    assert error.message == "第 2 行「期间」列：「-2024-06」前面多了符号；期间请写作 YYYY-MM（例如 2025-01）"
