"""知识产权指标监测 — entry point: `streamlit run dashboard.py`."""

from pathlib import Path

import streamlit as st

from monitor.accounts.users import Action
from monitor.errors import SettingError, StoreBusyError
from pages import _auth as auth
from pages._context import busy_notice

# A local icon: a Material-icon favicon is fetched from fonts.gstatic.com, and the app must make
# no request outside the intranet.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="知识产权指标监测", page_icon=str(ICON), layout="wide")



def setting_error(error: SettingError) -> None:
    """A deployment setting (an IPMON_* variable, monitor/settings.py) that cannot be used: said in
    Chinese, naming the variable, instead of Streamlit's error page."""
    st.error(f"系统设置有误，页面无法显示：{error}。请管理员修改这一环境变量后重新启动本系统。",
             icon=":material/settings:")
    st.stop()


# Every page stays routable (a deep link to /upload asks for a login instead of "page not found");
# the menu shows only what this session may use, and each page checks again (pages/_auth.py).
try:
    session = auth.current_session()
except SettingError as e:
    setting_error(e)
can_view, can_upload, is_admin = (auth.can(a, session) for a in (Action.VIEW, Action.UPLOAD, Action.ADMIN))


def page(path: str, title: str, icon: str, url_path: str | None = None, *, shown: bool = True, **kwargs) -> st.Page:
    return st.Page(path, title=title, icon=icon, url_path=url_path, visibility="visible" if shown else "hidden",
                   **kwargs)


pages = [
    page("pages/overview.py", "总览", ":material/dashboard:", default=True),
    page("pages/indicator.py", "指标详情", ":material/show_chart:", "indicator", shown=can_view),
    page("pages/compare.py", "地区对比", ":material/bar_chart:", "compare", shown=can_view),
    page("pages/map.py", "地图", ":material/map:", "map", shown=can_view),
    page("pages/grid.py", "状态矩阵", ":material/grid_on:", "grid", shown=can_view),
    page("pages/rankings.py", "排名", ":material/leaderboard:", "rankings", shown=can_view),
    page("pages/tasks.py", "任务进度", ":material/task_alt:", "tasks", shown=can_view),
]
data_pages = [
    page("pages/upload.py", "数据导入", ":material/upload_file:", "upload", shown=can_upload),
    page("pages/history.py", "导入记录", ":material/history:", "history", shown=session is not None),
    page("pages/mappings.py", "列对应关系", ":material/link:", "mappings", shown=can_upload),
    page("pages/completeness.py", "报送情况", ":material/fact_check:", "completeness", shown=can_view),
]
admin_pages = [
    page("pages/accounts.py", "账户管理", ":material/manage_accounts:", "accounts", shown=is_admin),
    page("pages/audit.py", "审计记录", ":material/policy:", "audit", shown=is_admin),
    page("pages/subscriptions.py", "订阅管理", ":material/notifications:", "subscriptions", shown=is_admin),
    page("pages/login.py", "登录" if session is None else "我的账户", ":material/login:", "login"),
]
# reached only by the links notify sends with a monthly briefing (monitor/output/notify.py)
hidden_pages = [page("pages/briefing_file.py", "监测简报下载", ":material/picture_as_pdf:", "briefing_file", shown=False)]
navigation = st.navigation({"监测": pages, "数据管理": data_pages, "账户": [*admin_pages, *hidden_pages]}, expanded=True)
st.sidebar.title("知识产权指标监测")
# On a phone a page title in Streamlit's desk size takes a third of the first screen: smaller there,
# so 总览's status summary and its first target show without scrolling.
st.html("<style>@media (max-width: 640px) {"
        '[data-testid="stMain"] h1 {font-size: 1.55rem !important; line-height: 1.3 !important;}'
        '[data-testid="stMainBlockContainer"] {padding-top: 4.25rem !important;}}</style>')
auth.sidebar_status(session)
try:
    navigation.run()
except StoreBusyError:
    # A read while another process holds the store for a long write (an import, a demo reset):
    # the store has waited IPMON_STORE_TIMEOUT seconds; say so in Chinese instead of Streamlit's
    # error page. Pages that write catch it themselves and say what was not written.
    busy_notice()
except SettingError as e:
    setting_error(e)
