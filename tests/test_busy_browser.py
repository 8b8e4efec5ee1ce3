"""In a real browser on a fresh server: the first visit being /login lists no internal page files
(Streamlit's old pages-directory mode), and 总览 opened while another process holds the store for
a long write says 「数据库正忙（正在导入），请稍后刷新」, never Streamlit's English error page."""

from __future__ import annotations

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, menu
from playwright.sync_api import Page, expect
from test_browser import open_overview
from test_concurrency import hold, let_go

pytestmark = pytest.mark.browser


def test_the_first_visit_to_login_after_a_start_lists_the_menu_not_the_page_files(page: Page, copy_demo_store,
                                                                                  serve_dashboard):
    with serve_dashboard(copy_demo_store("login_first"), "login_first") as url:
        page.goto(f"{url}/login")
        expect(page.locator(f"{MAIN} h1").first).to_have_text("登录", timeout=RENDER_TIMEOUT_MS)
        expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
        links = menu(page)
        assert links[0] == "总览" and "登录" in links
        assert not {"dashboard", "auth", "shared", "markdown", "login", "overview"} & set(links), links


def test_overview_on_a_store_held_by_a_long_write_says_it_is_busy_in_chinese(page: Page, copy_demo_store, serve_dashboard,
                                                                            monkeypatch):
    store = copy_demo_store("busy_served")
    monkeypatch.setenv("IPMON_STORE_TIMEOUT", "2")  # the served process's wait
    with serve_dashboard(store, "busy") as url:
        open_overview(page, url)  # opened once while the store is free
        writer = hold(store)
        try:
            page.reload()
            expect(page.locator(MAIN).get_by_text("数据库正忙（正在导入），请稍后刷新")).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
            expect(page.get_by_text("This app has encountered an error")).to_have_count(0)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        finally:
            let_go(writer)
        open_overview(page, url)  # the writer is done: the data again
