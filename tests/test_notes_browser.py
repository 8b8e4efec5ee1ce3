"""Notes with values in a real browser: on 指标详情 a clerk of 晋城市 writes a note on the newest
value and raises 跟踪核实; the value is marked 待核实 in the form and listed on 导入记录; a
reviewer clears the flag with what the check found; the store keeps all three notes and the trail
records each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in, open_deep_link
from playwright.sync_api import Browser, Page, expect

from monitor.accounts.audit import AuditLog
from monitor.store.database import Store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def notes_store(copy_demo_store):
    return copy_demo_store("notes_served")


@pytest.fixture(scope="module")
def notes_accounts(copy_accounts) -> Path:
    return copy_accounts("notes", jincheng_reviewer=True)


@pytest.fixture(scope="module")
def notes_url(notes_store, notes_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(notes_store, "notes", notes_accounts) as url:
        yield url


def open_notes(page: Page):
    """The note form, its expander opened (it may stay open from before the last run)."""
    form = page.locator('[data-testid="stForm"]')
    if not form.is_visible():
        page.locator(MAIN).get_by_text("备注与跟踪核实").click()
    expect(form).to_be_visible()
    return form


def note_form(page: Page, action: str, text: str) -> str:
    """Open the form, keep the newest value, choose ``action``, write ``text``, submit; returns the
    value's label as the form shows it."""
    form = open_notes(page)
    value = form.get_by_role("combobox", name="数值").input_value()
    form.get_by_text(action, exact=True).click()
    form.get_by_label("内容（解除标记时可写核实结果，可不填）").fill(text)
    form.get_by_role("button", name="提交").click()
    expect(page.locator(MAIN).get_by_text(f"已{action}", exact=False)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    return value


def test_a_clerk_flags_a_value_on_the_detail_page_and_a_reviewer_clears_it(page: Page, browser: Browser, notes_url,
                                                                          notes_store, notes_accounts, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 1100})
    open_deep_link(page, notes_url, "indicator", "晋城市 · 指标详情")
    expect(page.locator(MAIN).get_by_text("备注与跟踪核实")).to_have_count(0)  # a visitor writes nothing
    page.goto(f"{notes_url}/history")
    log_in(page, "jc-clerk")
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="指标详情").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("晋城市 · 指标详情", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)

    # an uploader may note and flag, not clear
    expect(open_notes(page).get_by_text("解除跟踪核实", exact=True)).to_have_count(0)
    month = note_form(page, "备注并标记跟踪核实", "比上月多出的件数与受理记录不符，请核对")
    expect(open_notes(page).get_by_role("combobox", name="数值")).to_have_value(f"{month}（待核实）")
    page.screenshot(path=tmp_path / "flagged.png", full_page=True)

    # the reviewer sees it listed on 导入记录 and clears it on 指标详情
    reviewer = browser.new_page(viewport={"width": 1400, "height": 1100})
    open_deep_link(reviewer, notes_url, "history", "导入记录")
    log_in(reviewer, "jc-reviewer")
    expect(reviewer.locator(MAIN).get_by_text("跟踪核实中的数值（1 个）")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    reviewer.screenshot(path=tmp_path / "listed.png", full_page=True)
    reviewer.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="指标详情").click()
    expect(reviewer.locator(f"{MAIN} h1")).to_have_text("晋城市 · 指标详情", timeout=RENDER_TIMEOUT_MS)
    expect(reviewer.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    assert note_form(reviewer, "解除跟踪核实", "已与受理记录核对，数值无误").startswith(month)
    reviewer.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="导入记录").click()
    expect(reviewer.locator(f"{MAIN} h1")).to_have_text("导入记录", timeout=RENDER_TIMEOUT_MS)
    expect(reviewer.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(reviewer.locator(MAIN).get_by_text("跟踪核实中的数值")).to_have_count(0)
    expect(reviewer.locator('[data-testid="stException"]')).to_have_count(0)

    notes = Store(notes_store).query("SELECT region_code, text, flag, author FROM value_notes ORDER BY id")
    assert notes.values.tolist() == [["140500", "比上月多出的件数与受理记录不符，请核对", "raised", "jc-clerk"],
                                     ["140500", "已与受理记录核对，数值无误", "cleared", "jc-reviewer"]]
    trail = AuditLog(notes_accounts).query(actions=["value_flag", "value_flag_clear"])
    assert trail[["actor", "action"]].values.tolist()[::-1] == [["jc-clerk", "value_flag"],
                                                               ["jc-reviewer", "value_flag_clear"]]
