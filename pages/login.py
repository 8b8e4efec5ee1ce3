"""登录 / 我的账户: the login form (and single sign-on when configured), or who is logged in."""

import streamlit as st

from monitor.accounts import ACTION_LABELS, ROLE_LABELS, Action
from pages import _auth as auth
from pages._markdown import plain

session = auth.current_session()
if session is None:
    st.title("登录")
    settings = auth.settings()
    st.caption("查看各页面" + ("无需登录；" if settings.anonymous_view else "需要登录；") +
               "导入、回滚数据和管理功能需要登录。账户由管理员在「账户管理」页创建，请联系本单位管理员。")
    auth.login_form()
    st.stop()

st.title("我的账户")
st.markdown(f"**{plain(session.label)}**（用户名 {plain(session.username)}）　角色：{ROLE_LABELS[session.role]}　"
            f"登录方式：{'统一身份认证' if session.via == 'oidc' else '用户名和密码'}")
rights = [ACTION_LABELS[a] for a in Action if auth.can(a, session)]
st.caption("可以：" + "、".join(rights) + f"。登录于 {session.started_at:%Y-%m-%d %H:%M}；"
           f"超过 {auth.settings().idle_minutes:g} 分钟无操作将自动退出。")
if session.scope:
    from pages._shared import context_or_stop

    st.caption(auth.scope_caption(session, context_or_stop().regions))
if st.button("退出登录", key="login_logout", icon=":material/logout:"):
    auth.log_out()
    st.rerun()
