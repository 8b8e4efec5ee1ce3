"""Approval before publish in a real browser, on a served dashboard with approval on: a clerk
uploads; the value is 待审核 and not on 总览; a reviewer returns it with a reason; the clerk sees
the reason on 导入记录 and uploads again; the reviewer approves; the value is on 总览 and 指标详情."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in, open_deep_link
from playwright.sync_api import Browser, Page, expect
from test_upload_browser import demo, upload

from monitor.accounts.audit import AuditLog
from monitor.store.database import Store
from monitor.views.formatting import format_value

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def approval_store(copy_demo_store):
    return copy_demo_store("approval_served")


@pytest.fixture(scope="module")
def approval_accounts(copy_accounts) -> Path:
    return copy_accounts("approval", jincheng_reviewer=True)


@pytest.fixture(scope="module")
def approval_url(approval_store, approval_accounts, serve_dashboard) -> Iterator[str]:
    # the demo store would publish at once; this deployment requires approval
    with serve_dashboard(approval_store, "approval", approval_accounts, env={"IPMON_APPROVAL": "on"}) as url:
        yield url


def go(page: Page, link: str, title: str) -> None:
    """Follow a link of the sidebar (a new address would start a new session, logged out)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link).click()
    expect(page.locator(f"{MAIN} h1")).to_have_text(title, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def history(page: Page, url: str) -> None:
    go(page, "导入记录", "导入记录")


def current_value_cards(page: Page, url: str, text: str):
    go(page, "总览", "晋城市 · 晋城市知识产权强市建设（2025年目标）")
    return page.locator('[data-testid="stMetricValue"]').filter(has_text=text)


def commit(page: Page, file: Path, batch: int) -> None:
    upload(page, file)
    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text(f"批次 {batch}，新增 0，修改 1。该批次待审核", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)


def test_clerk_uploads_reviewer_returns_clerk_fixes_reviewer_approves(page: Page, browser: Browser, approval_url,
                                                                     approval_store, approval_accounts, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 1100})
    before = demo(approval_store, "140500", "invention_patents", "2025-12")
    wrong, right = before + 4, before + 7
    first, second = tmp_path / "晋城12月_错.csv", tmp_path / "晋城12月.csv"
    first.write_text(f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2025-12,{wrong:.0f}\n", encoding="utf-8")
    second.write_text(f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2025-12,{right:.0f}\n", encoding="utf-8")

    # the clerk uploads: the batch is pending, 总览 still shows the published value
    open_deep_link(page, approval_url, "upload", "数据导入")
    log_in(page, "jc-clerk")
    commit(page, first, 3)
    expect(current_value_cards(page, approval_url, f"{format_value(before)}件")).to_have_count(1)
    expect(page.locator('[data-testid="stMetricValue"]').filter(has_text=f"{format_value(wrong)}件")).to_have_count(0)
    history(page, approval_url)
    expect(page.locator(MAIN).get_by_text("待审核：批次 3 的数值已保存", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="审核通过并发布")).to_have_count(0)  # an uploader does not review

    # the reviewer, in another browser session, returns it with a reason
    reviewer = browser.new_page(viewport={"width": 1400, "height": 1100})
    open_deep_link(reviewer, approval_url, "history", "导入记录")
    log_in(reviewer, "jc-reviewer")
    expect(reviewer.locator(MAIN).get_by_text("有 1 个批次待审核：批次 3", exact=False)).to_be_visible()
    reviewer.get_by_role("button", name="退回").click()
    expect(reviewer.locator(MAIN).get_by_text("退回批次必须填写理由", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    reviewer.get_by_label("退回理由（必填）").fill("比上月多出的件数与受理记录不符，请核对")
    reviewer.get_by_role("button", name="退回").click()
    expect(reviewer.locator(MAIN).get_by_text("批次 3 已退回，其数值已撤下", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    assert demo(approval_store, "140500", "invention_patents", "2025-12") == before  # nothing of it stays

    # the clerk reads why on 导入记录 and uploads the corrected file
    history(page, approval_url)
    expect(page.locator(MAIN).get_by_text(re.compile(
        "^您上传的批次 3（晋城12月_错.csv）被 jc-reviewer 于 2026-11-25.*理由：比上月多出的件数与受理记录不符，请核对"))
    ).to_be_visible()
    page.screenshot(path=tmp_path / "returned.png", full_page=True)
    go(page, "数据导入", "数据导入")
    commit(page, second, 5)  # batch 4 is the rollback that returned batch 3

    # the reviewer approves; the value is published on 总览 and 指标详情
    history(reviewer, approval_url)
    expect(reviewer.locator(MAIN).get_by_text("有 1 个批次待审核：批次 5", exact=False)).to_be_visible()
    reviewer.get_by_role("button", name="审核批次 5").click()
    expect(reviewer.locator(MAIN).get_by_text("批次 5 写入的数值（1 个）")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(reviewer.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    reviewer.screenshot(path=tmp_path / "review.png", full_page=True)
    reviewer.get_by_role("button", name="审核通过并发布").click()
    expect(reviewer.locator(MAIN).get_by_text("批次 5 已审核通过并发布", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    expect(reviewer.locator(MAIN).get_by_text("已发布：jc-reviewer 于 2026-11-25", exact=False)).to_be_visible()

    expect(current_value_cards(page, approval_url, f"{format_value(right)}件")).to_have_count(1)
    go(page, "指标详情", "晋城市 · 指标详情")
    expect(page.locator(MAIN).get_by_text("待审核的数值")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    batches = Store(approval_store).query("SELECT id, review, reviewed_by, review_note FROM load_batches WHERE id >= 3 "
                                          "ORDER BY id").astype(object)
    batches = batches.where(batches.notna(), None).values.tolist()
    assert batches == [[3, "returned", "jc-reviewer", "比上月多出的件数与受理记录不符，请核对"],
                       [4, None, None, None], [5, "approved", "jc-reviewer", None]]
    trail = AuditLog(approval_accounts).query(actions=["commit", "approve", "return"])
    assert trail[["actor", "action", "target"]].values.tolist()[::-1] == [
        ["jc-clerk", "commit", "批次 3"], ["jc-reviewer", "return", "批次 3"],
        ["jc-clerk", "commit", "批次 5"], ["jc-reviewer", "approve", "批次 5"]]
