"""监测简报下载 (hidden): the briefing a link in a notify message points at.

``python -m etl notify`` writes a linked briefing once and records a random token for it
(monitor/output/notify.py ``publish_briefing``); whoever holds the link and may view the dashboard
gets the PDF here. A token nobody was given, or one whose file is gone, is refused without naming
any path.
"""

import streamlit as st

from monitor.accounts.subscriptions import briefing_file
from monitor.accounts.users import Action
from monitor.domain.periods import format_month_cn
from pages import _auth as auth
from pages._context import context_or_stop
from pages._markdown import plain

st.title("监测简报下载")
auth.require(Action.VIEW)
found = briefing_file(st.query_params.get("token"), auth.settings().accounts_path)
if found is None:
    st.error("这个简报下载链接无效：请核对链接是否完整（消息中的整行地址），或联系管理员重新发送。",
             icon=":material/link_off:")
    st.stop()
try:
    pdf = found.path.read_bytes()
except OSError:
    st.error("这份简报的文件已不在服务器上，下载链接已失效：请在总览页生成当月简报，或联系管理员。",
             icon=":material/link_off:")
    st.stop()

regions = context_or_stop().regions
region = regions[found.region].name if found.region in regions else found.region
st.subheader(plain(found.title))
st.caption(f"地区：{plain(region)}　数据截至：{format_month_cn(found.month)}　"
           f"生成于 {found.created_at[:16]}　PDF，{len(pdf) / 1024:,.0f} KB")
st.download_button(f"下载 {region}{format_month_cn(found.month)}监测简报（PDF）", data=pdf, file_name=found.file_name,
                   mime="application/pdf", type="primary", icon=":material/download:", on_click="ignore",
                   key="briefing_file_download")
