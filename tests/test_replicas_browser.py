"""Two dashboard processes behind Debian's nginx (docs/deploy/ipmon-nginx.conf, served by
devtools/replicas.py over one store): browsers land on both processes and each keeps to its own
(page, websocket and upload alike), and a value one process commits is shown by a session on the
other on its next run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browsing import IDLE, MAIN, NAV, RENDER_TIMEOUT_MS, log_in, open_deep_link
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_upload_browser import demo, upload

from devtools.replicas import Deployment, deploy

pytestmark = pytest.mark.browser

# With two processes a new browser is on either with even odds: 20 browsers all on one would
# happen once in half a million runs.
MOST_BROWSERS = 20


@pytest.fixture(scope="module", params=["postgresql", "duckdb"])
def replicas_store(request) -> Path | str:
    """The deployment docs/deploy/ describes, over PostgreSQL; and, on one machine, over one DuckDB file."""
    if request.param == "duckdb":
        return request.getfixturevalue("copy_demo_store")("replicas_served")
    return request.getfixturevalue("copy_demo_postgres")("replicas_served")


@pytest.fixture(scope="module")
def deployment(replicas_store, request, tmp_path_factory) -> Iterator[Deployment]:
    if isinstance(replicas_store, Path):
        accounts = request.getfixturevalue("copy_accounts")("replicas")
    else:  # the accounts, their sessions' logins and the audit in the store's database, as every replica reads them
        from monitor.accounts.access import ACCOUNTS_SCHEMA, copy_accounts

        copy_accounts(request.getfixturevalue("accounts_template"), replicas_store, (ACCOUNTS_SCHEMA,))
        accounts = replicas_store
    with deploy(replicas_store, 2, tmp_path_factory.mktemp("replicas"), accounts) as served:
        yield served


def replica_key(context: BrowserContext) -> str:
    """The cookie nginx gave this browser on its first request."""
    return next(c["value"] for c in context.cookies() if c["name"] == "ipmon_replica")


def wait_for(condition: Callable[[], bool], timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def process_of(context: BrowserContext, deployment: Deployment) -> str:
    """The process (host:port) that answered every request of this browser, by nginx's log."""
    answered = deployment.routes()[replica_key(context)]
    assert len(answered) == 1, f"one browser's requests went to {answered}"
    return next(iter(answered))


def one_session_on_each_process(browser: Browser, deployment: Deployment, path: str, title: str) -> list[Page]:
    """New browsers open ``path`` through nginx until one has landed on each process; their pages,
    in the order of the processes."""
    landed: dict[str, Page] = {}
    for _ in range(MOST_BROWSERS):
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        open_deep_link(page, deployment.url, path, title)
        landed.setdefault(process_of(page.context, deployment), page)
        if len(landed) == len(deployment.replicas):
            break
    return [landed.get(url.removeprefix("http://")) for url in deployment.replicas]


def go(page: Page, link: str, title: str) -> None:
    """Follow a link of the sidebar: a new run of the same session (a new address would start a
    new session, logged out)."""
    page.locator(NAV).get_by_role("link", name=link).click()
    expect(page.locator(f"{MAIN} h1")).to_have_text(title, timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(IDLE)).to_be_attached(timeout=RENDER_TIMEOUT_MS)


def test_browsers_land_on_both_processes_and_each_keeps_to_its_own(browser: Browser, deployment):
    pages = one_session_on_each_process(browser, deployment, "upload", "数据导入")
    assert all(pages), f"every browser landed on one process: {deployment.routes()}"
    for page in pages:
        go(page, "报送情况", "报送情况")
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        process, key = process_of(page.context, deployment), replica_key(page.context)
        page.context.close()  # nginx logs a websocket when it closes
        websocket = f'{key} {process} 101 "GET /_stcore/stream'
        assert wait_for(lambda line=websocket: line in deployment.access_log.read_text(encoding="utf-8")), \
            f"no websocket of {key} on {process} in nginx's log"


def test_an_upload_through_one_process_is_shown_by_a_session_on_the_other_on_its_next_run(
        browser: Browser, deployment, replicas_store, tmp_path):
    clerk, viewer = one_session_on_each_process(browser, deployment, "history", "导入记录")
    assert clerk and viewer, f"every browser landed on one process: {deployment.routes()}"
    log_in(viewer, "viewer")
    expect(viewer.locator(MAIN)).not_to_contain_text("晋城10月.csv")

    # the clerk logs in on the other process: the login belongs to that browser's session there
    before = demo(replicas_store, "140500", "invention_patents", "2026-10")
    file = tmp_path / "晋城10月.csv"
    file.write_text(f"地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-10,{before + 4:.0f}\n", encoding="utf-8")
    log_in(clerk, "clerk")
    go(clerk, "数据导入", "数据导入")
    upload(clerk, file)  # the file goes through nginx to the process holding the clerk's session
    clerk.get_by_role("button", name="确认导入（新增 0，修改 1）").click()
    expect(clerk.locator(MAIN).get_by_text("已导入 晋城10月.csv：批次 3", exact=False)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    assert demo(replicas_store, "140500", "invention_patents", "2026-10") == before + 4

    # the viewer's session on the other process, still logged in, reads it on its next run
    go(viewer, "报送情况", "报送情况")
    go(viewer, "导入记录", "导入记录")
    expect(viewer.locator(MAIN).get_by_text("批次 3 写入的数值（1 个）")).to_be_visible()
    expect(viewer.locator(MAIN)).to_contain_text("晋城10月.csv")
    # the batch's one value, old and new, in the table under 「批次 3 写入的数值」
    expect(viewer.locator(MAIN)).to_contain_text(f"晋城市有效发明专利拥有量2026-10{before:.0f}{before + 4:.0f}")
    for page in (clerk, viewer):
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert process_of(clerk.context, deployment) != process_of(viewer.context, deployment)
