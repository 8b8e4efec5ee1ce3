"""Every page of the dashboard through streamlit.testing.v1.AppTest, against the demo store.

The app is started from dashboard.py, as `streamlit run` starts it, and pages are switched the way
the navigation does. Assertions are on what a person sees: titles, target cards (name, status
badge, explanation), tables, charts and messages, in Chinese.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DEMO_END, TEST_PASSWORD
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from etl.loader import commit_plan, plan_upload
from monitor.domain import clock
from monitor.domain.config import MilestoneTarget
from monitor.domain.periods import last_full_month
from monitor.evaluation import Status
from monitor.store.database import Store
from monitor.store.milestones import TaskStatus, read_updates
from monitor.store.readings import read_readings

ROOT = Path(__file__).parent.parent
STATUSES = {s.value for s in Status}
TASK_STATUSES = [s.value for s in TaskStatus]

JINCHENG_INDICATORS = ["有效发明专利拥有量", "每万人口发明专利拥有量", "有效注册商标量", "地理标志商标", "地理标志保护产品",
                       "农产品地理标志登记", "作品著作权登记量"]
JINCHENG_TASKS = 18  # the 17 重点工作 of section 四 and its “贯标”全覆盖
SHANXI_CITIES = {"太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市", "忻州市", "临汾市", "吕梁市"}


@dataclass(frozen=True)
class TargetCard:
    """One bordered card of the 总览 page, as read off the screen."""

    name: str
    status: str
    target: str
    explanation: str
    metrics: dict[str, str]
    captions: list[str]


def target_cards(at: AppTest) -> list[TargetCard]:
    cards = []
    for node in at.main.children.values():
        # a bordered container; an expander's proto has no flex_container at all
        if not (isinstance(node, Block) and getattr(getattr(node.proto, "flex_container", None), "border", False)):
            continue
        heading = re.fullmatch(r"\*\*(.+)\*\*\u3000<span [^>]*>(.+)</span>", node.markdown[0].value)
        assert heading, f"card heading not understood: {node.markdown[0].value}"
        captions = [c.value for c in node.caption]
        cards.append(TargetCard(name=heading[1], status=heading[2], target=captions[0],
                                explanation=node.markdown[1].value,
                                metrics={m.label: m.value for m in node.metric}, captions=captions))
    return cards


def current_values(at: AppTest) -> dict[str, str]:
    return {card.name: card.metrics.get("当前值") for card in target_cards(at)}


def shown(at: AppTest) -> AppTest:
    """The app after a run, insisting that the page raised nothing."""
    assert not at.exception, "\n".join(e.message + "\n" + "\n".join(e.stack_trace) for e in at.exception)
    return at


def on_page(at: AppTest, page: str) -> AppTest:
    return shown(at.switch_page(f"pages/{page}.py").run())


def widget(elements, label: str):
    """The widget among ``elements`` (e.g. at.text_input) with this label."""
    found = [w for w in elements if w.label == label]
    assert len(found) == 1, f"expected one widget labelled {label!r}, found {[w.label for w in elements]}"
    return found[0]


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def check_table_shown(at: AppTest):
    """数据导入's check table (the first table) as read: its messages' spaces are no-break spaces on
    the page, so the table wraps them where a line is full (pages/_upload_form.py)."""
    table = at.dataframe[0].value
    return table.assign(说明=table["说明"].str.replace("\u00a0", " "))


def status_counts(at: AppTest) -> dict[str, int]:
    """The summary above the cards: how many targets have each status and tasks each task status
    (the pills 「已达成 3」, 「未报告 18」)."""
    import re

    summary = next(m.value for m in at.markdown if m.value.startswith("**目标 ") or m.value.startswith("**任务 "))
    return {label: int(n) for label, n in re.findall(r">(\S+) (\d+)</span>", summary)}


def new_app() -> AppTest:
    return shown(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run())


def log_in(at: AppTest, username: str, password: str = TEST_PASSWORD) -> AppTest:
    """Log in through the 登录 page's form, as a person does."""
    on_page(at, "login")
    widget(at.text_input, "用户名").input(username)
    widget(at.text_input, "密码").input(password)
    return shown(widget(at.button, "登录").click().run())


@pytest.fixture
def app(dashboard_store, fresh_streamlit_caches) -> AppTest:
    """The dashboard as first opened: 总览 of 晋城市 (jincheng_2025), data as of 2026-10."""
    return new_app()


@pytest.fixture
def writable_app(copy_demo_store, fresh_streamlit_caches, monkeypatch) -> tuple[AppTest, Store]:
    """The dashboard on a private copy of the demo store, for tests that record something."""
    path = copy_demo_store("writable_store")
    monkeypatch.setenv("IPMON_DB", str(path))
    return new_app(), Store(path)


# --------------------------------------------------------------------------- 总览


def test_overview_of_jincheng_shows_its_seven_targets_with_status_and_explanation(app):
    assert texts(app.title) == ["晋城市 · 晋城市知识产权强市建设（2025年目标）", "知识产权指标监测"]
    assert "数据截至2026年10月" in app.caption[0].value
    assert app.caption[0].value.startswith("《晋城市全面推进知识产权强市建设行动方案》（晋市政办〔2020〕47号，晋城市人民政府办公室，2020年9月14日）")
    all_cards = target_cards(app)
    assert len(all_cards) == 7 + JINCHENG_TASKS
    cards = all_cards[:7]
    assert [c.name for c in cards] == JINCHENG_INDICATORS
    for card in cards:
        assert card.status in STATUSES, card
        # Evaluated after the 2025 deadline: each says what was reached at the deadline.
        if card.name == "作品著作权登记量":  # a flow: 60 registrations in 2025, its 1—12月 total
            assert card.target == "目标：2025年全年（1—12月）合计达到 60件", card
            assert card.explanation.startswith("2025年1—12月累计"), card
            assert "2025年12月（最新数据为2026年10月） · 2025年全年合计（1—12月）" in card.captions, card
        else:
            assert card.target.startswith("目标：达到 "), card
            assert card.explanation.startswith("2025年12月"), card
            # 当前值 is the deadline's value: its month is named, and so is the latest
            assert "2025年12月（最新数据为2026年10月）" in card.captions, card
        assert "目标" in card.explanation, card
        assert card.metrics["当前值"] != "无数据", card
    assert sum(status_counts(app).values()) == 7 + JINCHENG_TASKS
    assert any("示例数据" in w and "虚构" in w for w in texts(app.warning))
    # Each card names its document and quotes its clause; a disputed reading says so.
    for card in all_cards:
        assert "出处：《晋城市全面推进知识产权强市建设行动方案》（晋市政办〔2020〕47号" in " ".join(card.captions), card
        assert any(c.startswith("原文：「") for c in card.captions), card
    copyright_card = all_cards[6]
    assert any(c.startswith("解读：按年度登记量理解") and "另一读法：原文未说明是否为年度量" in c and "管理员可切换" in c
               for c in copyright_card.captions)
    assert not app.radio  # only an administrator may switch a reading


def test_overview_of_shaanxi_2022_shows_every_target_of_the_document(app, config):
    shown(app.selectbox(key="target_set").set_value("shaanxi_2022").run())
    tset = config.target_set("shaanxi_2022")
    expected = [t.title if isinstance(t, MilestoneTarget) else config.indicator(t.indicator).name for t in tset.targets]
    assert len(expected) == 30  # 12 targets and 18 tasks
    assert app.title[0].value == "陕西省 · 陕西省知识产权高质量发展（2022年度目标）"
    assert app.selectbox(key="region").value == "610000"  # the region follows the document
    cards = target_cards(app)
    assert [c.name for c in cards] == expected
    # targets in the target vocabulary, tasks in the task vocabulary (one vocabulary on every page)
    assert all(c.status in STATUSES and c.explanation for c in cards[:12])
    assert all(c.status in TASK_STATUSES and c.explanation for c in cards[12:])
    assert [c.explanation for c in cards if c.name.startswith("书面报送")] == ["任务状态：已完成（2022-12-15：示例：已书面报送）"]
    for card, target in zip(cards, tset.targets):
        assert f"原文：「{target.clause}」" in card.captions, card


def test_an_administrator_switches_a_disputed_reading_and_the_page_evaluates_it(writable_app, accounts):
    app, store = writable_app
    log_in(app, "admin")
    on_page(app, "overview")
    shown(app.selectbox(key="target_set").set_value("shaanxi_2022").run())
    gi = next(c for c in target_cards(app) if c.name == "地理标志总数")
    assert any("当前按登记的读法评估" in c for c in gi.captions)
    shown(app.radio(key="reading_sn22_new_gi").set_value("alternative").run())
    shown(widget(app.button, "保存读法").click().run())
    assert read_readings(store) == {"sn22_new_gi": "alternative"}
    names = [c.name for c in target_cards(app)]
    assert "地理标志商标和保护产品" in names and "地理标志总数" not in names
    gi = next(c for c in target_cards(app) if c.name == "地理标志商标和保护产品")
    assert any("当前按另一读法评估（管理员选择）" in c for c in gi.captions)


def test_an_earlier_as_of_month_changes_the_numbers_and_explanations(app):
    late_values, late_counts = current_values(app), status_counts(app)
    shown(app.select_slider(key="as_of").set_value("2024-06").run())
    assert "数据截至2024年6月" in app.caption[0].value
    early = target_cards(app)[:7]
    assert [c.name for c in early] == JINCHENG_INDICATORS
    # before 2025 the copyright target reads the latest complete year's total (2023)
    assert all(c.explanation.startswith("2023年全年合计" if c.name == "作品著作权登记量" else "截至2024年6月")
               for c in early), [c.explanation for c in early]
    early_values = current_values(app)
    for name in ("有效发明专利拥有量", "有效注册商标量", "作品著作权登记量"):
        assert early_values[name] != late_values[name], name
    assert status_counts(app) != late_counts


def test_another_city_changes_the_numbers_and_explains_the_per_capita_targets(app):
    jincheng_values = current_values(app)
    shown(app.selectbox(key="region").set_value("140100").run())
    assert app.title[0].value == "太原市 · 晋城市知识产权强市建设（2025年目标）"
    assert any("绝对数量目标按人口比例折算，仅作参考" in i for i in texts(app.info))
    cards = {c.name: c for c in target_cards(app)[:7]}
    assert list(cards) == JINCHENG_INDICATORS
    # 700 件 for 晋城市 is a reference for 太原市: 700 × 5,304,061 / 2,194,545 (2020 census) = 1,691.85,
    # in whole patents 1692, marked as a reference with a status of its own
    invention = cards["有效发明专利拥有量"]
    assert invention.target == "目标：达到 1692件（2025年底）\u3000· 参考（按人口折算）：人口为目标地区的 2.417 倍"
    assert invention.status.endswith("（参考）")
    per_10k = cards["每万人口发明专利拥有量"]
    assert per_10k.target.endswith("目标为相对值，按原文直接适用")
    assert any(re.fullmatch(r"人口取 \d{4} 年常住人口", c) for c in per_10k.captions)
    taiyuan_values = current_values(app)
    for name in ("有效发明专利拥有量", "每万人口发明专利拥有量", "有效注册商标量"):
        assert taiyuan_values[name] != jincheng_values[name], name


def test_a_link_opens_the_dashboard_on_the_view_it_names(dashboard_store, fresh_streamlit_caches):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params.update({"target_set": "shaanxi_2022", "region": "610100", "as_of": "2022-06"})
    shown(at.run())
    assert app_title(at) == "西安市 · 陕西省知识产权高质量发展（2022年度目标）"
    assert "数据截至2022年6月" in at.caption[0].value
    shown(at.selectbox(key="region").set_value("610000").run())  # the session's own choice wins after
    assert app_title(at).startswith("陕西省 · ")
    unknown = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    unknown.query_params.update({"target_set": "no_such_set", "region": "999999"})
    assert app_title(shown(unknown.run())) == "晋城市 · 晋城市知识产权强市建设（2025年目标）"  # the defaults


def app_title(at: AppTest) -> str:
    return at.title[0].value


def test_sidebar_choices_carry_over_to_another_page(app):
    shown(app.selectbox(key="region").set_value("140100").run())
    shown(app.select_slider(key="as_of").set_value("2024-06").run())
    on_page(app, "indicator")
    assert app.title[0].value == "太原市 · 指标详情"
    assert (app.selectbox(key="region").value, app.select_slider(key="as_of").value) == ("140100", "2024-06")
    title = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert title.startswith("太原市 · 有效发明专利拥有量") and "数据截至2024年6月" in title


# --------------------------------------------------------------------------- 指标详情


def test_detail_page_draws_the_indicator_against_its_target(app):
    on_page(app, "indicator")
    assert app.title[0].value == "晋城市 · 指标详情"
    assert app.selectbox(key="detail_choice").value == ("target", "jc_invention_patents")
    charts = app.get("plotly_chart")
    assert len(charts) == 1
    figure = json.loads(charts[0].proto.spec)
    assert figure["layout"]["title"]["text"].startswith("晋城市 · 有效发明专利拥有量")
    traces = {t.get("name"): t for t in figure["data"]}
    assert traces["目标"]["y"] == [700] and traces["目标"]["x"] == ["2025-12"]
    assert len(traces["有效发明专利拥有量"]["x"]) > 60  # months since the demo's start, drawn as a line
    assert traces["有效发明专利拥有量"]["x"][-1] == "2026-10"
    observations = app.dataframe[0].value
    assert list(observations.columns[:3]) == ["月份", "数值", "类型"]
    assert observations["月份"].iloc[0] == "2026-10"
    # a missing link, note or flag is an empty cell: the grid draws a null as the word None
    assert observations[["来源", "原文链接", "备注", "跟踪核实"]].notna().all().all()
    assert any("示例数据" in w for w in texts(app.warning))


# --------------------------------------------------------------------------- 地区对比


def test_compare_page_ranks_the_eleven_cities_of_shanxi(app):
    on_page(app, "compare")
    assert app.title[0].value == "山西省各市 · 有效发明专利拥有量"
    table = app.dataframe[0].value
    ranked = table[table["排名"].notna()]
    assert set(ranked["地区"]) == SHANXI_CITIES and len(ranked) == 11
    assert ranked["排名"].tolist() == list(range(1, 12))
    assert ranked["当前值"].is_monotonic_decreasing
    assert table[table["排名"].isna()]["当前值"].isna().all()  # a zone without data is listed unranked
    jincheng = ranked[ranked["地区"] == "晋城市"].iloc[0]
    assert jincheng["目标"] == 700 and jincheng["状态"] in STATUSES
    ranking_chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert set(ranking_chart["data"][0]["y"]) == SHANXI_CITIES


# --------------------------------------------------------------------------- 任务进度


def tasks_of(app: AppTest, set_id: str) -> None:
    """On 任务进度, show the tasks of another document than the sidebar's."""
    on_page(app, "tasks")
    shown(app.selectbox(key="tasks_set").set_value(set_id).run())


def test_tasks_page_shows_the_tasks_of_the_sidebar_document_first(app):
    on_page(app, "tasks")
    assert app.title[0].value == "任务进度 · 晋城市知识产权强市建设（2025年目标）"
    table = app.dataframe[0].value
    assert len(table) == JINCHENG_TASKS
    assert set(table["完成时限"]) == {"持续推进"}  # the plan gives its tasks no deadline
    assert table["条文"].str.startswith("原文：「").all()


def test_tasks_page_lists_the_eighteen_tasks_of_the_shanxi_work_plan(app, config):
    tasks_of(app, "shanxi_tasks_2022_2023")
    assert app.title[0].value == "任务进度 · 山西省共建知识产权强省工作要点（2022—2023年）"
    table = app.dataframe[0].value
    tasks = config.target_set("shanxi_tasks_2022_2023").targets
    assert table["序号"].tolist() == list(range(1, 19))
    assert table["任务"].tolist() == [t.title for t in tasks]
    assert all(s.split("（")[0] in TASK_STATUSES for s in table["状态"])
    by_number = table.set_index("序号")
    assert by_number.loc[2, "状态"] == "已完成"  # done 2022-12-16, deadline 2022-12-31
    assert by_number.loc[2, "最近进展"] == "2022-12-16：示例：万柏林区、盐湖区入选强县建设试点"
    assert by_number.loc[11, ["状态", "完成时限", "最近进展"]].tolist() == ["未报告", "持续推进", "—"]  # issued, no report yet
    assert by_number.loc[18, "状态"] == "逾期"  # in progress since 2023-04-20, deadline 2023-12-31
    assert sum(int(m.value) for m in app.metric) == 18


def test_a_task_update_needs_a_note_and_then_shows_in_the_table(writable_app, accounts):
    app, store = writable_app
    log_in(app, "admin")
    tasks_of(app, "shanxi_tasks_2022_2023")
    before = len(read_updates(store))

    def submit(note: str) -> None:
        widget(app.selectbox, "任务").set_value("sxt_11")
        widget(app.radio, "状态").set_value("in_progress")
        widget(app.date_input, "生效日期").set_value(date(2026, 10, 15))
        widget(app.text_input, "进展说明").input(note)
        shown(widget(app.button, "保存").click().run())

    submit("   ")
    assert texts(app.error) == ["请填写进度说明（例如完成了什么、依据哪份文件）"]
    assert len(read_updates(store)) == before

    submit("已向国家局报送示范区申报材料")
    assert not app.error
    assert texts(app.success) == ["已保存：争创国家地理标志产品保护示范区 → 进行中（2026-10-15）。"]
    updates = read_updates(store)
    assert len(updates) == before + 1
    recorded = updates.iloc[-1]
    assert (recorded["target_id"], recorded["status"], recorded["note"], recorded["recorded_by"]) == (
        "sxt_11", "in_progress", "已向国家局报送示范区申报材料", "admin")  # the logged-in account
    row = app.dataframe[0].value.set_index("序号").loc[11]
    assert (row["状态"], row["最近进展"]) == ("进行中", "2026-10-15：已向国家局报送示范区申报材料")


def test_a_task_update_dated_after_the_as_of_month_says_when_it_will_count(writable_app, accounts):
    app, store = writable_app
    log_in(app, "admin")
    tasks_of(app, "shanxi_tasks_2022_2023")
    today = clock.today()  # the form's default date; the as-of month is the demo's last month
    widget(app.text_input, "进展说明").input("示范区申报材料已报送")
    shown(widget(app.button, "保存").click().run())
    assert texts(app.success) == [
        f"已保存：强化知识产权顶层设计与区域协同，高标准建设知识产权强省 → 未启动（{today:%Y-%m-%d}）。"
        f"表中状态截至2026年10月底，这条进展自{today.year}年{today.month}月起计入。"
    ]
    assert read_updates(store)["note"].iloc[-1] == "示范区申报材料已报送"


# --------------------------------------------------------------------------- 数据导入 / 导入记录 / 报送情况


def demo_value(store: Store, region: str, indicator: str, month: str = "2026-10") -> float:
    return float(store.query("SELECT value FROM observations WHERE region_code = ? AND indicator_id = ? AND month = ?",
                             [region, indicator, month])["value"].iloc[0])


def wide_gbk_file(taiyuan: float, jincheng: float, region: str = "晋城") -> bytes:
    """A wide GBK CSV as a city office exports it: title row, short names, a 合计 row."""
    total = taiyuan + jincheng
    return (f"2026年10月山西省知识产权主要指标,\n地区,有效发明专利（件）\n太原,{taiyuan:.0f}\n{region},{jincheng:.0f}\n"
            f"合计,{total:.0f}\n").encode("gbk")


def test_upload_page_previews_a_gbk_wide_file_then_commits_it_and_history_rolls_it_back(writable_app, accounts,
                                                                                        monkeypatch):
    # the demo's 2026年10月 closes on 2026-12-15 (docs/decisions.md D17); this walk is an upload and
    # its rollback, not a correction, so it runs on a day that month is open, whatever the calendar
    monkeypatch.setenv("IPMON_TODAY", "2026-11-25")
    app, store = writable_app
    log_in(app, "clerk")
    taiyuan, jincheng = demo_value(store, "140100", "invention_patents"), demo_value(store, "140500", "invention_patents")
    on_page(app, "upload")
    assert app.title[0].value == "数据导入"
    app.file_uploader[0].upload("10月.csv", wide_gbk_file(taiyuan + 3, jincheng + 2), "text/csv")
    shown(app.run())
    assert "GBK/GB18030" in app.caption[1].value and "宽表" in app.caption[1].value
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"有效值": "2", "新增": "0", "修改": "2", "未变": "0", "错误": "0", "警告": "0"}
    changed = app.dataframe[1].value
    assert changed[["地区", "原值", "新值"]].values.tolist() == [["太原市", taiyuan, taiyuan + 3],
                                                             ["晋城市", jincheng, jincheng + 2]]
    shown(widget(app.button, "确认导入（新增 0，修改 2）").click().run())
    # one message; the uploader emptied; no second preview, no second upload row in the trail
    assert texts(app.success) == ["已导入 10月.csv：批次 3，新增 0，修改 2。各页面已显示新数据；如需撤销，请到「导入记录」回滚该批次。"]
    assert not app.info and not app.error and not app.metric and not app.dataframe
    assert app.file_uploader[0].value is None
    assert accounts.audit.query(actions=["upload", "commit"])["action"].tolist() == ["commit", "upload"]
    assert demo_value(store, "140500", "invention_patents") == jincheng + 2

    on_page(app, "history")
    assert app.dataframe[0].value["文件"].tolist()[0] == "10月.csv"
    assert app.selectbox(key="history_batch").value == 3
    shown(app.checkbox(key="history_confirm").check().run())
    shown(app.button(key="history_rollback").click().run())
    assert texts(app.success) == ["批次 3 已回滚（回滚记录为批次 4）。"]
    assert demo_value(store, "140500", "invention_patents") == jincheng


def test_history_asks_a_reason_before_a_rollback_that_corrects_a_closed_month_and_only_of_a_reviewer(
        writable_app, accounts, config, regions):
    app, store = writable_app
    demo = demo_value(store, "140500", "invention_patents", "2026-09")  # September closed on 2026-11-14
    plan = plan_upload(store, config, regions, f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-09,{demo + 5:.0f}\n"
                       .encode(), "9月.csv")
    assert commit_plan(store, plan, accept_warnings=True) == 3  # replaces demo data: not a correction
    notice = ("更正：这次回滚会修改已关账期间的 1 个数值，2026年9月自 2026年11月14日 起已关账，属于更正。"
              "须由审核员或管理员填写更正理由后回滚；回滚即生效，各页面、导出和简报会把恢复的数值标注为「更正」。")
    log_in(app, "clerk")
    on_page(app, "history")
    assert app.selectbox(key="history_batch").value == 3
    assert texts(app.warning) == [notice]
    assert "您的账户不能做更正，请联系审核员或管理员回滚这个批次。" in texts(app.info)
    assert not [b for b in app.button if b.label == "回滚"]

    app = new_app()
    log_in(app, "admin")
    on_page(app, "history")
    assert texts(app.warning) == [notice]
    shown(app.checkbox(key="history_confirm").check().run())
    assert app.button(key="history_rollback").disabled and "填写更正理由后才能回滚。" in texts(app.caption)
    shown(app.text_area(key="history_rollback_reason").input("9月数值重复统计，恢复原值").run())
    assert not app.button(key="history_rollback").disabled
    shown(app.button(key="history_rollback").click().run())
    assert texts(app.success) == ["批次 3 已回滚（回滚记录为批次 4），已记为更正。"]
    assert demo_value(store, "140500", "invention_patents", "2026-09") == demo
    assert store.query("SELECT correction_reason FROM load_batches WHERE id = 4")["correction_reason"].tolist() == [
        "9月数值重复统计，恢复原值"]
    assert accounts.audit.query(actions=["correction"])["target"].tolist() == ["批次 3"]


def test_upload_page_rejects_a_file_with_an_unknown_region_naming_the_row_and_writes_nothing(writable_app, accounts):
    app, store = writable_app
    log_in(app, "clerk")
    version = store.data_version()
    on_page(app, "upload")
    app.file_uploader[0].upload("10月.csv", wide_gbk_file(1, 2, region="晋阳"), "text/csv")
    shown(app.run())
    problems = check_table_shown(app)
    assert problems.iloc[0][["行", "检查", "级别"]].tolist() == [4, "地区", "错误"]
    assert problems.iloc[0]["说明"].startswith("第 4 行「地区」列：「晋阳」不是已知地区")
    assert texts(app.error) == ["有 1 处错误，未写入任何数据。请按「检查结果」表修改文件后重新上传。"]
    assert not [b for b in app.button if b.label.startswith("确认导入")]
    assert store.data_version() == version


def test_upload_page_needs_a_confirmation_and_a_reason_to_accept_warnings(writable_app, accounts):
    app, store = writable_app
    log_in(app, "clerk")
    jincheng = demo_value(store, "140500", "invention_patents")
    on_page(app, "upload")
    app.file_uploader[0].upload("10月.csv", wide_gbk_file(demo_value(store, "140100", "invention_patents"),
                                                          jincheng * 3), "text/csv")
    shown(app.run())
    assert {m.label: m.value for m in app.metric}["警告"] == "1"  # Jincheng tripled: an outlier
    checks = check_table_shown(app)
    assert checks.columns.tolist() == ["行", "列", "检查", "原值", "换算后", "说明", "级别"]
    assert checks.loc[checks["检查"] == "异常波动", ["原值", "换算后"]].values.tolist() == [
        [f"{jincheng * 3:.0f} 件", f"{jincheng * 3:,.0f} 件"]]

    def commit() -> None:
        shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())

    commit()  # neither ticked nor a reason
    assert texts(app.error) == ["接受警告前，请勾选「我已核对……」并填写理由。"]
    app.checkbox(key="upload_confirm").check()
    commit()  # ticked, no reason
    assert texts(app.error) == ["接受警告前，请勾选「我已核对……」并填写理由。"]
    assert demo_value(store, "140500", "invention_patents") == jincheng
    app.checkbox(key="upload_confirm").check()
    app.text_area(key="upload_reason").input("晋城市局确认：10月集中授权")
    commit()
    assert demo_value(store, "140500", "invention_patents") == jincheng * 3
    note = "接受 1 条警告：晋城市局确认：10月集中授权"
    assert store.query("SELECT note FROM load_batches WHERE id = 3")["note"].tolist() == [note]
    assert accounts.audit.query(actions=["commit"])["detail"].iloc[0].endswith(f"；{note}")
    on_page(app, "history")
    assert app.dataframe[0].value["说明"].tolist()[0] == note
    assert note in app.caption[1].value


def test_an_unknown_column_is_mapped_once_on_the_page_and_next_month_loads_without_asking(writable_app, accounts):
    app, store = writable_app
    log_in(app, "clerk")
    on_page(app, "upload")

    def month_file(month: str, title: str) -> bytes:
        patents = demo_value(store, "140500", "invention_patents", month)
        pledged = demo_value(store, "140500", "pledge_amount", month) * 1e4 + 10  # 亿元 → 万元, 10 万元 more
        return f"{title}\n地区,质押融资（万元）,有效发明专利（件）\n晋城,{pledged:.0f},{patents:.0f}\n".encode("gbk")

    app.file_uploader[0].upload("9月.csv", month_file("2026-09", "2026年9月山西省知识产权主要指标"), "text/csv")
    shown(app.run())
    assert {m.label: m.value for m in app.metric}["警告"] == "1"  # the unknown column
    [mapping] = [s for s in app.selectbox if s.label == "「质押融资（万元）」对应的指标"]
    shown(mapping.set_value("pledge_amount").run())
    [unit] = [s for s in app.selectbox if s.label == "「质押融资（万元）」的单位"]
    assert unit.value == "万元"  # the header's
    shown(app.button(key="map_save").click().run())
    assert {m.label: m.value for m in app.metric}["警告"] == "0"
    checks = check_table_shown(app)
    assert checks["说明"].tolist() == ["按已保存的列对应关系：「质押融资（万元）」→ 指标「知识产权质押融资金额」（万元）"]
    assert not [s for s in app.selectbox if s.label.endswith("对应的指标")]
    [saved] = accounts.audit.query(actions=["mapping_add"]).to_dict("records")
    assert (saved["actor"], saved["target"]) == ("clerk", "列对应关系 1")
    shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())
    assert texts(app.success)[0].startswith("已导入 9月.csv：批次 3")

    # next month: another title, the columns in another order; nothing is asked
    before = demo_value(store, "140500", "pledge_amount", "2026-10")
    app.file_uploader[0].upload("10月.csv", month_file("2026-10", "2026年10月晋城市知识产权月报"), "text/csv")
    shown(app.run())
    assert {m.label: m.value for m in app.metric} == {"有效值": "2", "新增": "0", "修改": "1", "未变": "1", "错误": "0",
                                                      "警告": "0"}
    assert not [s for s in app.selectbox if s.label.endswith("对应的指标")]
    shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())
    assert demo_value(store, "140500", "pledge_amount", "2026-10") == pytest.approx(before + 0.001)


def test_a_file_whose_only_indicator_column_is_unknown_can_be_mapped_from_the_refusal(writable_app, accounts):
    app, store = writable_app
    log_in(app, "clerk")
    on_page(app, "upload")
    projects = demo_value(store, "140500", "pledge_projects")
    app.file_uploader[0].upload("10月.csv", f"2026年10月山西省\n地区,专利质押笔数\n晋城市,{projects + 2:.0f}\n".encode("gbk"),
                                "text/csv")
    shown(app.run())
    assert texts(app.error)[0].startswith("无法导入：10月.csv 中找不到表头")
    assert not app.metric
    shown(app.selectbox(key=next(s.key for s in app.selectbox if s.label == "「专利质押笔数」对应的指标"))
          .set_value("pledge_projects").run())
    shown(app.button(key="map_save").click().run())
    assert not app.error
    assert {m.label: m.value for m in app.metric}["修改"] == "1"
    shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())
    assert demo_value(store, "140500", "pledge_projects") == projects + 2


def test_upload_page_offers_templates_that_load_back(writable_app, accounts):
    app, _ = writable_app
    log_in(app, "clerk")
    on_page(app, "upload")
    assert {b.label for b in app.get("download_button")} >= {"CSV（带 BOM，Excel 可直接打开）", "Excel .xlsx"}


def test_completeness_page_says_which_cities_still_owe_data(app):
    on_page(app, "completeness")
    assert app.title[0].value == "报送情况"
    scope = app.selectbox(key="completeness_scope")
    assert scope.value == "140000" and {"全国", "广东省", "广州市", "晋城市"} <= set(scope.options)
    month = app.selectbox(key="completeness_month")
    assert month.value == last_full_month(clock.today())  # who owes the month that has just ended
    if month.value != DEMO_END:  # "today" is later than the demo: nobody has reported that month
        assert {m.label: int(m.value) for m in app.metric}["示例/公布数据"] == 0
        assert any(w.startswith("尚未报送完整：") for w in texts(app.warning))
        shown(month.set_value(DEMO_END).run())
    metrics = {m.label: int(m.value) for m in app.metric}
    assert metrics["按时报送"] == metrics["逾期报送"] == 0  # the demo has no uploads
    assert metrics["示例/公布数据"] > 0
    assert any(w.startswith("尚未报送完整：") for w in texts(app.warning))
    matrix = app.dataframe[1].value
    assert "晋城市" in matrix.index and "有效发明专利拥有量" in matrix.columns


def test_the_sidebar_shows_the_overview_as_published_on_an_earlier_day(writable_app, config, regions):
    app, store = writable_app
    with store.transaction() as con:  # the demo was "published" on 2026-11-01
        con.execute("UPDATE load_batches SET loaded_at = TIMESTAMP '2026-11-01 09:00:00'")
        con.execute("UPDATE observation_log SET recorded_at = TIMESTAMP '2026-11-01 09:00:00'")
    before = demo_value(store, "140500", "invention_patents", "2025-12")  # the overview judges the 2025 deadline
    plan = plan_upload(store, config, regions, f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2025-12,{before + 50:.0f}\n"
                       .encode(), "更正.csv")
    commit_plan(store, plan, accept_warnings=True, at=datetime(2026, 11, 20, 10, 0))
    shown(app.run())
    assert current_values(app)["有效发明专利拥有量"] == f"{before + 50:,.0f}件"
    shown(app.toggle(key="published_toggle").set_value(True).run())
    shown(app.date_input(key="published_day").set_value(date(2026, 11, 1)).run())
    assert current_values(app)["有效发明专利拥有量"] == f"{before:,.0f}件"
    assert any("2026年11月1日 结束时已发布的数据" in i for i in texts(app.info)), texts(app.info)
    on_page(app, "indicator")  # the choice holds on other pages
    assert any("历史版本" in i for i in texts(app.info)), texts(app.info)


# --------------------------------------------------------------------------- downloads


def download_labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_every_chart_and_table_offers_its_downloads_and_the_overview_its_briefing(app):
    assert app.button(key="briefing_build").proto.label == "生成监测简报（PDF）"  # builds with its steps shown
    labels = download_labels(app)
    assert labels == ["目标表 CSV", "目标表 Excel", "PNG", "PDF"]  # the target table, the status chart
    on_page(app, "indicator")
    assert download_labels(app) == ["PNG", "PDF", "CSV", "Excel"]  # the chart, the observations
    on_page(app, "compare")
    assert download_labels(app) == ["PNG", "PDF", "PNG", "PDF", "CSV", "Excel"]  # ranking, gaps, table
    on_page(app, "tasks")
    assert download_labels(app) == ["CSV", "Excel"]


@pytest.mark.parametrize(("variable", "value"), [("IPMON_ANONYMOUS_VIEW", "maybe"), ("IPMON_STORE_TIMEOUT", "soon")])
def test_a_setting_the_dashboard_cannot_use_is_named_in_chinese_not_a_traceback(
        variable, value, dashboard_store, fresh_streamlit_caches, monkeypatch):
    monkeypatch.setenv(variable, value)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("系统设置有误" in e and variable in e for e in errors), errors
