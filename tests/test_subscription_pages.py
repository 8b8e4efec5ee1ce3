"""订阅管理, 我的订阅 (我的账户), the briefing download link (briefing_file) and the 催报 list on 报送情况, through AppTest: real accounts file,
the demo store copied per test."""

from __future__ import annotations

from datetime import datetime

import pytest
from test_pages import log_in, new_app, on_page, shown, texts, widget

from monitor.accounts.subscriptions import BriefingFile, SubscriptionStore
from monitor.output.notify import Item, publish_briefing


@pytest.fixture
def served(copy_demo_store, fresh_streamlit_caches, monkeypatch, accounts):
    monkeypatch.setenv("IPMON_DB", str(copy_demo_store("subscription_pages")))
    return new_app(), accounts


def test_an_admin_adds_a_subscription_and_stops_it_and_both_are_audited(served):
    app, accounts = served
    log_in(app, "admin")
    on_page(app, "subscriptions")
    assert app.title[0].value == "订阅管理" and not app.dataframe  # no subscription yet: no table,
    assert "（暂无记录）" in [c.value for c in app.caption]  # but a line that says so
    form = "subscription_new_0"  # the new-subscription form before its first save (pages/_forms.py)
    app.selectbox(key=f"{form}_owner").set_value("jc-clerk")
    app.multiselect(key=f"{form}_kinds").set_value(["overdue", "target"])
    app.text_input(key=f"{form}_email").input("jc@example.gov.cn")
    app.text_input(key=f"{form}_url").input("https://qyapi.example.cn/cgi-bin/webhook/send?key=abcdefgh")
    shown(widget(app.button, "新建").click().run())

    assert texts(app.success) == ["已新建订阅 1（晋城市局数据员）。"]
    row = app.dataframe[0].value.iloc[0]
    assert (row["账户"], row["地区"], row["内容"], row["状态"]) == ("jc-clerk", "晋城市", "目标转为滞后或未达成、逾期未报送", "启用")
    assert row["群机器人"] == "https://qyapi.example.cn/cgi-bin/webhook/send?key=abcd…"  # the key is not shown whole

    app.radio(key="subscription_state_action").set_value("停止")
    shown(widget(app.button, "确定").click().run())
    assert texts(app.success) == ["订阅 1 已停止。"] and app.dataframe[0].value.iloc[0]["状态"] == "已停止"
    trail = accounts.audit.query(actions=["subscription_add", "subscription_stop"])
    assert list(zip(trail["actor"], trail["action"])) == [("admin", "subscription_stop"), ("admin", "subscription_add")]


def test_a_subscription_outside_the_account_s_regions_is_refused_keeping_what_was_typed(served):
    app, _ = served
    log_in(app, "admin")
    on_page(app, "subscriptions")
    form = "subscription_new_0"
    app.selectbox(key=f"{form}_owner").set_value("jc-clerk")
    app.multiselect(key=f"{form}_regions").set_value(["140100"])
    app.text_input(key=f"{form}_email").input("jc@example.gov.cn")
    shown(widget(app.button, "新建").click().run())
    assert texts(app.error) == ["账户 jc-clerk 只能订阅其地区范围内的地区，太原市 不在范围内"]
    assert not app.dataframe and "（暂无记录）" in [c.value for c in app.caption]
    # what was typed stays, to be corrected rather than typed again
    assert app.selectbox(key=f"{form}_owner").value == "jc-clerk"
    assert app.multiselect(key=f"{form}_regions").value == ["140100"]
    assert app.text_input(key=f"{form}_email").value == "jc@example.gov.cn"
    app.multiselect(key=f"{form}_regions").set_value(["140500"])
    shown(widget(app.button, "新建").click().run())
    assert texts(app.success) == ["已新建订阅 1（晋城市局数据员）。"]
    # saved: the form is drawn anew (new keys, which the browser shows as empty widgets) for the next one
    assert app.selectbox(key="subscription_new_1_owner").value == ""
    assert app.multiselect(key="subscription_new_1_regions").value == []
    assert app.text_input(key="subscription_new_1_email").value == ""


def test_others_are_refused_the_subscriptions_page(served):
    app, _ = served
    log_in(app, "jc-clerk")
    on_page(app, "subscriptions")
    assert texts(app.error) == ["您的账户 jc-clerk（数据上传员）无权管理账户、任务进度和配置。如需此权限，请联系管理员。"]
    assert not app.dataframe


def test_a_user_sees_and_stops_only_their_own_subscriptions(served):
    app, accounts = served
    subs = SubscriptionStore(accounts.path)
    mine = subs.add(_regions(), username="jc-clerk", kinds=["overdue"],
                    email="jc@example.gov.cn", actor="admin")
    subs.add(_regions(), username="clerk", kinds=["overdue"], email="other-clerk@example.gov.cn", actor="admin")
    log_in(app, "jc-clerk")  # lands on 我的账户
    assert "我的订阅" in [h.value for h in app.subheader]
    assert "逾期未报送" in app.markdown[-1].value and "jc@example.gov.cn" in app.markdown[-1].value
    assert "other-clerk@example.gov.cn" not in " ".join(m.value for m in app.markdown)
    shown(app.button(key=f"my_subscription_toggle_{mine.id}").click().run())
    assert texts(app.success) == [f"订阅 {mine.id} 已停止。"]
    assert not subs.get(mine.id).enabled
    assert accounts.audit.query(actions=["subscription_stop"])["actor"].tolist() == ["jc-clerk"]


def _regions():
    from monitor.domain.regions import load_regions

    return load_regions()


def test_the_chase_list_names_contacts_only_for_logged_in_users(served, monkeypatch):
    app, accounts = served
    accounts.set_contact("jc-clerk", email="jc@example.gov.cn", actor="admin")
    monkeypatch.setenv("IPMON_TODAY", "2026-12-20")  # 2026-11 is due on 12-15; the demo ends in 2026-10
    app.query_params["scope"] = "140000"
    app.query_params["month"] = "2026-11"
    on_page(app, "completeness")
    owed = app.dataframe[-1].value
    assert "联系人" not in owed.columns and "登录后显示各地区的联系人和邮箱。" in texts(app.caption)
    assert owed.iloc[0]["逾期天数"] == 5 and owed.iloc[0]["截止日期"] == "2026-12-15"

    log_in(app, "admin")
    on_page(app, "completeness")
    owed = app.dataframe[-1].value.set_index("地区")
    assert (owed.loc["晋城市", "联系人"], owed.loc["晋城市", "联系邮箱"]) == ("晋城市局数据员", "jc@example.gov.cn")
    assert owed.loc["太原市", "联系人"] == "（无负责该地区的账户）"
    assert owed.loc["晋城市", "未报项数"] == owed.loc["太原市", "未报项数"] > 0


def test_subscriptions_keep_their_creation_time_from_the_product_clock(served, monkeypatch):
    _, accounts = served
    monkeypatch.setenv("IPMON_TODAY", "2027-01-10")
    made = SubscriptionStore(accounts.path).add(_regions(), username="admin", kinds=["overdue"],
                                                 email="a@example.gov.cn", actor="admin")
    assert made.created_at.startswith("2027-01-10")


# --------------------------------------------------------------------------- the monthly briefing as a link


def test_an_admin_has_a_group_robot_sent_the_briefing_as_a_link(served):
    app, accounts = served
    log_in(app, "admin")
    on_page(app, "subscriptions")

    def submit(delivery: str) -> None:  # filled whole each time (a refused form keeps it anyway)
        form = "subscription_new_0"
        app.text_input(key=f"{form}_label").input("晋城市局工作群")
        app.multiselect(key=f"{form}_regions").set_value(["140500"])
        app.multiselect(key=f"{form}_kinds").set_value([])
        app.checkbox(key=f"{form}_briefing").check()
        app.radio(key=f"{form}_delivery").set_value(delivery)
        app.text_input(key=f"{form}_url").input("https://qyapi.example.cn/cgi-bin/webhook/send?key=abcdefgh")
        shown(widget(app.button, "新建").click().run())

    submit("attach")
    assert texts(app.error) == ["每月简报以 PDF 附件随邮件发送：订阅简报需要填写邮箱，或改为以下载链接发送"]

    submit("link")

    assert texts(app.success) == ["已新建订阅 1（晋城市局工作群）。"]
    assert app.dataframe[0].value.iloc[0]["内容"] == "每月简报（下载链接）"
    assert SubscriptionStore(accounts.path).get(1).briefing_linked
    [detail] = accounts.audit.query(actions=["subscription_add"])["detail"]
    assert "每月简报（下载链接（邮件和群机器人消息））" in detail


def test_a_user_switches_their_own_briefing_from_attached_to_linked(served):
    app, accounts = served
    subs = SubscriptionStore(accounts.path)
    mine = subs.add(_regions(), username="jc-clerk", kinds=[], briefing=True, email="jc@example.gov.cn",
                    actor="admin")
    log_in(app, "jc-clerk")
    assert "每月简报（PDF 附件）" in app.markdown[-1].value

    shown(app.radio(key=f"my_subscription_delivery_{mine.id}").set_value("link").run())

    assert texts(app.success) == [f"订阅 {mine.id} 的每月简报改为下载链接（邮件和群机器人消息）。"]
    assert subs.get(mine.id).briefing_linked and "每月简报（下载链接）" in app.markdown[-1].value
    trail = accounts.audit.query(actions=["subscription_edit"])
    assert trail["actor"].tolist() == ["jc-clerk"] and "每月简报改为下载链接" in trail["detail"].iloc[0]


def _published(accounts, tmp_path) -> BriefingFile:
    """A briefing as notify writes it for links (a small stand-in PDF)."""
    item = Item("briefing|jincheng_2025|140500|2026-11", "briefing", ("140500",),
                "晋城市知识产权强市建设目标监测简报（数据截至2026年11月）", "", None,
                {"target_set": "jincheng_2025", "region": "140500", "month": "2026-11"})
    return publish_briefing(accounts.path, item, tmp_path / "briefings",
                            lambda *_: ("简报_晋城市_jincheng_2025_2026-11.pdf", b"%PDF-1.7\n%stand-in\n"),
                            datetime(2026, 12, 20, 8, 0))


def test_the_briefing_link_offers_the_pdf_and_a_wrong_or_spent_link_says_so(served, tmp_path):
    app, accounts = served
    published = _published(accounts, tmp_path)
    app.query_params["token"] = published.token

    on_page(app, "briefing_file")

    assert app.title[0].value == "监测简报下载" and not app.error
    assert app.subheader[0].value == "晋城市知识产权强市建设目标监测简报（数据截至2026年11月）"
    assert "地区：晋城市　数据截至：2026年11月" in texts(app.caption)[0]
    [button] = app.download_button
    assert button.label == "下载 晋城市2026年11月监测简报（PDF）"

    app.query_params["token"] = published.token[:-1] + ("A" if published.token[-1] != "A" else "B")
    on_page(app, "briefing_file")
    assert texts(app.error) == ["这个简报下载链接无效：请核对链接是否完整（消息中的整行地址），或联系管理员重新发送。"]
    assert not app.download_button

    published.path.unlink()
    app.query_params["token"] = published.token
    on_page(app, "briefing_file")
    [error] = texts(app.error)
    assert error.startswith("这份简报的文件已不在服务器上，下载链接已失效") and "briefings" not in error
    assert not app.download_button


def test_the_briefing_link_asks_for_a_login_when_viewing_needs_one(served, tmp_path, monkeypatch):
    app, accounts = served
    monkeypatch.setenv("IPMON_ANONYMOUS_VIEW", "off")
    published = _published(accounts, tmp_path)
    app.query_params["token"] = published.token

    on_page(app, "briefing_file")

    assert "此页面需要登录" in texts(app.warning)[0] and not app.download_button
    log_in(app, "viewer")
    app.query_params["token"] = published.token
    on_page(app, "briefing_file")
    assert len(app.download_button) == 1
