"""What the browser tests (*_browser.py) share: where a served page's parts are, when its run is
done, and how a person logs in and opens a page by its address. The served dashboard itself is
devtools/serving.py's (fixtures in conftest.py)."""

from __future__ import annotations

from conftest import TEST_PASSWORD
from playwright.sync_api import Page, expect

from devtools.serving import IDLE

__all__ = ["IDLE", "MAIN", "NAV", "RENDER_TIMEOUT_MS", "log_in", "menu", "open_deep_link"]

# The first run of a fresh server imports everything and evaluates the targets: seconds, not ms.
RENDER_TIMEOUT_MS = 30_000
MAIN = '[data-testid="stMain"]'
NAV = '[data-testid="stSidebarNav"]'


def log_in(page: Page, username: str, password: str = TEST_PASSWORD) -> None:
    """Fill the login form the page shows and wait for the page to run again."""
    form = page.locator('[data-testid="stForm"]')
    form.get_by_label("用户名").fill(username)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()
    expect(form).to_have_count(0, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def open_deep_link(page: Page, url: str, path: str, title: str) -> None:
    """The first visit of this fresh server is a deep link: Streamlit would fall back to listing
    pages/ by file name unless the app leaves that mode (pages/_auth.py)."""
    page.goto(f"{url}/{path}")
    expect(page.locator(f"{MAIN} h1")).to_have_text(title, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def menu(page: Page) -> list[str]:
    """The titles the sidebar's menu lists, in order."""
    return [link.inner_text().strip().split("\n")[-1] for link in page.locator(NAV).get_by_role("link").all()]
