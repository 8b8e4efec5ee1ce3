"""Who may reach what, in a real browser against a served dashboard with its own accounts file:
logged out the upload page asks for a login, a viewer is refused upload and sees no rollback, the
Jincheng uploader's Taiyuan row is refused, and the menu lists only what the session may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import IDLE, MAIN, NAV, RENDER_TIMEOUT_MS, log_in, menu, open_deep_link
from playwright.sync_api import Page, expect

from monitor.accounts.audit import AuditLog

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def access_accounts(copy_accounts):
    return copy_accounts("access")


@pytest.fixture(scope="module")
def access_url(copy_demo_store, access_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(copy_demo_store("access_served"), "access", access_accounts) as url:
        yield url


def test_logged_out_the_upload_page_asks_for_a_login_and_the_menu_hides_it(page: Page, access_url):
    open_deep_link(page, access_url, "upload", "数据导入")
    expect(page.locator(MAIN).get_by_text("此页面需要登录")).to_be_visible()
    expect(page.locator('[data-testid="stForm"]').get_by_label("密码")).to_be_visible()
    expect(page.locator('[data-testid="stFileUploaderDropzoneInput"]')).to_have_count(0)
    assert "数据导入" not in menu(page) and "导入记录" not in menu(page) and "审计记录" not in menu(page)
    assert {"总览", "报送情况", "登录"} <= set(menu(page))
    page.goto(f"{access_url}/history")
    expect(page.locator(MAIN).get_by_text("此页面需要登录")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_role("button", name="回滚")).to_have_count(0)


def test_a_viewer_is_refused_upload_and_sees_no_rollback(page: Page, access_url):
    open_deep_link(page, access_url, "upload", "数据导入")
    log_in(page, "viewer")
    expect(page.locator(MAIN).get_by_text("您的账户 viewer（查看者）无权导入和回滚数据")).to_be_visible()
    expect(page.locator('[data-testid="stFileUploaderDropzoneInput"]')).to_have_count(0)
    assert "数据导入" not in menu(page) and "导入记录" in menu(page) and "我的账户" in menu(page)
    expect(page.get_by_text("已登录：viewer（查看者）")).to_be_visible()
    page.locator(NAV).get_by_role("link", name="导入记录").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("导入记录", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("回滚批次需要数据上传员或管理员账户。")).to_be_visible()
    expect(page.get_by_role("button", name="回滚")).to_have_count(0)


def test_the_jincheng_uploader_is_refused_a_taiyuan_row_and_an_admin_sees_it_audited(page: Page, access_url,
                                                                                     access_accounts, tmp_path):
    file = tmp_path / "10月.csv"
    file.write_bytes("2026年10月山西省知识产权主要指标,\n地区,有效发明专利（件）\n太原,31000\n晋城,800\n".encode("gbk"))
    open_deep_link(page, access_url, "upload", "数据导入")
    log_in(page, "jc-clerk")
    expect(page.locator(MAIN).get_by_text("您可导入的地区：晋城市（140500）及下辖地区")).to_be_visible()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    expect(page.locator(MAIN).get_by_text("有 1 处错误，未写入任何数据")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    page.screenshot(path=tmp_path / "refused.png", full_page=True)
    refused = AuditLog(access_accounts).query(actions=["upload"], actor="jc-clerk").iloc[0]
    assert (refused["outcome"], refused["target"]) == ("refused", "10月.csv")
    assert refused["detail"].endswith("1 行不在地区范围内（第 3 行）")

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_text("已登录：")).to_have_count(0, timeout=RENDER_TIMEOUT_MS)
    page.goto(f"{access_url}/audit")
    log_in(page, "admin")
    expect(page.locator(f"{MAIN} h1")).to_have_text("审计记录", timeout=RENDER_TIMEOUT_MS)
    assert {"账户管理", "审计记录", "数据导入"} <= set(menu(page))
    grid = page.locator(f'{MAIN} [data-testid="stDataFrame"]')
    expect(grid).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_a_refused_new_account_keeps_what_was_typed_and_a_saved_one_leaves_the_form_empty(page: Page, access_url):
    open_deep_link(page, access_url, "login", "登录")
    log_in(page, "admin")
    page.locator(NAV).get_by_role("link", name="账户管理").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("账户管理", timeout=RENDER_TIMEOUT_MS)
    form = page.locator('[data-testid="stForm"]').first
    username, name = form.get_by_label("用户名（英文字母、数字）", exact=True), form.get_by_label("显示名", exact=True)
    password = form.get_by_label("初始密码（至少 10 个字符）", exact=True)
    username.fill("yq-clerk")
    name.fill("阳泉市局数据员")
    password.fill("short")
    form.get_by_role("button", name="新建").click()
    expect(page.locator(MAIN).get_by_text("密码太短：至少 10 个字符")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(username).to_have_value("yq-clerk")  # kept, to be corrected
    expect(name).to_have_value("阳泉市局数据员")
    password.fill("yangquan-2026!")
    form.get_by_role("button", name="新建").click()
    expect(page.locator(MAIN).get_by_text("已新建账户 yq-clerk。")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(username).to_have_value("")  # the browser shows the form empty for the next account
    expect(name).to_have_value("")
    expect(password).to_have_value("")
