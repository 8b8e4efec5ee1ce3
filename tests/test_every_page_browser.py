"""Every page in a real browser, in several states, as a visitor, a clerk and an administrator:
no raw value, no English widget text, no developer word reaches the screen.

What is read is what a person can read: the text of the page and its sidebar, the cells of every
table (the grid's accessible table holds them), placeholders and hover titles. A page fails on
"None", "nan", "NaN", a unit after a missing value (「—%」, 「—亿元」), Streamlit's English widget
words, a command line, a file path, a yaml key or an internal code (snake_case identifiers such as
target set ids), and on any exception box.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browsing import IDLE, MAIN, NAV, RENDER_TIMEOUT_MS, log_in, menu
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# url path → menu title
VIEW_PAGES = {"": "总览", "indicator": "指标详情", "compare": "地区对比", "map": "地图", "grid": "状态矩阵",
              "rankings": "排名", "tasks": "任务进度", "completeness": "报送情况", "login": "登录"}
STATES = {
    "default": "",
    "national": "target_set=national_14th_plan&region=100000",
    "province": "target_set=shanxi_14th_plan&region=140000",
    "county": "target_set=jincheng_2025&region=140500&county=140521",
}

FORBIDDEN = [
    (r"\bNone\b", "None"), (r"\bnan\b", "nan"), (r"NaN", "NaN"), (r"—\s*(%|亿元|万元|件|个)", "a unit after 「—」"),
    (r"Choose an? options?|No results|Drag and drop|Browse files|Limit \d+MB|Press Enter|No options",
     "English widget text"),
    (r"python -m|\betl\b|\bstreamlit\b", "a developer command"),
    (r"\bdata/|/tmp/|/home/|\.txt\b|\.ya?ml\b|\.duckdb\b|\.sqlite3\b", "a file path"),
    (r"\bdemo-generator\b|\bcli:[a-z]|（(?:demo|published|estimated|upload)）|\bcnmaps\b|\b([a-z][a-z0-9]*)（\1）",
     "an internal name (「demo-generator」, 「cli:root」, 「（demo）」, a package, 「admin（admin）」)"),
    (r"https?://|www\.", "a raw address (a source is cited by name, its address behind the name)"),
    (r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", "a yaml key or internal code"),
]


def visible_text(page: Page) -> str:
    """Page and sidebar text, table cells, the placeholders of empty inputs and hover titles.
    Material icons are drawn from their names (「bar_chart」 is a picture, not a word): left out."""
    return page.evaluate("""() => {
        const icons = Array.from(document.querySelectorAll('[data-testid="stIconMaterial"], [data-testid="stExpanderIcon"]'));
        const kept = icons.map(e => e.textContent);
        icons.forEach(e => { e.textContent = ''; });
        const parts = [];
        for (const sel of ['[data-testid="stMain"]', '[data-testid="stSidebar"]']) {
            const el = document.querySelector(sel);
            if (el) parts.push(el.innerText);
        }
        icons.forEach((e, i) => { e.textContent = kept[i]; });
        // a link column (its header ends in 链接) shows a word such as 「打开」; its cell holds the address
        document.querySelectorAll('[data-testid="stDataFrame"] table').forEach(t => {
            const links = new Set(Array.from(t.querySelectorAll('th')).filter(h => h.textContent.trim().endsWith('链接'))
                .map(h => h.getAttribute('aria-colindex')));
            t.querySelectorAll('td, th').forEach(c => {
                if (c.tagName === 'TH' || !links.has(c.getAttribute('aria-colindex'))) parts.push(c.textContent);
            });
        });
        document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(e => {
            // a web-address field's example is an address (企业微信's robot URL)
            const hint = e.getAttribute('placeholder');
            if (!e.value && !/^https?:\\/\\//.test(hint)) parts.push(hint);
        });
        document.querySelectorAll('[title]').forEach(e => parts.push(e.getAttribute('title')));
        return parts.join('\\n');
    }""")


def problems(text: str) -> list[str]:
    found = []
    for pattern, what in FORBIDDEN:
        for m in re.finditer(pattern, text):
            line = next(line for line in text[max(0, m.start() - 80): m.end() + 80].splitlines() if m.group(0) in line)
            found.append(f"{what}: 「{m.group(0)}」 in 「{line.strip()[:120]}」")
    return sorted(set(found))


def settled(page: Page, title: str | None = None) -> None:
    """The page has drawn its title and no script run is pending."""
    if title is not None:
        expect(page.locator(f"{MAIN} h1").first).to_contain_text(title, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stSkeleton"]')).to_have_count(0, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def checked(page: Page, where: str) -> list[str]:
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: an exception box"
    return [f"{where} · {p}" for p in problems(visible_text(page))]


@pytest.fixture(scope="module")
def pages_url(copy_demo_store, copy_accounts, serve_dashboard) -> Iterator[str]:
    with serve_dashboard(copy_demo_store("every_page_served"), "every_page", copy_accounts("every_page")) as url:
        yield url


def test_the_forbidden_words_are_found_where_they_are():
    assert problems("当前值 None　进度 —%") == ["None: 「None」 in 「当前值 None　进度 —%」",
                                            "a unit after 「—」: 「—%」 in 「当前值 None　进度 —%」"]
    assert problems("目标集 national_14th_plan") and problems("请运行 python -m etl init")
    assert problems("Choose an option") and problems("来源：data/policies/003_x.txt")
    assert problems("据 http://macaumonthly.net/news/1.html 整理") and problems("见 www.cnipa.gov.cn")
    assert problems("操作人 demo-generator") and problems("操作人 cli:root") and problems("示例数据生成器（demo）")
    assert problems("登记人：admin（admin）") and not problems("root（命令行）") and not problems("jc-clerk")
    assert problems("已达成 3　未达成 4　—") == []


@pytest.mark.parametrize("state", list(STATES))
def test_every_page_a_visitor_opens_shows_no_raw_value_english_or_developer_word(page: Page, pages_url, state):
    found = []
    query = STATES[state]
    for path, title in VIEW_PAGES.items():
        page.goto(f"{pages_url}/{path}" + (f"?{query}" if query else ""))
        expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        settled(page)
        found += checked(page, f"{state} {title}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("user", "state"), [("clerk", "default"), ("admin", "national"), ("admin", "county")])
def test_every_page_a_clerk_or_an_administrator_opens_shows_no_raw_value_english_or_developer_word(
        page: Page, pages_url, user, state):
    query = STATES[state]
    page.goto(f"{pages_url}/" + (f"?{query}" if query else ""))  # the state first: a link opens it
    settled(page)
    page.locator(NAV).get_by_role("link", name="登录").click()
    settled(page, "登录")
    log_in(page, user)
    found = []
    titles = menu(page)
    assert "导入记录" in titles and ("审计记录" in titles) == (user == "admin")
    for title in titles:
        page.locator(NAV).get_by_role("link", name=title, exact=True).click()
        settled(page)
        expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        settled(page)
        found += checked(page, f"{user} {state} {title}")
    assert not found, "\n".join(found)
