"""Column mappings (etl/mappings.py): an unknown column mapped once, used for every later file of the
same layout; who a mapping applies to; every change audited; ``python -m etl mappings`` and
``load`` using them. Real files (CSV and xlsx written here), a real store and accounts file."""

from __future__ import annotations

import contextlib
import io

import openpyxl
import pytest

from cli.main import main
from etl.layout import to_raw
from etl.loader import commit_plan, plan_upload
from etl.mappings import EVERYONE, MappingStore, file_headers, layout_signature, mappings_frame
from etl.preview import check_table
from etl.readers import read_grid
from monitor.accounts.access import connect
from monitor.errors import MappingError, UnknownColumnsError

SEPTEMBER = "2026年9月晋城市知识产权主要指标\n地区,有效发明专利（件）,质押融资（万元）\n城区,120,8000\n泽州县,80,—\n"
# next month: another title, the columns in another order, other values
OCTOBER = "2026年10月晋城市知识产权主要指标（月报）\n地区,质押融资（万元）,有效发明专利（件）\n城区,12500,125\n泽州县,300,81\n"


def plan_of(store, config, regions, text: str, name: str = "晋城.csv", *, mappings=None, **options):
    return plan_upload(store, config, regions, text.encode("utf-8"), name, mappings=mappings, **options)


def values(plan) -> dict[tuple[str, str, str], float]:
    return {(r.region_code, r.indicator_id, r.month): r.value for r in plan.rows.itertuples()}


@pytest.fixture(params=("sqlite", "postgresql"))
def accounts_backend(request) -> str:
    return request.param


@pytest.fixture
def mappings(accounts_location) -> MappingStore:
    return MappingStore(accounts_location)


def headers_of(config, text: str) -> list[str]:
    return file_headers(text.encode("utf-8"), "样例.csv", config)


# --------------------------------------------------------------------------- the layout


def test_a_layout_is_the_set_of_headers_whatever_their_order_spacing_or_the_title_but_not_their_unit():
    a = layout_signature(["地区", "有效发明专利（件）", "质押融资（万元）"])
    assert a == layout_signature(["质押融资 (万元)", "", "地区", "有效发明专利（件）"])
    assert a != layout_signature(["地区", "有效发明专利（件）", "质押融资（元）"])
    assert a != layout_signature(["地区", "有效发明专利（件）", "质押融资（万元）", "备注"])


# --------------------------------------------------------------------------- mapped once, used next month


def test_an_unknown_column_is_a_warning_until_mapped_then_loads_in_the_unit_said(store, config, regions, mappings):
    plan = plan_of(store, config, regions, SEPTEMBER)
    assert plan.layout.unknown_columns == ["质押融资（万元）"]
    assert [p.check for p in plan.warnings] == ["columns"]
    assert ("140502", "pledge_amount", "2026-09") not in values(plan)

    saved = mappings.save(config, plan.layout.headers, "质押融资（万元）", "知识产权质押融资金额", owner="clerk",
                          actor="clerk")
    assert (saved.indicator_id, saved.unit, saved.owner) == ("pledge_amount", "万元", "clerk")  # the header's unit
    plan = plan_of(store, config, regions, SEPTEMBER, mappings=mappings.for_user("clerk"))
    assert plan.ok and plan.warnings == [] and plan.layout.unknown_columns == []
    assert values(plan)[("140502", "pledge_amount", "2026-09")] == pytest.approx(0.8)  # 8000 万元 = 0.8 亿元
    [note] = [p for p in plan.problems if p.check == "columns"]
    assert (note.severity, note.message) == (
        "info", "按已保存的列对应关系：「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）")
    commit_plan(store, plan)

    # next month: another title, the columns moved; nothing is asked
    plan = plan_of(store, config, regions, OCTOBER, "晋城10月.csv", mappings=mappings.for_user("clerk"))
    assert plan.ok and plan.warnings == []
    assert values(plan)[("140502", "pledge_amount", "2026-10")] == pytest.approx(1.25)
    assert values(plan)[("140525", "pledge_amount", "2026-10")] == pytest.approx(0.03)


def test_the_check_table_shows_the_value_as_typed_and_converted_with_units(store, config, regions, mappings):
    text = "2026年9月晋城市\n地区,质押融资（万元）\n城区,8000\n泽州县,1e400\n"
    headers = headers_of(config, text)
    mappings.save(config, headers, "质押融资（万元）", "pledge_amount", actor="admin")
    table = check_table(plan_of(store, config, regions, text, mappings=mappings.for_user(None)))
    assert table.columns.tolist() == ["行", "列", "检查", "原值", "换算后", "说明", "级别"]
    rows = {r["行"]: r for r in table.to_dict("records")}
    assert (rows[4]["原值"], rows[4]["换算后"]) == ("1e400", "")  # not finite: an error, nothing converted
    plan = plan_of(store, config, regions, "2026年9月晋城市\n地区,质押融资（万元）\n泽州县,8000\n泽州县,9000\n",
                   mappings=mappings.for_user(None))
    duplicates = check_table(plan)
    assert duplicates[duplicates["行"] == 3][["原值", "换算后"]].values.tolist() == [["8000 万元", "0.8 亿元"]]


def test_a_mapping_holds_for_a_sheet_of_any_name(store, config, regions, mappings, tmp_path):
    mappings.save(config, headers_of(config, SEPTEMBER), "质押融资（万元）", "pledge_amount", actor="admin")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "10月"
    for row in (["2026年10月晋城市"], ["地区", "有效发明专利（件）", "质押融资（万元）"], ["泽州县", 125, 4000]):
        sheet.append(row)
    book.save(tmp_path / "10月.xlsx")
    plan = plan_upload(store, config, regions, (tmp_path / "10月.xlsx").read_bytes(), "10月.xlsx",
                       mappings=mappings.for_user("anyone"))
    assert values(plan)[("140525", "pledge_amount", "2026-10")] == pytest.approx(0.4)


def test_a_file_with_a_column_more_is_another_layout_and_asks_again(store, config, regions, mappings):
    mappings.save(config, headers_of(config, SEPTEMBER), "质押融资（万元）", "pledge_amount", actor="admin")
    wider = SEPTEMBER.replace("质押融资（万元）\n", "质押融资（万元）,专利授权量\n").replace("8000\n", "8000,5\n")
    plan = plan_of(store, config, regions, wider, mappings=mappings.for_user(None))
    assert plan.layout.unknown_columns == ["质押融资（万元）"]


def test_an_uploaders_mapping_applies_to_their_own_uploads_and_wins_over_everyones(store, config, regions, mappings):
    headers = headers_of(config, SEPTEMBER)
    mappings.save(config, headers, "质押融资（万元）", "pledge_amount", actor="admin")  # everyone's
    mappings.save(config, headers, "质押融资（万元）", "pledge_amount", "元", owner="clerk", actor="clerk")
    for user, expected in (("clerk", 8000 / 1e8), ("other", 0.8), (None, 0.8)):
        plan = plan_of(store, config, regions, SEPTEMBER, mappings=mappings.for_user(user))
        assert values(plan)[("140502", "pledge_amount", "2026-09")] == pytest.approx(expected), user
    mine = mappings.list(owner="clerk")
    assert [(m.owner, m.unit) for m in mine] == [("clerk", "元")]
    assert [m.owner for m in mappings.list(owner=EVERYONE)] == [""]


def test_a_header_with_no_known_indicator_column_offers_its_columns_and_loads_once_they_are_mapped(
        store, config, regions, mappings):
    text = "2026年9月晋城市\n地区,专利质押笔数,质押融资（万元）\n泽州县,3,8000\n"
    with pytest.raises(UnknownColumnsError) as caught:
        plan_of(store, config, regions, text)
    assert (caught.value.header_row, caught.value.headers) == (2, ["地区", "专利质押笔数", "质押融资（万元）"])
    assert caught.value.unknown == ["专利质押笔数", "质押融资（万元）"]
    assert str(caught.value).startswith("晋城.csv 中找不到表头：需要「地区」列")
    assert "第 2 行的列「专利质押笔数」、「质押融资（万元）」不是已知指标；如果是指标，可在数据导入页面把这些列对应到指标" \
        in str(caught.value)
    mappings.save(config, caught.value.headers, "专利质押笔数", "质押融资项目数", actor="admin")
    plan = plan_of(store, config, regions, text, mappings=mappings.for_user(None))
    assert values(plan) == {("140525", "pledge_projects", "2026-09"): 3.0}
    assert plan.layout.unknown_columns == ["质押融资（万元）"]  # still a warning: mapped one by one


def test_a_column_mapped_as_not_an_indicator_is_skipped_without_a_warning(store, config, regions, mappings):
    mappings.save(config, headers_of(config, SEPTEMBER), "质押融资（万元）", None, actor="admin")
    plan = plan_of(store, config, regions, SEPTEMBER, mappings=mappings.for_user(None))
    assert plan.warnings == [] and plan.layout.unknown_columns == []
    assert {k[1] for k in values(plan)} == {"invention_patents"}
    assert [p.message for p in plan.problems if p.check == "columns"] == [
        "按已保存的列对应关系：「质押融资（万元）」不是指标（不导入）"]


def test_a_mapping_is_refused_with_what_to_fix(config, mappings):
    headers = ["地区", "质押融资（万元）"]
    cases = [
        ("专利质押", "pledge_amount", None, "列「专利质押」不在表头（地区、质押融资（万元））中"),
        ("质押融资（万元）", "质押贷款", None, "「质押贷款」不是已知指标；请用 indicators.yaml 中的指标代码、名称或别名"),
        ("质押融资（万元）", "pledge_amount", "件",
         "单位「件」无法换算为「知识产权质押融资金额」的单位「亿元」；可用单位：元、千元、万元、百万元、亿元"),
    ]
    derived = next(i for i in config.indicators if i.kind == "derived")
    cases.append(("质押融资（万元）", derived.id, None,
                  f"「{derived.name}」是派生指标（由其他指标计算），不能从文件导入；请选择它的分项指标"))
    for label, indicator, unit, message in cases:
        with pytest.raises(MappingError) as caught:
            mappings.save(config, headers, label, indicator, unit, actor="admin")
        assert str(caught.value) == message
    assert mappings.list() == [] and mappings.audit.query().empty  # nothing saved, nothing audited


def test_every_change_is_audited_with_what_it_was_and_became(config, mappings):
    headers = ["地区", "质押融资（万元）"]
    first = mappings.save(config, headers, "质押融资（万元）", "pledge_amount", owner="clerk", actor="clerk",
                          client="10.0.0.7", via="password")
    again = mappings.save(config, headers, "质押融资 (万元)", "pledge_amount", "元", owner="clerk", actor="clerk")
    assert again.id == first.id and again.unit == "元" and len(mappings.list()) == 1
    widened = mappings.update(config, first.id, indicator="pledge_amount", unit="万元", owner=EVERYONE, actor="admin")
    assert (widened.owner, widened.unit, widened.created_by, widened.updated_by) == ("", "万元", "clerk", "admin")
    mappings.remove(config, first.id, actor="admin")
    assert mappings.list() == []
    trail = mappings.audit.query().iloc[::-1]
    assert trail[["action", "actor", "target"]].values.tolist() == [
        ["mapping_add", "clerk", "列对应关系 1"], ["mapping_edit", "clerk", "列对应关系 1"],
        ["mapping_edit", "admin", "列对应关系 1"], ["mapping_remove", "admin", "列对应关系 1"]]
    assert trail["client"].tolist()[0] == "10.0.0.7"
    assert trail["detail"].tolist() == [
        "「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）；仅用于 clerk 的上传；表头 地区、质押融资（万元）",
        "原为 「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）（仅用于 clerk 的上传），"
        "改为 「质押融资（万元）」→ 指标「知识产权质押融资金额」（元）；仅用于 clerk 的上传",
        "原为 「质押融资（万元）」→ 指标「知识产权质押融资金额」（元）（仅用于 clerk 的上传），"
        "改为 「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）；适用于所有人的上传",
        "「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）；适用于所有人的上传；表头 地区、质押融资（万元）"]
    with pytest.raises(MappingError, match="没有编号为 1 的列对应关系"):
        mappings.remove(config, 1, actor="admin")


def test_widening_a_mapping_onto_an_existing_one_is_refused(config, mappings):
    headers = ["地区", "质押融资（万元）"]
    mappings.save(config, headers, "质押融资（万元）", "pledge_amount", actor="admin")
    mine = mappings.save(config, headers, "质押融资（万元）", "pledge_amount", "元", owner="clerk", actor="clerk")
    with pytest.raises(MappingError, match="该列已有适用于所有人的上传的对应关系（编号 1）"):
        mappings.update(config, mine.id, indicator="pledge_amount", owner=EVERYONE, actor="admin")


def test_a_mapping_to_an_indicator_no_longer_configured_is_shown_as_such_and_not_used(store, config, regions, mappings):
    mappings.save(config, headers_of(config, SEPTEMBER), "质押融资（万元）", "pledge_amount", actor="admin")
    with connect(mappings.path) as con:
        con.execute("UPDATE column_mappings SET indicator_id = 'pledge_amount_old'")
    assert mappings_frame(mappings.list(), config)["指标"].tolist() == [
        "pledge_amount_old（配置中已没有此指标，该对应关系不再使用）"]
    plan = plan_of(store, config, regions, SEPTEMBER, mappings=mappings.for_user(None))
    assert plan.layout.unknown_columns == ["质押融资（万元）"]


def test_the_wide_reader_without_mappings_is_unchanged(config):
    raw, layout, _ = to_raw(read_grid(SEPTEMBER.encode(), "x.csv"), config)
    assert layout.mapped_columns == {} and set(raw["indicator"]) == {"invention_patents"}


# --------------------------------------------------------------------------- the command line


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_mappings_cli_adds_lists_and_removes_and_load_uses_them(tmp_path, accounts, monkeypatch):
    db = str(tmp_path / "x.duckdb")
    sample = tmp_path / "9月.csv"
    sample.write_text(SEPTEMBER, encoding="utf-8")
    october = tmp_path / "10月.csv"
    october.write_text(OCTOBER, encoding="utf-8")
    monkeypatch.setattr("monitor.accounts.audit.cli_actor", lambda: "cli:ops")
    monkeypatch.setattr("cli.mappings.cli_actor", lambda: "cli:ops")

    code, out, err = run("mappings", "list")
    assert (code, out) == (0, "还没有列对应关系\n")
    code, out, err = run("mappings", "add", str(sample), "--column", "质押融资（万元）", "--indicator", "质押融资金额")
    assert (code, err) == (0, "")
    assert out == "已保存列对应关系 1：「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）；适用于所有人的上传\n"
    code, out, err = run("mappings", "add", str(sample), "--column", "质押", "--indicator", "pledge_amount")
    assert code == 1 and err == "错误：列「质押」不在表头（地区、有效发明专利（件）、质押融资（万元））中\n"
    code, _, err = run("mappings", "add", str(sample), "--column", "质押融资（万元）", "--skip", "--owner", "nobody")
    assert code == 1 and "没有账户「nobody」" in err
    code, out, _ = run("mappings", "list")
    assert code == 0 and out.splitlines()[1].split()[:6] == ["1", "所有人", "质押融资（万元）", "知识产权质押融资金额", "万元",
                                                          "地区、有效发明专利（件）、质押融资（万元）"]

    code, out, err = run("--db", db, "load", str(october))
    assert code == 0, err
    assert "按已保存的列对应关系：「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）" in out
    assert "有效值 4 个" in out

    code, out, _ = run("mappings", "remove", "1")
    assert (code, out) == (0, "已删除列对应关系 1：「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）\n")
    code, out, _ = run("--db", db, "load", str(october))
    assert "有效值 2 个" in out and "不是已知指标" in out
    trail = accounts.audit.query(actions=["mapping_add", "mapping_remove"])
    assert trail[["action", "actor", "client", "via"]].values.tolist() == [
        ["mapping_remove", "cli:ops", "cli", "cli"], ["mapping_add", "cli:ops", "cli", "cli"]]
