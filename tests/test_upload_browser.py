"""数据导入 in a real browser: a GBK wide CSV chosen in the file dialog is previewed with the right
values, committed, and listed on 导入记录, on a served dashboard with its own store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import test_browser as served
from conftest import TEST_PASSWORD
from playwright.sync_api import Page, expect

from monitor.store import Store

pytestmark = pytest.mark.browser
IDLE, MAIN, RENDER_TIMEOUT_MS = served.IDLE, served.MAIN, served.RENDER_TIMEOUT_MS
browser_type_launch_args = served.browser_type_launch_args


@pytest.fixture(scope="module")
def upload_store(copy_demo_store):
    return copy_demo_store("upload_served")


@pytest.fixture(scope="module")
def upload_url(upload_store, accounts_template, tmp_path_factory) -> Iterator[str]:
    accounts = tmp_path_factory.mktemp("upload_accounts") / "accounts.sqlite3"
    shutil.copyfile(accounts_template, accounts)
    with served.serve(upload_store, tmp_path_factory.mktemp("upload_streamlit") / "streamlit.log", accounts) as url:
        yield url


def log_in(page: Page, username: str, password: str = TEST_PASSWORD) -> None:
    """Fill the login form the page shows and wait for the page to run again."""
    form = page.locator('[data-testid="stForm"]')
    form.get_by_label("用户名").fill(username)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()
    expect(form).to_have_count(0, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def open_deep_link(page: Page, url: str, path: str, title: str) -> None:
    """The first visit of this fresh server is a deep link: Streamlit would fall back to listing
    pages/ by file name unless the app leaves that mode (pages/_auth.py)."""
    page.goto(f"{url}/{path}")
    expect(page.locator(f"{MAIN} h1")).to_have_text(title, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_role("link", name="总览")).to_be_visible()
    expect(nav.get_by_text("数据管理", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="shared")).to_have_count(0)


def test_a_gbk_wide_file_is_previewed_committed_and_listed(page: Page, upload_url, upload_store, tmp_path):
    outside = []  # the app must work on an intranet: nothing may be fetched from elsewhere
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        (upload_url, "data:", "blob:", "ws://127.0.0.1")) else None)
    page.set_viewport_size({"width": 1400, "height": 1100})
    file = tmp_path / "2026年10月报表.csv"
    # the served process holds the store only while it reads: a short-lived connection reads it here
    before = Store(upload_store).query("SELECT value FROM observations WHERE region_code = '140500' AND "
                                       "indicator_id = 'invention_patents' AND month = '2026-10'")["value"].iloc[0]
    file.write_bytes(f"2026年10月山西省知识产权主要指标,\n地区,有效发明专利（件）\n晋城,{before + 4:.0f}\n".encode("gbk"))

    open_deep_link(page, upload_url, "upload", "数据导入")
    log_in(page, "clerk")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    expect(page.locator(MAIN).get_by_text("与数据库比较")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("编码 GBK/GB18030", exact=False)).to_be_visible()
    cards = page.locator('[data-testid="stMetric"]')
    expect(cards).to_have_count(6, timeout=RENDER_TIMEOUT_MS)  # a loaded machine may still be drawing them
    expect(cards.filter(has_text="修改").locator('[data-testid="stMetricValue"]')).to_have_text("1")
    metrics = {m.locator('[data-testid="stMetricLabel"]').inner_text(): m.locator('[data-testid="stMetricValue"]').inner_text()
               for m in cards.all()}
    assert metrics == {"有效值": "1", "新增": "0", "修改": "1", "未变": "0", "错误": "0", "警告": "0"}
    page.screenshot(path=tmp_path / "preview.png", full_page=True)

    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text("已导入 2026年10月报表.csv：批次 3")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    after = Store(upload_store).query("SELECT value, origin FROM observations WHERE region_code = '140500' AND "
                                      "indicator_id = 'invention_patents' AND month = '2026-10'")
    assert after.values.tolist() == [[before + 4, "upload"]]

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="导入记录").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("导入记录", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("批次 3 写入的数值（1 个）")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert outside == [], f"requests left the machine: {outside}"
