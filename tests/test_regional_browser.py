"""地图 in a real browser: the choropleth drawn (a WebGL canvas inside the plotly chart), with no
request leaving the machine, and a click on 晋城市 opening its 指标详情."""

from __future__ import annotations

import re

import pytest
from browsing import IDLE, MAIN, RENDER_TIMEOUT_MS
from playwright.sync_api import Page, expect
from shapely.geometry import shape

from monitor.domain.geo import region_shapes

pytestmark = pytest.mark.browser


def choose(page: Page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True))
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def test_the_shanxi_map_is_drawn_offline_and_a_click_on_jincheng_opens_its_detail(page: Page, dashboard_url,
                                                                                   regions, tmp_path):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        (dashboard_url, "data:", "blob:", "ws://127.0.0.1")) else None)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{dashboard_url}/map")
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    # 晋城市, as the dashboard opens: its province's cities first (a city's set is not its province's)
    expect(page.locator(f"{MAIN} h1")).to_have_text("山西省各市 · 有效发明专利拥有量", timeout=RENDER_TIMEOUT_MS)
    chart = page.locator('[data-testid="stPlotlyChart"]')
    expect(chart).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    expect(chart.locator(".gtitle")).to_contain_text("山西省各市", timeout=RENDER_TIMEOUT_MS)
    canvas = chart.locator("canvas").first
    expect(canvas).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(chart.locator(".gtitle")).to_contain_text("山西省各市有效发明专利拥有量（目标状态）")
    assert chart.locator(".legend .traces").count() >= 2  # a legend entry per status shown
    page.wait_for_function(
        "() => { const gd = document.querySelector('[data-testid=\"stPlotlyChart\"] .js-plotly-plot');"
        " const m = gd && gd._fullLayout.map && gd._fullLayout.map._subplot.map; return m && m.loaded(); }",
        timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=tmp_path / "map.png", full_page=True)

    inside = shape(next(f for f in region_shapes(regions, "140000").geojson["features"]
                        if f["id"] == "140500")["geometry"]).representative_point()
    x, y = page.evaluate(
        "([lon, lat]) => { const gd = document.querySelector('[data-testid=\"stPlotlyChart\"] .js-plotly-plot');"
        " const m = gd._fullLayout.map._subplot.map; const p = m.project([lon, lat]);"
        " const r = m.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }",
        [inside.x, inside.y])
    page.mouse.click(x, y)
    page.wait_for_url("**/indicator", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(f"{MAIN} h1")).to_have_text("晋城市 · 指标详情", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert outside == [], f"requests left the machine: {outside}"


@pytest.mark.parametrize(("path", "heading"), [("grid", "山西省各市 · 晋城市知识产权强市建设（2025年目标）"),
                                               ("rankings", "山西省各市排名 · 有效发明专利拥有量")])
def test_grid_and_rankings_pages_render_in_the_browser(page: Page, dashboard_url, tmp_path, path, heading):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{dashboard_url}/{path}")
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(f"{MAIN} h1")).to_have_text(heading, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    if path == "grid":
        expect(page.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        expect(page.locator('[data-testid="stPlotlyChart"] .heatmaplayer image, '
                            '[data-testid="stPlotlyChart"] .hm image').first).to_be_attached()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=tmp_path / f"{path}.png", full_page=True)


PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize(("agent", "fits"), [(PHONE_AGENT, True), (None, False)])
def test_on_a_phone_the_national_map_fits_the_screen_from_kashgar_to_fuyuan(browser, dashboard_url, agent, fits):
    # the westmost and eastmost points of the national map (喀什 75.99°E, 抚远 134.3°E) both lie on
    # the canvas on a phone; at a desk's zoom on the same narrow screen they do not (the test can fail)
    context = browser.new_context(viewport={"width": 390, "height": 844}, **({"user_agent": agent} if agent else {}))
    page = context.new_page()
    try:
        page.goto(f"{dashboard_url}/map?target_set=national_14th_plan")
        expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_function(
            "() => { const gd = document.querySelector('[data-testid=\"stPlotlyChart\"] .js-plotly-plot');"
            " const m = gd && gd._fullLayout.map && gd._fullLayout.map._subplot.map; return m && m.loaded(); }",
            timeout=RENDER_TIMEOUT_MS)
        inside = page.evaluate(
            "(points) => { const gd = document.querySelector('[data-testid=\"stPlotlyChart\"] .js-plotly-plot');"
            " const m = gd._fullLayout.map._subplot.map; const c = m.getCanvas();"
            " const w = c.clientWidth, h = c.clientHeight;"
            " return points.map(([lon, lat]) => { const p = m.project([lon, lat]);"
            " return p.x >= 0 && p.x <= w && p.y >= 0 && p.y <= h; }); }",
            [[75.99, 39.47], [134.3, 48.36]])
        assert all(inside) is fits, inside
    finally:
        context.close()


@pytest.mark.parametrize(("path", "heading"), [("map", "晋城市各区县 · 有效发明专利拥有量"),
                                               ("grid", "晋城市各区县 · "), ("rankings", "晋城市各区县排名")])
def test_a_county_whose_level_has_no_data_says_so_and_switches_to_the_provinces_cities_in_one_click(
        page: Page, dashboard_url, path, heading):
    # the demo has no figures for 晋城's counties: a county chosen opens its city's counties, all
    # empty, and one click compares the province's cities instead
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{dashboard_url}/{path}?target_set=jincheng_2025&region=140500&county=140521")
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(f"{MAIN} h1")).to_contain_text(heading, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text("晋城市各区县", exact=False).filter(has_text="均无")).to_be_visible()
    page.locator(MAIN).get_by_role("button", name="改看山西省各市").click()
    expect(page.locator(f"{MAIN} h1")).to_contain_text("山西省各市", timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_role("button", name="改看山西省各市")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_on_a_phone_the_overview_shows_its_status_summary_and_first_target_on_the_first_screen(browser, dashboard_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE_AGENT)
    page = context.new_page()
    try:
        page.goto(f"{dashboard_url}/")
        expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
        main = page.locator(MAIN)
        expect(main.get_by_text("有效发明专利拥有量", exact=True).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        # the summary, then the first target's card: its name and the target it is held to
        for part in (main.get_by_text("目标 7 项"), main.get_by_text("有效发明专利拥有量", exact=True).first,
                     main.get_by_text(re.compile("^目标：")).first):
            box = part.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 844, box  # inside the first screen
        assert page.locator(MAIN).get_by_text("含示例数据").count() >= 1  # the demo mark, short
    finally:
        context.close()


@pytest.mark.parametrize(("agent", "fits"), [(PHONE_AGENT, True), (None, False)])
@pytest.mark.parametrize("path", ["map?target_set=national_14th_plan", "compare?target_set=national_14th_plan"])
def test_on_a_phone_every_chart_title_lies_wholly_inside_its_figure(browser, dashboard_url, tmp_path, path, agent,
                                                                    fits):
    # plotly does not wrap a title: at a desk's figure on the same narrow screen it runs off the
    # right edge (the test can fail); a phone's figure breaks it into lines
    context = browser.new_context(viewport={"width": 390, "height": 844}, **({"user_agent": agent} if agent else {}))
    page = context.new_page()
    try:
        page.goto(f"{dashboard_url}/{path}")
        expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
        titles = page.locator('[data-testid="stPlotlyChart"] .gtitle')
        expect(titles.first).to_be_attached(timeout=RENDER_TIMEOUT_MS)
        spans = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')].map(chart => {"
            " const svg = chart.querySelector('.main-svg').getBoundingClientRect();"
            " const title = chart.querySelector('.gtitle').getBoundingClientRect();"
            " return [chart.querySelector('.gtitle').textContent, title.left >= svg.left && title.right <= svg.right"
            " && title.top >= svg.top]; })")
        page.screenshot(path=tmp_path / "phone.png", full_page=True)
        assert spans and all(inside for _, inside in spans) is fits, spans
    finally:
        context.close()
