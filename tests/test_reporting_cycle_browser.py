"""The monthly reporting cycle end to end, in a real browser on a served dashboard with approval on:
a clerk uploads on 数据导入; a reviewer returns it on 导入记录 with a reason; the clerk reads the
reason, fixes the file and uploads again; the reviewer approves and the value is on 总览; then
``python -m etl notify``, run as a separate process against the served store's files, sends the
e-mail (to a local aiosmtpd server) and the webhook (to a local HTTP receiver) exactly once; and a
late correction to the closed month is refused without a reason and recorded with one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in, open_deep_link
from mailroom import Inbox
from playwright.sync_api import Browser, Page, expect
from test_approval_browser import current_value_cards, go, history
from test_upload_browser import demo, upload

from monitor.accounts.audit import AuditLog
from monitor.accounts.subscriptions import SubscriptionStore, notify_log
from monitor.domain.regions import load_regions
from monitor.store.database import Store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
JINCHENG = "140500"
# 晋城市's 地理标志商标 at the end of 2025: the demo has 10, the 2025 target (jc_gi_trademarks) is 10
GI_FILE = "地区,指标,期间,数值\n晋城,地理标志商标,2025-12,{}\n"


@pytest.fixture(scope="module")
def cycle_store(copy_demo_store):
    return copy_demo_store("reporting_cycle_served")


@pytest.fixture(scope="module")
def cycle_accounts(copy_accounts) -> Path:
    return copy_accounts("reporting_cycle", jincheng_reviewer=True)


@pytest.fixture(scope="module")
def cycle_url(cycle_store, cycle_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(cycle_store, "reporting_cycle", cycle_accounts, env={"IPMON_APPROVAL": "on"}) as url:
        yield url


def run_notify(store: Path, accounts: Path, smtp: Inbox) -> subprocess.CompletedProcess:
    """``python -m etl notify`` as cron runs it: another process, the served store's files."""
    env = dict(os.environ, IPMON_ACCOUNTS=str(accounts), IPMON_APPROVAL="on", IPMON_SMTP_HOST="127.0.0.1",
               IPMON_SMTP_PORT=str(smtp.port), IPMON_SMTP_SECURITY="none", IPMON_SMTP_FROM="ipmon@example.gov.cn",
               IPMON_PUBLIC_URL="http://ipmon.example.gov.cn:8501")
    done = subprocess.run([sys.executable, "-m", "etl", "--db", str(store), "notify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def commit_with_warning(page: Page, file: Path, batch: int, *, correction: str | None = None) -> None:
    """Upload a file whose value falls below last month's (a warning to accept, with a reason) and
    commit it; ``correction``: the reason for changing a closed month."""
    upload(page, file)
    page.locator('[data-testid="stForm"]').get_by_text("我已核对以上 1 条警告", exact=False).click()
    page.get_by_label("接受警告的理由（必填，记入批次说明和审计记录）").fill("已与市局核对，年末注销 2 件")
    if correction is not None:
        page.get_by_label(re.compile("^更正理由")).fill(correction)
    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text(f"批次 {batch}，新增 0，修改 1。该批次待审核", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)


def gi_trademarks_on_overview(page: Page, url: str):
    """总览's 当前值 of the 地理标志商标 target (the row of columns naming it)."""
    current_value_cards(page, url, "件")
    row = page.locator('[data-testid="stHorizontalBlock"]').filter(has=page.locator("strong", has_text="地理标志商标"))
    return row.locator('[data-testid="stMetricValue"]').first


def review(reviewer: Page, url: str, batch: int) -> None:
    history(reviewer, url)
    expect(reviewer.locator(MAIN).get_by_text(f"有 1 个批次待审核：批次 {batch}", exact=False)).to_be_visible()
    reviewer.get_by_role("button", name=f"审核批次 {batch}").click()
    expect(reviewer.locator(MAIN).get_by_text(f"批次 {batch} 写入的数值（1 个）")).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    expect(reviewer.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def test_the_monthly_cycle_from_upload_to_alert_and_a_late_correction(page: Page, browser: Browser, cycle_url,
                                                                      cycle_store, cycle_accounts, smtp, receiver,
                                                                      tmp_path):
    page.set_viewport_size({"width": 1400, "height": 1100})
    assert demo(cycle_store, JINCHENG, "gi_trademarks", "2025-12") == 10
    wrong, right, corrected = (tmp_path / name for name in ("晋城地标_错.csv", "晋城地标.csv", "晋城地标_更正.csv"))
    wrong.write_text(GI_FILE.format(6), encoding="utf-8")
    right.write_text(GI_FILE.format(8), encoding="utf-8")
    corrected.write_text(GI_FILE.format(9), encoding="utf-8")

    # the 晋城 clerk subscribes (e-mail and a group robot) to targets that turn 滞后 or 未达成;
    # notify's first run records the statuses and sends nothing
    SubscriptionStore(cycle_accounts).add(load_regions(), username="jc-clerk", regions=[JINCHENG], kinds=["target"],
                                          email="jc@example.gov.cn", webhook_url=receiver.url("/robot"),
                                          webhook_format="json", actor="admin")
    run_notify(cycle_store, cycle_accounts, smtp)
    assert smtp.messages == [] and receiver.posts == []

    # the clerk uploads: pending, 总览 still shows the published 10
    open_deep_link(page, cycle_url, "upload", "数据导入")
    log_in(page, "jc-clerk")
    commit_with_warning(page, wrong, 3)
    expect(gi_trademarks_on_overview(page, cycle_url)).to_have_text("10件")

    # the reviewer returns it with a reason
    reviewer = browser.new_page(viewport={"width": 1400, "height": 1100})
    open_deep_link(reviewer, cycle_url, "history", "导入记录")
    log_in(reviewer, "jc-reviewer")
    review(reviewer, cycle_url, 3)
    reviewer.get_by_label("退回理由（必填）").fill("年末注销只有 2 件，请核对")
    reviewer.get_by_role("button", name="退回").click()
    expect(reviewer.locator(MAIN).get_by_text("批次 3 已退回，其数值已撤下", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)

    # the clerk reads why, fixes the file and uploads again
    history(page, cycle_url)
    expect(page.locator(MAIN).get_by_text(re.compile(
        "^您上传的批次 3（晋城地标_错.csv）被 jc-reviewer 于 .*理由：年末注销只有 2 件，请核对"))).to_be_visible()
    go(page, "数据导入", "数据导入")
    commit_with_warning(page, right, 5)  # batch 4 is the rollback that returned batch 3

    # the reviewer approves; 总览 shows 8
    review(reviewer, cycle_url, 5)
    reviewer.get_by_role("button", name="审核通过并发布").click()
    expect(reviewer.locator(MAIN).get_by_text("批次 5 已审核通过并发布", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    expect(gi_trademarks_on_overview(page, cycle_url)).to_have_text("8件")

    # notify: the target turned 未达成; one e-mail and one robot message, and a rerun sends nothing
    run_notify(cycle_store, cycle_accounts, smtp)
    assert smtp.recipients == [["jc@example.gov.cn"]] and len(receiver.posts) == 1
    mail = smtp.texts()[0]
    assert "晋城市：地理标志商标未达成" in mail and "由「已达成」转为「未达成」" in mail
    [(path, payload)] = receiver.posts
    assert path == "/robot" and [item["kind"] for item in payload["items"]] == ["target"]
    assert payload["items"][0]["detail"]["status_label"] == "未达成"
    run_notify(cycle_store, cycle_accounts, smtp)
    assert len(smtp.messages) == 1 and len(receiver.posts) == 1
    assert [row["outcome"] for row in notify_log(cycle_accounts)] == ["sent", "sent"]

    # a late correction: December 2025 closed on 2026-02-14 (due 2026-01-15, closed 30 days later)
    go(page, "数据导入", "数据导入")
    upload(page, corrected)
    expect(page.locator(MAIN).get_by_text("本次更正已关账期间的 1 个值：2025年12月（2026年2月14日关账），属于更正",
                                          exact=False)).to_be_visible()
    page.locator('[data-testid="stForm"]').get_by_text("我已核对以上 1 条警告", exact=False).click()
    page.get_by_label("接受警告的理由（必填，记入批次说明和审计记录）").fill("已与市局核对")
    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text("更正已关账期间的数值须填写更正理由，未写入任何数据。")).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    assert Store(cycle_store).query("SELECT max(id) AS id FROM load_batches")["id"].iloc[0] == 5
    page.get_by_label(re.compile("^更正理由")).fill("市局复核：补录 1 件 12 月核准的地标商标")
    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text("批次 6，新增 0，修改 1。该批次待审核", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)

    # the reviewer sees it as a correction with its reason, and approves it
    review(reviewer, cycle_url, 6)
    expect(reviewer.locator(MAIN).get_by_text("更正理由：市局复核：补录 1 件 12 月核准的地标商标", exact=False)
           ).to_be_visible()
    reviewer.screenshot(path=tmp_path / "correction_review.png", full_page=True)
    reviewer.get_by_role("button", name="审核通过并发布").click()
    expect(reviewer.locator(MAIN).get_by_text("批次 6 已审核通过并发布", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    batches = Store(cycle_store).query("SELECT id, review, reviewed_by, review_note, correction_reason FROM "
                                       "load_batches WHERE id >= 3 ORDER BY id").astype(object)
    assert batches.where(batches.notna(), None).values.tolist() == [
        [3, "returned", "jc-reviewer", "年末注销只有 2 件，请核对", None], [4, None, None, None, None],
        [5, "approved", "jc-reviewer", None, None],
        [6, "approved", "jc-reviewer", None, "市局复核：补录 1 件 12 月核准的地标商标"]]
    trail = AuditLog(cycle_accounts).query(actions=["commit", "approve", "return", "correction"])
    assert trail[["actor", "action", "target"]].values.tolist()[::-1] == [
        ["jc-clerk", "commit", "批次 3"], ["jc-reviewer", "return", "批次 3"],
        ["jc-clerk", "commit", "批次 5"], ["jc-reviewer", "approve", "批次 5"],
        ["jc-clerk", "correction", "批次 6"], ["jc-reviewer", "approve", "批次 6"]]
    [detail] = trail[trail["action"] == "correction"]["detail"]
    assert detail.startswith("更正理由：市局复核：补录 1 件 12 月核准的地标商标；更正已关账期间的 1 个值：2025年12月")
