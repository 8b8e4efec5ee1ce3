"""数据导入 in a real browser: a GBK wide CSV chosen in the file dialog is previewed with the right
values, committed, and listed on 导入记录; an unknown column is mapped once and next month's file
loads without asking; accepting warnings takes a reason that 导入记录 and 审计记录 show; the
uploader shows no English. On a served dashboard with its own store and accounts file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in, open_deep_link
from playwright.sync_api import Page, expect

from monitor.accounts.audit import AuditLog
from monitor.store.database import Store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def upload_store(copy_demo_store):
    return copy_demo_store("upload_served")


@pytest.fixture(scope="module")
def upload_accounts(copy_accounts) -> Path:
    return copy_accounts("upload")


@pytest.fixture(scope="module")
def upload_url(upload_store, upload_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(upload_store, "upload", upload_accounts) as url:
        yield url


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
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    committed_page_is_clean(page)
    after = Store(upload_store).query("SELECT value, origin FROM observations WHERE region_code = '140500' AND "
                                      "indicator_id = 'invention_patents' AND month = '2026-10'")
    assert after.values.tolist() == [[before + 4, "upload"]]

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="导入记录").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("导入记录", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("批次 3 写入的数值（1 个）")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert outside == [], f"requests left the machine: {outside}"


def committed_page_is_clean(page: Page) -> None:
    """After a commit: one message, the success; the uploader empty; no preview of the file again."""
    alerts = page.locator(f'{MAIN} [data-testid="stAlert"]')
    expect(alerts).to_have_count(1)
    expect(page.locator(f'{MAIN} [data-testid="stAlertContentSuccess"]')).to_have_count(1)
    expect(page.locator('[data-testid="stFileChip"]')).to_have_count(0)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.locator(MAIN).get_by_text("与数据库比较")).to_have_count(0)


def upload(page: Page, file: Path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    expect(page.locator(MAIN).get_by_text("与数据库比较")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(6, timeout=RENDER_TIMEOUT_MS)


def expect_metrics(page: Page, **values: str) -> None:
    """The metric cards say these values (waiting while a run redraws them)."""
    for label, value in values.items():
        card = page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')
        expect(card).to_have_text(value, timeout=RENDER_TIMEOUT_MS)


def demo(store: Path, region: str, indicator: str, month: str) -> float:
    return float(Store(store).query("SELECT value FROM observations WHERE region_code = ? AND indicator_id = ? "
                                    "AND month = ?", [region, indicator, month])["value"].iloc[0])


def test_an_unknown_column_is_mapped_once_and_next_months_file_loads_without_asking(page: Page, upload_url,
                                                                                   upload_store, upload_accounts,
                                                                                   tmp_path):
    page.set_viewport_size({"width": 1440, "height": 900})

    def month_file(month: str, title: str, columns: list[str]) -> Path:
        cells = {"有效发明专利（件）": f"{demo(upload_store, '140200', 'invention_patents', month):.0f}",
                 "专利质押笔数": f"{demo(upload_store, '140200', 'pledge_projects', month) + 1:.0f}"}
        path = tmp_path / f"大同{month}.csv"
        path.write_bytes(f"{title}\n地区,{','.join(columns)}\n大同市,{','.join(cells[c] for c in columns)}\n"
                         .encode("gbk"))
        return path

    open_deep_link(page, upload_url, "upload", "数据导入")
    log_in(page, "clerk")
    upload(page, month_file("2026-09", "2026年9月大同市知识产权主要指标", ["有效发明专利（件）", "专利质押笔数"]))
    expect_metrics(page, 警告="1")  # the unknown column
    mapping = page.locator(".st-key-upload_mapping")
    expect(mapping.get_by_text("「专利质押笔数」", exact=True)).to_be_visible()
    mapping.locator('[data-testid="stSelectbox"]').first.click()
    page.keyboard.type("质押融资项目数")
    page.get_by_role("option", name="知识产权质押融资项目数（项）").click()
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=tmp_path / "mapping.png")
    mapping.get_by_role("button", name="保存对应关系并重新预检").click()
    expect(page.locator(MAIN).get_by_text("按已保存的列对应关系：「专利质押笔数」→ 指标「知识产权质押融资项目数」（项）")) \
        .to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(".st-key-upload_mapping")).to_have_count(0)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect_metrics(page, 警告="0", 修改="1")
    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text("已导入 大同2026-09.csv", exact=False)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    committed_page_is_clean(page)

    # next month: another title, the columns in another order; nothing is asked
    before = demo(upload_store, "140200", "pledge_projects", "2026-10")
    upload(page, month_file("2026-10", "大同市知识产权月报（2026年10月）", ["专利质押笔数", "有效发明专利（件）"]))
    expect(page.locator(".st-key-upload_mapping")).to_have_count(0)
    expect_metrics(page, 警告="0", 修改="1", 未变="1")
    page.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(page.locator(MAIN).get_by_text("已导入 大同2026-10.csv", exact=False)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    assert demo(upload_store, "140200", "pledge_projects", "2026-10") == before + 1
    saved = AuditLog(upload_accounts).query(actions=["mapping_add"])
    assert saved[["actor", "target"]].values.tolist() == [["clerk", "列对应关系 1"]]


def test_accepting_warnings_takes_a_reason_shown_on_the_history_and_audit_pages(page: Page, upload_url, upload_store,
                                                                               tmp_path):
    page.set_viewport_size({"width": 1440, "height": 900})
    tripled = demo(upload_store, "140400", "invention_patents", "2026-10") * 3
    file = tmp_path / "长治10月.csv"
    file.write_bytes(f"2026年10月长治市知识产权主要指标\n地区,有效发明专利（件）\n长治市,{tripled:.0f}\n".encode("gbk"))
    open_deep_link(page, upload_url, "upload", "数据导入")
    log_in(page, "admin")
    upload(page, file)
    expect_metrics(page, 警告="1")  # an outlier
    # the check table: the value as typed and converted, with units
    expect(page.locator(MAIN).get_by_text(f"{tripled:.0f} 件", exact=True)).to_be_attached()
    expect(page.locator(MAIN).get_by_text(f"{tripled:,.0f} 件", exact=True)).to_be_attached()
    form = page.locator('[data-testid="stForm"]')
    commit = form.get_by_role("button", name="确认导入", exact=False)
    form.get_by_text("我已核对以上 1 条警告", exact=False).click()
    page.screenshot(path=tmp_path / "before_commit.png")
    commit.click()  # no reason
    expect(page.locator(MAIN).get_by_text("接受警告前，请勾选「我已核对……」并填写理由。")).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    assert demo(upload_store, "140400", "invention_patents", "2026-10") != tripled
    expect(form.get_by_role("checkbox", name="我已核对以上 1 条警告，确认数值无误")).to_be_checked()  # kept
    form.get_by_label("接受警告的理由（必填，记入批次说明和审计记录）").fill("长治市局：10月集中授权一批专利")
    commit.click()
    expect(page.locator(MAIN).get_by_text("已导入 长治10月.csv", exact=False)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    committed_page_is_clean(page)
    page.screenshot(path=tmp_path / "after_commit.png")
    assert demo(upload_store, "140400", "invention_patents", "2026-10") == tripled

    note = "接受 1 条警告：长治市局：10月集中授权一批专利"
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="导入记录").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("导入记录", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text(note, exact=False).first).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stCaptionContainer"]').filter(has_text=note)).to_have_count(1)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="审计记录").click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("审计记录", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text(note, exact=False).first).to_be_attached(timeout=RENDER_TIMEOUT_MS)


# The text a person sees in an element: its text nodes drawn at a size and inside the page, and the
# text the page's CSS puts after elements (pages/_upload_form.py); icon ligatures are glyphs.
SEEN_TEXT = """e => {
  const seen = [];
  const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode, parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest('[data-testid="stIconMaterial"]')) continue;
    const style = getComputedStyle(parent), box = parent.getBoundingClientRect();
    if (style.visibility !== 'visible' || parseFloat(style.fontSize) === 0 || box.width <= 1 || box.height <= 1) continue;
    seen.push(node.textContent.trim());
  }
  for (const el of e.querySelectorAll('*')) {
    const after = getComputedStyle(el, '::after').content;
    if (after.startsWith('"') && el.getBoundingClientRect().width > 1) seen.push(JSON.parse(after));
  }
  return seen;
}"""


def test_the_uploader_speaks_chinese_and_shows_the_real_limit(page: Page, upload_url, tmp_path):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_deep_link(page, upload_url, "upload", "数据导入")
    log_in(page, "clerk")
    uploader = page.locator('[data-testid="stFileUploader"]')

    def seen() -> list[str]:
        return uploader.evaluate(SEEN_TEXT)

    # after the login's rerun the page's style element may be mounted a moment after the uploader:
    # wait until the words are the page's, then hold them to what a person sees
    page.wait_for_function(f"() => {{ const e = document.querySelector('[data-testid=\"stFileUploader\"]'); "
                           f"return e && ({SEEN_TEXT})(e).includes('单个文件不超过 50 MB，支持 CSV、XLSX、XLS'); }}", timeout=RENDER_TIMEOUT_MS)
    assert seen() == ["选择文件", "选择文件", "单个文件不超过 50 MB，支持 CSV、XLSX、XLS"]
    dragged = page.evaluate_handle("() => { const d = new DataTransfer(); "
                                   "d.items.add(new File(['x'], 'a.csv', {type: 'text/csv'})); return d; }")
    page.dispatch_event('[data-testid="stFileUploaderDropzone"]', "dragenter", {"dataTransfer": dragged})
    expect(uploader.get_by_text("Drag and drop", exact=False)).to_be_attached()  # drawn, and replaced
    assert "松开鼠标即可上传" in seen()
    page.dispatch_event('[data-testid="stFileUploaderDropzone"]', "dragleave", {"dataTransfer": dragged})

    big = tmp_path / "big.csv"
    with big.open("wb") as out:
        out.truncate(50 * 1048576 + 1)  # one byte over: refused by the uploader before it is sent
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
    expect(page.locator('[data-testid="stFileChip"][aria-invalid="true"]')).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    assert seen() == ["选择文件", "big.csv", "未能上传：文件超过 50 MB，或不是 CSV、XLSX、XLS 文件"]
    page.screenshot(path=tmp_path / "refused.png")
    page.locator('[data-testid="stFileChipDeleteBtn"] button').click()  # still clickable under the hidden tooltip
    expect(page.locator('[data-testid="stFileChip"]')).to_have_count(0)

    taken = tmp_path / "晋城.csv"
    taken.write_bytes("2026年10月\n地区,有效发明专利（件）\n晋城,1\n".encode("gbk"))
    upload(page, taken)
    assert seen() == ["选择文件", "晋城.csv"]  # its size ("45.0B") is not shown
    assert re.search(r"\d+(\.\d+)?B", uploader.text_content())  # the size is there, hidden
    assert not [t for t in seen() if re.search(r"[A-Za-z]", t.replace(".csv", "").replace("CSV、XLSX、XLS", "")
                                                 .replace("MB", ""))]
