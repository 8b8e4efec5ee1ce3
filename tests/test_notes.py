"""Notes with values (monitor/store/notes.py): comments and the flag 跟踪核实 on a stored value,
kept as a history, scoped and audited; shown on 指标详情's table (with the reason a batch's
warnings were accepted), listed for reviewers, in the briefing and by ``python -m etl notes``."""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime

import pytest

from cli.main import main as cli
from etl.loader import commit_plan, plan_upload
from etl.preview import warnings_note
from monitor.accounts.users import allowed_regions
from monitor.context import open_context
from monitor.errors import NoteError, ScopeError
from monitor.output.briefing import build_context, render_html
from monitor.store import outbox
from monitor.store.notes import ValueKey, add_note, clear_flag, note_history, notes_by_value, open_flags
from monitor.store.writer import Writer
from monitor.views.detail import indicator_detail, observations_for_people, value_keys
from monitor.views.valuenotes import open_flags_table

KEY = ValueKey("140500", "invention_patents", "2024-06")
TODAY = date(2025, 1, 15)
HEADER = "地区,指标,期间,数值\n"


@pytest.fixture
def store(store, config, regions, population):
    """An empty store with the reference tables a note's key is checked against (as every door opens it)."""
    store.sync_reference(config, regions, population)
    return store


def test_a_comment_and_a_flag_are_kept_as_a_history_and_the_last_flag_decides(store, regions):
    clerk = Writer("jc-clerk", regions=allowed_regions(["140500"], regions))
    add_note(store, KEY, "与统计科口径不一致？", by=clerk, raise_flag=True, at=datetime(2025, 1, 16, 9, 0))
    add_note(store, KEY, "已去函核对", by=clerk, at=datetime(2025, 1, 17, 9, 0))
    assert open_flags(store)[["region_code", "month", "raised_by", "text"]].values.tolist() == [
        ["140500", "2024-06", "jc-clerk", "与统计科口径不一致？"]]
    clear_flag(store, KEY, "复核无误", by=Writer("jc-reviewer"), at=datetime(2025, 1, 18, 9, 0))

    assert open_flags(store).empty
    history = note_history(store)
    assert history[["text", "flag", "author"]].fillna("").values.tolist() == [
        ["与统计科口径不一致？", "raised", "jc-clerk"], ["已去函核对", "", "jc-clerk"],
        ["复核无误", "cleared", "jc-reviewer"]]
    summary = notes_by_value(store).iloc[0]
    assert summary["flag"] == "cleared"
    assert summary["comments"] == ("jc-clerk（2025-01-16）：与统计科口径不一致？；jc-clerk（2025-01-17）：已去函核对；"
                                   "jc-reviewer（2025-01-18）：复核无误")


def test_an_empty_comment_a_second_flag_or_clearing_no_flag_is_refused_with_a_reason(store):
    by = Writer("clerk")
    with pytest.raises(NoteError, match="备注不能为空"):
        add_note(store, KEY, "  ", by=by)
    with pytest.raises(NoteError, match="没有待解除的跟踪核实标记"):
        clear_flag(store, KEY, by=by)
    add_note(store, KEY, None, by=by, raise_flag=True)  # raising the flag needs no words
    with pytest.raises(NoteError, match="晋城市 · 有效发明专利拥有量 · 2024年6月 已在跟踪核实中"):
        add_note(store, KEY, "再标一次", by=by, raise_flag=True)
    with pytest.raises(NoteError, match="月份「2024-13」无法识别"):
        add_note(store, ValueKey("140500", "invention_patents", "2024-13"), "x", by=by)
    with pytest.raises(NoteError, match="没有这个数值"):
        add_note(store, ValueKey("140500", "no_such_indicator", "2024-06"), "x", by=by)
    assert len(note_history(store)) == 1


def test_a_note_outside_the_writers_regions_is_refused_and_nothing_is_written(store, regions):
    clerk = Writer("jc-clerk", regions=allowed_regions(["140500"], regions))
    with pytest.raises(ScopeError, match="140100"):
        add_note(store, ValueKey("140100", "invention_patents", "2024-06"), "太原的数", by=clerk)
    assert note_history(store).empty


def test_each_note_commits_its_audit_record_with_it(store):
    add_note(store, KEY, "核对", by=Writer("clerk", client="10.0.0.1", via="password"), raise_flag=True)
    clear_flag(store, KEY, by=Writer("reviewer"))
    staged = store.query("SELECT actor, action, target, detail FROM audit_outbox ORDER BY staged_at").fillna("")
    assert staged.values.tolist() == [
        ["clerk", "value_flag", "晋城市 · 有效发明专利拥有量 · 2024年6月", "核对"],
        ["reviewer", "value_flag_clear", "晋城市 · 有效发明专利拥有量 · 2024年6月", ""]]
    assert outbox.pending(store) == 2


def test_the_detail_table_shows_comments_the_flag_and_the_reason_warnings_were_accepted(store, config, regions,
                                                                                        population):
    first = plan_upload(store, config, regions, (HEADER + "晋城,有效发明专利拥有量,2024-05,600\n").encode(), "5.csv",
                        today=TODAY)
    commit_plan(store, first)
    jump = plan_upload(store, config, regions, (HEADER + "晋城,有效发明专利拥有量,2024-06,6000\n").encode(), "6.csv",
                       today=TODAY)
    assert jump.ok and jump.warnings  # a tenfold jump
    commit_plan(store, jump, accept_warnings=True, note=warnings_note(jump, "县局合并统计，已电话确认"))
    add_note(store, KEY, "请核对是否含外观设计", by=Writer("reviewer"), raise_flag=True, at=datetime(2025, 1, 16))

    ctx = open_context(store_path=store.url or store.path)
    table = observations_for_people(indicator_detail(ctx, "invention_patents", "140500", "2024-06").observations)
    assert table[["月份", "数值", "备注", "跟踪核实"]].values.tolist() == [
        ["2024-06", 6000.0, f"接受 {len(jump.warnings)} 条警告：县局合并统计，已电话确认；"
                            "reviewer（2025-01-16）：请核对是否含外观设计", "待核实"],
        ["2024-05", 600.0, "", ""]]
    detail = indicator_detail(ctx, "invention_patents", "140500", "2024-06")
    assert [label for label, _ in value_keys(detail.observations, "invention_patents", "140500")] == [
        "2024年6月", "2024年5月"]


def test_the_reviewers_list_keeps_to_their_regions_and_says_the_value_in_words(store, config, regions):
    plan = plan_upload(store, config, regions, (HEADER + "晋城,有效发明专利拥有量,2024-06,612\n"
                                                "太原,有效发明专利拥有量,2024-06,9000\n").encode(), "f.csv", today=TODAY)
    commit_plan(store, plan)
    add_note(store, KEY, "偏低？", by=Writer("clerk"), raise_flag=True, at=datetime(2025, 1, 16, 9, 30))
    add_note(store, ValueKey("140100", "invention_patents", "2024-06"), "偏高？", by=Writer("clerk"), raise_flag=True)
    ctx = open_context(store_path=store.url or store.path)
    jincheng = open_flags_table(ctx, allowed_regions(["140500"], regions))
    assert jincheng.values.tolist() == [
        ["晋城市", "有效发明专利拥有量", "2024年6月", "612 件", "clerk", "2025-01-16 09:30", "偏低？"]]
    assert len(open_flags_table(ctx)) == 2


def test_the_briefing_lists_the_values_still_flagged_in_its_region(copy_demo_store):
    ctx = open_context(store_path=copy_demo_store("notes_briefing"))
    add_note(ctx.store, ValueKey("140500", "invention_patents", "2025-12"), "年末数待统计局确认", by=Writer("clerk"),
             raise_flag=True)
    add_note(ctx.store, ValueKey("140100", "invention_patents", "2025-12"), "太原的不在晋城简报里", by=Writer("clerk"),
             raise_flag=True)
    variables, _, _ = build_context(ctx, "jincheng_2025", "140500", "2025-12", with_charts=False)
    html = render_html(variables)
    assert "跟踪核实中的数值" in html and "年末数待统计局确认" in html
    assert "太原的不在晋城简报里" not in html


def run(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(list(args))
    return code, out.getvalue() + err.getvalue()


def test_cli_adds_lists_and_clears_a_flag_in_words(copy_demo_store):
    db = str(copy_demo_store("notes_cli"))
    where = ["--region", "晋城市", "--indicator", "有效发明专利拥有量", "--month", "2025-12"]
    assert run("--db", db, "notes", "list") == (0, "没有跟踪核实中的数值\n")
    code, out = run("--db", db, "notes", "add", *where, "--text", "年末数待确认", "--flag", "--user", "zhang")
    assert code == 0 and "已备注并标记跟踪核实：晋城市 · 有效发明专利拥有量 · 2025年12月" in out
    code, out = run("--db", db, "notes", "add", *where, "--flag")
    assert code == 1 and "已在跟踪核实中" in out
    code, out = run("--db", db, "notes", "list", "--region", "山西省")
    assert code == 0 and "年末数待确认" in out and "zhang" in out and "140500" not in out
    code, out = run("--db", db, "notes", "clear", *where, "--text", "已确认")
    assert code == 0 and "已解除跟踪核实" in out
    assert run("--db", db, "notes", "list")[1] == "没有跟踪核实中的数值\n"
    code, out = run("--db", db, "notes", "list", "--history")
    assert code == 0 and "解除跟踪核实" in out and "已确认" in out
