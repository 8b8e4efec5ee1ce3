"""The opened context every page reads: the store, config and regions, opened once per server
process, and the view of it a page run reads (the store's version and the published day).

Reads are cached per store version (pages/_caches.py), so a commit made anywhere (another session,
the CLI) shows up on the next rerun without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import streamlit as st

from monitor.accounts.users import Action
from monitor.context import Context, open_context
from monitor.errors import ConfigError, StoreBusyError, StoreError
from monitor.store.history import end_of_day
from monitor.store.readings import read_readings, with_readings
from pages import _auth


@st.cache_resource(show_spinner="正在打开数据库……")
def get_context() -> Context:
    return open_context()


BUSY = "数据库正忙（正在导入），请稍后刷新"


def busy_notice() -> None:
    """What a page says when the store stayed held by another process's write for the whole wait."""
    st.error(f"{BUSY}。另一个程序正在写入数据库（例如导入一个大文件），本页等待后仍未能读取；"
             "导入完成后刷新本页即可看到数据。", icon=":material/hourglass_top:")


def context_or_stop() -> Context:
    """The opened context, once this session may view (pages/_auth.py); else the page stops."""
    _auth.require(Action.VIEW)
    try:
        return get_context()
    except ConfigError as e:
        st.error("指标配置文件有错误，系统无法启动：")
        st.code(str(e), language=None)
        st.stop()
    except StoreBusyError:
        busy_notice()
        st.stop()
    except StoreError as e:
        st.error(f"数据库无法打开：{e}")
        st.stop()


@dataclass(frozen=True)
class DataView:
    """The cache key of everything a page reads: the store's version, and the day whose published
    state is shown (None: the latest data). A commit anywhere bumps the version, so open pages
    show new data on their next run without a restart."""

    version: int
    published_on: date | None = None


def data_version() -> DataView:
    """The first read of every read page: a store held by another process's long write is said
    here, in Chinese, after the store's wait (a later read that meets one is caught in dashboard.py)."""
    try:
        version = context_or_stop().store.data_version()
    except StoreBusyError:
        busy_notice()
        st.stop()
    return DataView(version, st.session_state.get("_kept_published_on"))


def view_context(view: DataView | int) -> Context:
    """The context whose store reads as published at the end of ``view.published_on``, evaluating
    the readings an administrator chose (monitor/store/readings.py; choosing one bumps the version)."""
    ctx = get_context()
    ctx = with_readings(ctx, chosen_readings(view) if isinstance(view, DataView) else None)
    if isinstance(view, DataView) and view.published_on is not None:
        return replace(ctx, store=ctx.store.as_published(end_of_day(view.published_on)))
    return ctx


@st.cache_data(show_spinner=False, max_entries=64)
def chosen_readings(version: DataView) -> dict[str, str]:
    """The readings an administrator chose; choosing one is a write, so the version moves on."""
    return read_readings(get_context().store)


# a phone's browser says so in its User-Agent ("Mobile", and "Android" tablets without it are wide)
PHONE_MAP_WIDTH_PX = 340
PHONE_TITLE_WIDTH_PX = 350  # a chart's width at 390 px, less a little: a title line fits in it


def phone_screen() -> bool:
    """Whether this page is shown on a phone: a map is then fitted to a phone's width, not a desk's."""
    agent = st.context.headers.get("User-Agent") or ""
    return "Mobile" in agent or "iPhone" in agent


def for_screen(figure):
    """The figure as this screen shows it: on a phone its title broken into lines that fit (plotly
    does not wrap a title); exports keep the desk's figure."""
    from monitor.views.charts import fit_title

    return fit_title(figure, PHONE_TITLE_WIDTH_PX) if phone_screen() else figure
