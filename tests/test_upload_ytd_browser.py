"""An office's first upload in a real browser: a GBK 1–6月累计 table of the 11 cities on an empty
store is previewed with a verdict on every row, committed whole, and judged on 总览."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS, log_in, open_deep_link
from playwright.sync_api import Page, expect
from test_year_to_date import office_file

from monitor.domain.yeartodate import ytd_id
from monitor.store.database import Store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def empty_store(migrated_store_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("empty_served") / "monitor.duckdb"
    shutil.copyfile(migrated_store_file, path)
    return path


@pytest.fixture(scope="module")
def empty_url(empty_store, copy_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(empty_store, "empty", copy_accounts("empty")) as url:
        yield url


def test_a_year_to_date_table_loads_on_an_empty_store_through_the_page(page: Page, empty_url, empty_store, tmp_path):
    page.set_viewport_size({"width": 1440, "height": 1100})
    file = tmp_path / "2024年1-6月山西省知识产权主要指标统计表.csv"
    file.write_bytes(office_file("2024年1-6月山西省知识产权主要指标统计表", [8000 + 100 * k for k in range(11)]))

    open_deep_link(page, empty_url, "upload", "数据导入")
    log_in(page, "admin")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    expect(page.locator(MAIN).get_by_text("与数据库比较")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    cards = page.locator('[data-testid="stMetric"]')
    expect(cards).to_have_count(6, timeout=RENDER_TIMEOUT_MS)
    metrics = {m.locator('[data-testid="stMetricLabel"]').inner_text(): m.locator('[data-testid="stMetricValue"]').inner_text()
               for m in cards.all()}
    assert metrics == {"有效值": "44", "新增": "44", "修改": "0", "未变": "0", "错误": "0", "警告": "0"}
    expect(page.locator(MAIN).get_by_text("缺少该年", exact=False)).to_have_count(0)  # never refused for that
    page.screenshot(path=tmp_path / "preview.png", full_page=True)

    page.get_by_role("button", name="确认导入（新增 44，修改 0）").click()
    expect(page.locator(MAIN).get_by_text("已导入", exact=False).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    store = Store(empty_store)
    pledge = store.query("SELECT region_code, month, value FROM observations WHERE indicator_id = ?",
                         [ytd_id("pledge_amount")])
    assert len(pledge) == 11 and set(pledge["month"]) == {"2024-06"}
    assert store.query("SELECT count(*) AS n FROM observations")["n"].iloc[0] == 44
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
