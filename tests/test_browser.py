"""The dashboard in a real browser: `streamlit run dashboard.py` served on a free local port and
driven with Playwright through Debian's chromium (never a downloaded one: devtools/serving.py, docs/decisions.md D10,
conftest.py). What AppTest cannot show is checked here: the page as drawn, and a plotly chart
actually rendered to SVG.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS
from playwright.sync_api import Page, expect

from monitor.evaluation import Status
from monitor.store.milestones import TaskStatus

JINCHENG_INDICATORS = ["有效发明专利拥有量", "每万人口发明专利拥有量", "有效注册商标量", "地理标志商标", "地理标志保护产品",
                       "农产品地理标志登记", "作品著作权登记量"]

pytestmark = pytest.mark.browser


def open_overview(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(f"{MAIN} h1")).to_have_text("晋城市 · 晋城市知识产权强市建设（2025年目标）",
                                                    timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG file"
    return struct.unpack(">II", data[16:24])


def test_overview_shows_the_jincheng_title_and_seven_target_cards(page: Page, dashboard_url, tmp_path):
    open_overview(page, dashboard_url)
    # 「**指标**　<span>状态</span>」 per card; not the status summary above them (「**目标 7 项**　…」)
    headings = page.locator(f"{MAIN} p:has(> strong + span)").filter(has_not_text=re.compile(r"^(目标|任务) \d+ 项"))
    expect(headings).to_have_count(7 + 18)  # the seven targets, then the plan's 18 tasks
    assert [h.locator("strong").inner_text() for h in headings.all()][:7] == JINCHENG_INDICATORS
    # targets in the target vocabulary, tasks in the task vocabulary (已完成, 逾期, 未报告 …)
    words = [h.locator("span").inner_text() for h in headings.all()]
    assert set(words[:7]) <= {s.value for s in Status} and set(words[7:]) <= {t.value for t in TaskStatus}
    expect(page.locator(MAIN).get_by_text("原文：「", exact=False)).to_have_count(7 + 18)  # the clause of each card
    expect(page.locator(MAIN).get_by_text("示例数据", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    shot = tmp_path / "overview.png"
    page.screenshot(path=shot)
    assert png_size(shot) == (page.viewport_size["width"], page.viewport_size["height"])
    assert shot.stat().st_size > 50_000  # drawn content: a blank page this size compresses to a few KB


def test_indicator_page_draws_its_plotly_chart(page: Page, dashboard_url):
    open_overview(page, dashboard_url)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="指标详情").click()
    page.wait_for_url("**/indicator")
    expect(page.locator(f"{MAIN} h1")).to_have_text("晋城市 · 指标详情", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    chart = page.locator('[data-testid="stPlotlyChart"]')
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(chart.locator(".gtitle")).to_contain_text("晋城市 · 有效发明专利拥有量")
    expect(chart.locator(".scatterlayer .trace").first).to_be_attached()
    assert chart.locator(".scatterlayer .trace").count() >= 3  # the series, its markers and the target
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_the_chart_png_button_downloads_a_2x_image_of_the_chart(page: Page, dashboard_url, tmp_path):
    open_overview(page, dashboard_url)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="指标详情").click()
    page.wait_for_url("**/indicator")
    expect(page.locator(f"{MAIN} h1")).to_have_text("晋城市 · 指标详情", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    with page.expect_download(timeout=RENDER_TIMEOUT_MS) as download_info:
        page.locator(".st-key-detail_chart_png").get_by_role("button", name="PNG").click()
    download = download_info.value
    assert download.suggested_filename == "晋城市_有效发明专利拥有量_2026-10.png"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    # EXPORT_WIDTH 1000 and the chart's 420 px with the slide footer (region, set, month, sources) below it, twice
    width, height = png_size(saved)
    assert width == 2000 and height % 2 == 0 and 2 * (420 + 36) <= height <= 2 * (420 + 120)
    assert saved.stat().st_size > 50_000


def test_the_overview_briefing_button_downloads_the_a4_pdf_briefing(page: Page, dashboard_url, tmp_path):
    open_overview(page, dashboard_url)
    page.locator(".st-key-briefing_build").get_by_role("button", name="生成监测简报（PDF）").click()
    # the steps are shown while it builds, then the status says it is done
    expect(page.get_by_text("评估目标状态")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("监测简报已生成")).to_be_visible(timeout=90_000)  # a whole briefing: seconds
    with page.expect_download(timeout=30_000) as download_info:
        page.locator(".st-key-briefing_pdf").get_by_role("button", name="下载监测简报（PDF）").click()
    download = download_info.value
    assert download.suggested_filename == "简报_晋城市_jincheng_2025_2026-10.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True).stdout
    assert "晋城市知识产权强市建设目标监测简报（数据截至2026年10月）" in "".join(text.split())
    assert "有效发明专利拥有量" in text
