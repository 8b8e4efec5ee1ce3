"""A read page while another process holds the store for a long write (a national import, a demo
reset): the page waits a bounded time (IPMON_STORE_TIMEOUT), then says so in Chinese, never
Streamlit's English error page; once the writer is done the next run shows the data again."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from test_concurrency import hold, let_go
from test_pages import ROOT, new_app, shown, texts

BUSY = "数据库正忙（正在导入），请稍后刷新"


def test_a_read_page_on_a_store_held_by_another_process_says_it_is_busy_in_chinese(copy_demo_store, monkeypatch,
                                                                                    fresh_streamlit_caches):
    path = copy_demo_store("busy_store")
    monkeypatch.setenv("IPMON_DB", str(path))
    monkeypatch.setenv("IPMON_STORE_TIMEOUT", "1")
    app = new_app()  # 总览, opened while the store is free
    assert app.title[0].value.startswith("晋城市")
    writer = hold(path)
    try:
        app.run()
        assert not app.exception, [e.message for e in app.exception]
        assert BUSY in texts(app.error)[0]
    finally:
        let_go(writer)
    shown(app.run())
    assert not app.error and app.title[0].value.startswith("晋城市")


def test_the_first_visit_while_the_store_is_held_says_it_is_busy_too(copy_demo_store, monkeypatch,
                                                                     fresh_streamlit_caches):
    path = copy_demo_store("busy_first")
    monkeypatch.setenv("IPMON_DB", str(path))
    monkeypatch.setenv("IPMON_STORE_TIMEOUT", "1")
    writer = hold(path)
    try:
        app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
        assert not app.exception, [e.message for e in app.exception]
        assert BUSY in texts(app.error)[0]
    finally:
        let_go(writer)
