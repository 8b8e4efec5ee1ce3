"""数据导入 in a real browser with the national office's table as old Excel (.xls, data on the
second sheet): the uploader takes the file, the sheet is chosen, the preview reads the bilingual
table, and the commit writes the 31 provinces and 全国 (on its own copy of the demo store)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in, open_deep_link
from playwright.sync_api import Page, expect
from test_upload_shapes import INDICATORS, MONTH, PROVINCES, demo_figures, national_rows, national_values, write_xls

from monitor.store.database import Store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shapes_store(copy_demo_store):
    return copy_demo_store("shapes_served")


@pytest.fixture(scope="module")
def shapes_url(shapes_store, copy_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(shapes_store, "shapes", copy_accounts("shapes")) as url:
        yield url


def test_a_national_office_xls_table_is_chosen_previewed_and_committed(page: Page, shapes_url, shapes_store, tmp_path):
    page.set_viewport_size({"width": 1440, "height": 1100})
    values = national_values(demo_figures(shapes_store))
    file = write_xls(national_rows(values), tmp_path / "表3-2025年各地区有效发明专利.xls")
    # what the demo store already holds decides new / changed / unchanged
    held = Store(shapes_store).query("SELECT region_code, indicator_id, value FROM observations WHERE month = ?", [MONTH])
    before = {(r, i): float(v) for r, i, v in held.itertuples(index=False)}
    new = sum(key not in before for key in values)
    unchanged = sum(key in before and abs(before[key] - v) < 1e-9 for key, v in values.items())
    changed = len(values) - new - unchanged

    open_deep_link(page, shapes_url, "upload", "数据导入")
    log_in(page, "clerk")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    # two sheets: the first is a note, the table is on 「表3」
    sheet_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="工作表")
    expect(sheet_box).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    sheet_box.click()
    page.get_by_role("option", name="表3").click()
    expect(page.locator(MAIN).get_by_text("旧版 Excel 工作簿（.xls），工作表「表3」（共 2 个工作表）", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("期间 2025年（来自标题，记为 2025-12）", exact=False)).to_be_visible()
    cards = page.locator('[data-testid="stMetric"]')
    expect(cards).to_have_count(6, timeout=RENDER_TIMEOUT_MS)
    expect(cards.filter(has_text="新增").locator('[data-testid="stMetricValue"]')).to_have_text(str(new))
    metrics = {m.locator('[data-testid="stMetricLabel"]').inner_text(): m.locator('[data-testid="stMetricValue"]').inner_text()
               for m in cards.all()}
    assert metrics == {"有效值": "64", "新增": str(new), "修改": str(changed), "未变": str(unchanged), "错误": "0",
                       "警告": "0"}
    assert unchanged >= 6  # 全国, 山西 and 陕西 repeat the demo's figures
    page.screenshot(path=tmp_path / "preview.png", full_page=True)

    page.get_by_role("button", name=re.compile("^确认导入")).click()
    expect(page.locator(MAIN).get_by_text("已导入", exact=False).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    frame = Store(shapes_store).query("SELECT region_code, indicator_id, value FROM observations WHERE month = ?",
                                      [MONTH])
    regions = {"100000", *(code for _, _, code in PROVINCES)}
    got = {(r, i): v for r, i, v in frame.itertuples(index=False) if r in regions and i in INDICATORS}
    assert got == values
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
