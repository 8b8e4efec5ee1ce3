"""A briefing sent as a link, end to end in a real browser: ``python -m etl notify``'s run sends the
link by e-mail (a real local SMTP server), the link opens the served dashboard, which asks for a
login (anonymous viewing off), then downloads the PDF that notify wrote."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in
from mailroom import Inbox
from playwright.sync_api import Page, expect

from devtools.serving import free_port
from monitor.accounts.subscriptions import SubscriptionStore
from monitor.context import open_context
from monitor.output.notify import NotifySettings, run_notify

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(copy_demo_store, copy_accounts, serve_dashboard) -> Iterator[tuple[str, object, object]]:
    store, accounts = copy_demo_store("briefing_link_served"), copy_accounts("briefing_link")
    with serve_dashboard(store, "briefing_link", accounts, env={"IPMON_ANONYMOUS_VIEW": "off"}) as url:
        yield url, store, accounts


def test_the_link_in_the_mail_asks_for_a_login_and_downloads_the_briefing_pdf(page: Page, served, tmp_path):
    url, store, accounts = served
    SubscriptionStore(accounts, clock=lambda: dt.datetime(2026, 11, 25, 9, 0)).add(
        open_context(store_path=store).regions, username="jc-clerk", regions=["140500"], kinds=[], briefing=True,
        briefing_delivery="link", email="jc@example.gov.cn", actor="admin")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        run = run_notify(open_context(store_path=store), path=accounts, today=dt.date(2026, 12, 20),
                         now=dt.datetime(2026, 12, 20, 8, 0),
                         settings=NotifySettings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                                                 smtp_from="ipmon@example.gov.cn", public_url=url, timeout=10,
                                                 briefings_dir=tmp_path / "briefings"))
    finally:
        smtp.stop()
    assert not run.failed and len(inbox.messages) == 1
    [link] = re.findall(re.escape(url) + r"/briefing_file\?token=[A-Za-z0-9_-]+", inbox.texts()[0])

    page.goto(link)
    expect(page.locator(f"{MAIN} h1")).to_have_text("监测简报下载", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("此页面需要登录")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    log_in(page, "viewer")
    button = page.get_by_role("button", name="下载 晋城市2026年11月监测简报（PDF）")
    expect(button).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=tmp_path / "briefing_file.png", full_page=True)
    with page.expect_download(timeout=RENDER_TIMEOUT_MS) as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == "简报_晋城市_jincheng_2025_2026-11.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True).stdout
    assert "晋城市知识产权强市建设目标监测简报（数据截至2026年11月）" in "".join(text.split())

    page.goto(link[:-4] + "abcd")  # a token nobody was given (a new page load: a new session)
    log_in(page, "viewer")
    expect(page.locator(MAIN).get_by_text("这个简报下载链接无效")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_role("button", name=re.compile("下载"))).to_have_count(0)
