"""A 「—」 in a page table says why it is missing: hovering over its column's header shows the reason
(pages/_tables.show_table)."""

from __future__ import annotations

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_hovering_over_a_column_of_dashes_shows_why_the_values_are_missing(page: Page, dashboard_url, tmp_path):
    # 晋城市's counties have no data: every cell of the ranking but the names is 「—」
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{dashboard_url}/rankings")
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    page.locator(MAIN).get_by_text("晋城市各区县", exact=True).click()
    expect(page.locator(f"{MAIN} h1")).to_have_text("晋城市各区县排名 · 有效发明专利拥有量", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    tip = page.locator('[data-testid="stDataFrameTooltipContent"]')
    page.mouse.move(box["x"] + 30, box["y"] + 17)  # the header of 排名, the first column
    expect(tip).to_have_text("「—」：没有数值，不参与排名", timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=tmp_path / "reason.png")
    page.mouse.move(box["x"] + 230, box["y"] + 17)  # 数值
    expect(tip).to_have_text("「—」：该地区截至所选月份没有此指标的数值", timeout=RENDER_TIMEOUT_MS)
