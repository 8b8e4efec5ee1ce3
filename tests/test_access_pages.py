"""Who may do what on the pages (AppTest): logged out the upload page asks for a login, a viewer is
refused, the Jincheng uploader is refused a Taiyuan row (nothing written), an admin sees all of it
in the audit trail. Real argon2 accounts in a tmp accounts file, the demo store copied per test."""

from __future__ import annotations

import re

import pytest
from conftest import TEST_PASSWORD
from streamlit.testing.v1 import AppTest
from test_pages import check_table_shown, demo_value, log_in, new_app, on_page, shown, texts, wide_gbk_file, widget

from monitor.accounts.audit import AuditLog
from monitor.domain import clock
from monitor.store.database import Store

SSO_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                        "client_id": "ipmon", "client_secret": "not-used-here",
                        "server_metadata_url": "https://sso.example.org/.well-known/openid-configuration"}}


@pytest.fixture
def served(copy_demo_store, fresh_streamlit_caches, monkeypatch, accounts) -> tuple[AppTest, Store, AuditLog]:
    """A fresh dashboard on a private copy of the demo store, with the test accounts."""
    path = copy_demo_store("access_store")
    monkeypatch.setenv("IPMON_DB", str(path))
    return new_app(), Store(path), AuditLog(accounts.path)


def login_form_shown(at: AppTest) -> bool:
    return [t.label for t in at.text_input] == ["用户名", "密码"] and any(b.label == "登录" for b in at.button)


def test_logged_out_the_upload_page_asks_for_a_login_and_offers_no_upload(served):
    app, _, _ = served
    on_page(app, "upload")
    assert app.title[0].value == "数据导入"
    assert texts(app.warning) == ["此页面需要登录：请登录有权导入和回滚数据的账户。"]
    assert login_form_shown(app)
    assert not app.get("file_uploader")


def test_logged_out_the_history_page_asks_for_a_login_and_offers_no_rollback(served):
    app, _, _ = served
    on_page(app, "history")
    assert login_form_shown(app)
    assert not app.dataframe and not [b for b in app.button if b.label == "回滚"]


def test_a_viewer_is_refused_upload_and_sees_no_rollback(served):
    app, _, audit = served
    log_in(app, "viewer")
    assert app.title[0].value == "我的账户"
    on_page(app, "upload")
    assert texts(app.error) == ["您的账户 viewer（查看者）无权导入和回滚数据。如需此权限，请联系管理员。"]
    assert not app.get("file_uploader")
    on_page(app, "history")
    assert app.dataframe[0].value["批次"].tolist()  # a viewer may read the batches
    assert not [b for b in app.button if b.label == "回滚"]
    assert "回滚批次需要数据上传员或管理员账户。" in texts(app.caption)
    on_page(app, "tasks")  # milestone updates are for admins
    assert not [b for b in app.button if b.label == "保存"]
    assert audit.query(actions=["access_denied"])["actor"].tolist() == ["viewer"]


def test_the_jincheng_uploader_is_refused_a_taiyuan_row_naming_it_and_nothing_is_written(served):
    app, store, audit = served
    version = store.data_version()
    log_in(app, "jc-clerk")
    on_page(app, "upload")
    assert texts(app.info)[0].startswith("您可导入的地区：晋城市（140500）及下辖地区")
    taiyuan, jincheng = demo_value(store, "140100", "invention_patents"), demo_value(store, "140500", "invention_patents")
    app.file_uploader[0].upload("10月.csv", wide_gbk_file(taiyuan + 3, jincheng + 2), "text/csv")
    shown(app.run())
    problems = check_table_shown(app)
    assert problems.iloc[0][["行", "检查", "原值", "级别"]].tolist() == [3, "权限范围", "太原", "错误"]
    assert problems.iloc[0]["说明"] == "第 3 行的地区「太原」不在您可导入的地区范围内；请删除该行，或联系管理员调整权限"
    assert texts(app.error) == ["有 1 处错误，未写入任何数据。请按「检查结果」表修改文件后重新上传。"]
    assert not [b for b in app.button if b.label.startswith("确认导入")]
    assert store.data_version() == version
    refused = audit.query(actions=["upload"]).iloc[0]
    assert (refused["actor"], refused["outcome"], refused["target"]) == ("jc-clerk", "refused", "10月.csv")
    assert refused["detail"].endswith("1 行不在地区范围内（第 3 行）")


def test_an_uploader_may_not_publish_official_figures_or_name_their_source(served):
    app, store, _ = served
    version = store.data_version()
    log_in(app, "jc-clerk")
    on_page(app, "upload")
    jincheng = demo_value(store, "140500", "invention_patents")
    data = ("2026年10月晋城市知识产权主要指标\n地区,有效发明专利（件）,来源类型,来源\n"
            f"晋城,{jincheng + 2:.0f},published,https://evil.example/fake-bulletin.html\n").encode()
    app.file_uploader[0].upload("10月.csv", data, "text/csv")
    shown(app.run())
    problems = check_table_shown(app)
    assert problems.iloc[0][["行", "检查", "级别"]].tolist() == [3, "来源权限", "错误"]
    assert problems.iloc[0]["说明"].startswith("第 3 行填写了「来源类型」或「来源」：只有管理员可以把数值标为公布值或注明来源")
    assert not [b for b in app.button if b.label.startswith("确认导入")]
    assert store.data_version() == version


def test_the_jincheng_uploader_loads_jincheng_and_its_counties_and_rolls_back_only_its_own(served, monkeypatch):
    # 2026年10月 closes on 2026-12-15 (docs/decisions.md D17), and an uploader cannot correct a closed
    # month: this walk is about scope, so it runs on a day that month is open, whatever the calendar
    monkeypatch.setenv("IPMON_TODAY", "2026-11-25")
    app, store, audit = served
    log_in(app, "jc-clerk")
    on_page(app, "upload")
    jincheng = demo_value(store, "140500", "invention_patents")
    app.file_uploader[0].upload("晋城10月.csv", f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-10,{jincheng + 1:.0f}\n"
                                "晋城市城区,有效发明专利拥有量,2026-10,900\n".encode(), "text/csv")
    shown(app.run())
    assert not app.error
    shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())
    assert texts(app.success)[0].startswith("已导入 晋城10月.csv：批次 3")
    assert store.query("SELECT loaded_by FROM load_batches WHERE id = 3")["loaded_by"].tolist() == ["jc-clerk"]
    on_page(app, "history")
    shown(app.selectbox(key="history_batch").set_value(3).run())
    shown(app.checkbox(key="history_confirm").check().run())
    shown(app.button(key="history_rollback").click().run())
    assert texts(app.success) == ["批次 3 已回滚（回滚记录为批次 4）。"]
    shown(app.selectbox(key="history_batch").set_value(2).run())  # the demo batch covers every region
    assert not [b for b in app.button if b.label == "回滚"]
    assert any(i.startswith("批次 2 包含您可导入范围以外的地区") for i in texts(app.info))
    done = audit.query(actions=["commit", "rollback"])
    assert done[["action", "actor", "target", "outcome"]].values.tolist() == [
        ["rollback", "jc-clerk", "批次 3", "ok"], ["commit", "jc-clerk", "批次 3", "ok"]]


def test_the_rollback_preview_names_a_later_batch_that_re_reported_a_value_and_the_rollback_keeps_it(served):
    app, store, audit = served
    log_in(app, "clerk")
    on_page(app, "upload")
    jincheng = demo_value(store, "140500", "invention_patents") + 1
    for name, text in [("晋城10月.csv", f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-10,{jincheng:.0f}\n"),
                       ("晋城10月补报.csv", f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-10,{jincheng:.0f}\n"
                                          "晋城市城区,有效发明专利拥有量,2026-10,900\n")]:
        app.file_uploader[0].upload(name, text.encode(), "text/csv")
        shown(app.run())
        shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())
    assert texts(app.success)[0].startswith("已导入 晋城10月补报.csv：批次 4")
    on_page(app, "history")
    shown(app.selectbox(key="history_batch").set_value(3).run())
    [kept] = [i for i in texts(app.info) if "再次报送" in i]
    day = clock.today().isoformat()  # the batches were written "today" (IPMON_TODAY)
    assert re.fullmatch(rf"批次 4 于 {day} \d\d:\d\d 再次报送了相同数值（1 个），回滚后保留。", kept)
    shown(app.checkbox(key="history_confirm").check().run())
    shown(app.button(key="history_rollback").click().run())
    assert texts(app.success) == ["批次 3 已回滚（回滚记录为批次 5）。"]
    assert demo_value(store, "140500", "invention_patents") == jincheng  # batch 4's report stands
    [detail] = audit.query(actions=["rollback"])["detail"].tolist()
    assert detail.startswith(f"回滚记录为批次 5；批次 4 于 {day} ")


def test_a_wrong_password_is_refused_then_throttled_on_the_login_page(served):
    app, _, audit = served
    for _ in range(5):
        log_in(app, "clerk", "not the password")
        assert texts(app.error) == ["用户名或密码错误"]
    log_in(app, "clerk")  # the right one, too soon
    assert len(app.error) == 1 and app.error[0].value.startswith("登录失败次数过多，请 ")
    assert app.title[0].value == "登录"
    assert audit.query(actions=["login_failed", "login_throttled"])["action"].tolist() == (
        ["login_throttled"] + ["login_failed"] * 5)


def test_an_admin_sees_every_action_in_the_audit_trail_and_no_password_anywhere(served, caplog):
    app, store, audit = served
    log_in(app, "jc-clerk", "a wrong password")
    log_in(app, "jc-clerk")
    on_page(app, "upload")
    app.file_uploader[0].upload("10月.csv", wide_gbk_file(1, 2), "text/csv")
    shown(app.run())
    on_page(app, "login")  # 我的账户
    shown(widget(app.button, "退出登录").click().run())
    log_in(app, "admin")
    on_page(app, "tasks")
    widget(app.text_input, "进展说明").input("已报送示范区申报材料")
    shown(widget(app.button, "保存").click().run())
    on_page(app, "accounts")
    assert app.dataframe[0].value["用户名"].tolist() == ["admin", "clerk", "jc-clerk", "viewer"]
    shown(app.button(key="config_reload").click().run())
    assert texts(app.success)[0].startswith("配置已重新加载：")
    on_page(app, "audit")
    table = app.dataframe[0].value
    seen = [row for row in zip(table["操作人"], table["操作"], table["结果"]) if row[0] != "test"][::-1]  # not the set-up
    assert seen == [("jc-clerk", "登录失败", "拒绝"), ("jc-clerk", "登录", "成功"), ("jc-clerk", "上传文件（预检）", "拒绝"),
                    ("jc-clerk", "退出登录", "成功"), ("admin", "登录", "成功"), ("admin", "任务进度登记", "成功"),
                    ("admin", "重新加载配置", "成功")]
    assert table["对象"].tolist()[1] == "任务 jc_t01"
    shown(app.multiselect(key="audit_actions").set_value(["login_failed"]).run())
    assert app.dataframe[0].value["操作人"].tolist() == ["jc-clerk"]
    everything = audit.query().to_csv() + store.path.read_bytes().decode("latin-1") + caplog.text
    assert TEST_PASSWORD not in everything and "a wrong password" not in everything


def test_without_anonymous_viewing_every_page_asks_for_a_login(served, monkeypatch):
    app, _, _ = served
    monkeypatch.setenv("IPMON_ANONYMOUS_VIEW", "0")
    shown(app.run())
    assert login_form_shown(app) and not app.metric
    log_in(app, "viewer")
    on_page(app, "overview")
    assert app.metric and not login_form_shown(app)


def test_an_idle_session_expires_and_asks_for_a_new_login(served, monkeypatch):
    app, _, audit = served
    log_in(app, "clerk")
    monkeypatch.setenv("IPMON_SESSION_IDLE_MINUTES", "0.00001")  # under a millisecond: any next run is too late
    on_page(app, "upload")
    assert login_form_shown(app)
    assert texts(app.info)[0].startswith("已超过 1e-05 分钟没有操作，登录已失效")
    assert audit.query(limit=1)["action"].tolist() == ["session_expired"]


def test_the_single_sign_on_button_appears_only_when_auth_is_configured(served):
    app, _, _ = served
    on_page(app, "login")
    assert not [b for b in app.button if "统一身份认证" in b.label]
    app.secrets = SSO_SECRETS
    on_page(app, "login")
    assert [b.label for b in app.button if "统一身份认证" in b.label] == ["使用统一身份认证登录"]


def test_a_single_sign_on_user_gets_the_role_of_the_account_with_that_email(served, accounts):
    app, _, audit = served
    accounts.add("wang", None, "admin", email="wang@sxip.gov.cn", actor="test")
    app.secrets = SSO_SECRETS
    app.user = {"is_logged_in": True, "email": "Wang@sxip.gov.cn", "name": "王"}
    on_page(app, "login")
    assert app.title[0].value == "我的账户"
    assert "王" in app.markdown[0].value and "管理员" in app.markdown[0].value and "统一身份认证" in app.markdown[0].value
    last = audit.query(limit=1).iloc[0]
    assert (last["actor"], last["action"], last["via"]) == ("wang", "login", "oidc")
    app.user = {"is_logged_in": True, "email": "guest@example.org"}
    app.session_state["_auth_session"] = None
    on_page(app, "login")
    assert "查看者" in app.markdown[0].value


def test_ticking_a_box_on_the_history_page_reads_nothing_again_until_the_store_changes(served, monkeypatch, config,
                                                                                       regions):
    import monitor.store.history as history
    from etl.loader import commit_plan, plan_upload

    app, store, _ = served
    reads = []
    real = history.batch_rows
    monkeypatch.setattr(history, "batch_rows", lambda *a, **k: reads.append(a[1]) or real(*a, **k))
    log_in(app, "admin")
    on_page(app, "history")
    shown(app.checkbox(key="history_confirm").check().run())  # a view-only interaction
    shown(app.checkbox(key="history_confirm").uncheck().run())
    assert len(reads) == 1
    jincheng = demo_value(store, "140500", "invention_patents")
    plan = plan_upload(store, config, regions, f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-10,{jincheng + 1:.0f}\n"
                       .encode(), "更正.csv")
    commit_plan(store, plan, accept_warnings=True)  # elsewhere (another session, the CLI)
    shown(app.run())
    assert len(reads) == 2 and app.selectbox(key="history_batch").options[0].startswith("批次 3")


def test_the_mappings_page_lets_an_uploader_change_their_own_and_an_admin_every_one(served, accounts, config):
    from etl.mappings import MappingStore

    app, _, audit = served
    mappings = MappingStore(accounts.path)
    headers = ["地区", "质押融资（万元）", "专利质押笔数"]
    mappings.save(config, headers, "质押融资（万元）", "pledge_amount", actor="admin")
    mappings.save(config, headers, "专利质押笔数", "pledge_projects", owner="clerk", actor="clerk")
    mappings.save(config, headers, "专利质押笔数", None, owner="jc-clerk", actor="jc-clerk")

    log_in(app, "clerk")
    on_page(app, "mappings")
    assert app.title[0].value == "列对应关系"
    table = app.dataframe[0].value
    assert table[["编号", "适用于", "列", "指标"]].values.tolist() == [
        [1, "所有人", "质押融资（万元）", "知识产权质押融资金额"], [2, "clerk", "专利质押笔数", "知识产权质押融资项目数"]]
    assert app.selectbox(key="mappings_chosen").options == ["2：「专利质押笔数」→ 指标「知识产权质押融资项目数」（项）（clerk）"]
    shown(app.selectbox(key="mappings_indicator_2").set_value("__skip__").run())
    shown(app.button(key="mappings_save").click().run())
    assert texts(app.success) == ["列对应关系 2 已修改。"]
    assert mappings.get(2).indicator_id is None

    on_page(app, "login")
    shown(widget(app.button, "退出登录").click().run())
    log_in(app, "admin")
    on_page(app, "mappings")
    assert app.dataframe[0].value["编号"].tolist() == [1, 2, 3]
    shown(app.selectbox(key="mappings_chosen").set_value(3).run())
    shown(app.radio(key="mappings_owner_3").set_value("").run())  # widen to everyone
    shown(app.button(key="mappings_save").click().run())
    assert mappings.get(3).owner == ""
    shown(app.selectbox(key="mappings_chosen").set_value(1).run())
    assert app.button(key="mappings_remove").disabled
    shown(app.checkbox(key="mappings_confirm").check().run())
    shown(app.button(key="mappings_remove").click().run())
    assert texts(app.success) == ["列对应关系 1 已删除。"]
    assert [m.id for m in mappings.list()] == [2, 3]
    trail = audit.query(actions=["mapping_edit", "mapping_remove"])
    assert trail[["actor", "action", "target"]].values.tolist() == [
        ["admin", "mapping_remove", "列对应关系 1"], ["admin", "mapping_edit", "列对应关系 3"],
        ["clerk", "mapping_edit", "列对应关系 2"]]


def test_a_viewer_may_not_open_the_mappings_page(served):
    app, _, _ = served
    log_in(app, "viewer")
    on_page(app, "mappings")
    assert texts(app.error)[0].startswith("您的账户 viewer（查看者）无权导入和回滚数据")
    assert not app.dataframe


def test_a_refused_new_account_or_password_keeps_what_was_typed_and_a_saved_one_empties_the_form(served, accounts):
    app, _, _ = served
    log_in(app, "admin")
    on_page(app, "accounts")
    app.text_input(key="account_new_0_username").input("yq-clerk")  # the form before its first save
    app.text_input(key="account_new_0_name").input("阳泉市局数据员")
    app.text_input(key="account_new_0_password").input("short")
    shown(widget(app.button, "新建").click().run())
    assert texts(app.error) == ["密码太短：至少 10 个字符"]  # said, nothing saved
    assert app.text_input(key="account_new_0_username").value == "yq-clerk"
    assert app.text_input(key="account_new_0_name").value == "阳泉市局数据员"
    app.text_input(key="account_new_0_password").input("yangquan-2026!")
    shown(widget(app.button, "新建").click().run())
    assert texts(app.success) == ["已新建账户 yq-clerk。"]
    # saved: drawn anew under new keys, which the browser shows as empty widgets
    assert app.text_input(key="account_new_1_username").value == ""
    assert app.text_input(key="account_new_1_name").value == ""
    assert "yq-clerk" in app.dataframe[0].value["用户名"].tolist()

    app.selectbox(key="account_password_user").set_value("yq-clerk")
    app.text_input(key="account_password_0_new").input("short")
    shown(widget(app.button, "重置密码").click().run())
    assert texts(app.error) and app.text_input(key="account_password_0_new").value == "short"
    app.text_input(key="account_password_0_new").input("yangquan-2027!")
    shown(widget(app.button, "重置密码").click().run())
    assert texts(app.success) == ["账户 yq-clerk 的密码已重置，失败登录计数已清除。"]
    assert app.text_input(key="account_password_1_new").value == ""
