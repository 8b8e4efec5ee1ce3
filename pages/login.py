"""登录 / 我的账户: the login form (and single sign-on when configured), or who is logged in."""

import streamlit as st

from monitor.accounts.subscriptions import BRIEFING_DELIVERIES, SubscriptionStore, kinds_label, mask_url
from monitor.accounts.subscriptions import regions_label as names_of
from monitor.accounts.users import ACTION_LABELS, ROLE_LABELS, Action
from monitor.errors import MonitorError
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
    from pages._context import context_or_stop

    st.caption(auth.scope_caption(session, context_or_stop().regions))
if st.button("退出登录", key="login_logout", icon=":material/logout:"):
    auth.log_out()
    st.rerun()

st.subheader("我的订阅")
subscriptions = SubscriptionStore(auth.settings().accounts_path)
if notice := st.session_state.pop("my_subscriptions_done", None):
    st.success(notice)
mine = subscriptions.list(username=session.username)
if not mine:
    st.caption("您没有订阅提醒或简报。订阅由管理员在「订阅管理」页设置。")
else:
    from pages._context import context_or_stop

    regions = context_or_stop().regions
for sub in mine:
    with st.container(border=True, key=f"my_subscription_{sub.id}"):
        where = "、".join(x for x in (sub.email, mask_url(sub.webhook_url)) if x)
        st.markdown(f"**{plain(kinds_label(sub))}**　{plain(names_of(sub.regions, regions))}　"
                    f"发往 {plain(where)}　{'（已停止）' if not sub.enabled else ''}")
        if sub.briefing and not sub.email:  # no address to attach to: links are the only way
            st.caption("每月简报：以下载链接发送到群机器人。")
        elif sub.briefing:
            options = list(BRIEFING_DELIVERIES)
            delivery = st.radio("每月简报发送方式", options, index=options.index(sub.briefing_delivery),
                                format_func=BRIEFING_DELIVERIES.get, horizontal=True,
                                key=f"my_subscription_delivery_{sub.id}")
            if delivery != sub.briefing_delivery:
                try:
                    subscriptions.set_briefing_delivery(sub.id, delivery, actor=session.username,
                                                        owner=session.username, client=auth.client_address(),
                                                        via=session.via)
                except MonitorError as e:
                    st.error(str(e))
                else:
                    st.session_state["my_subscriptions_done"] = (f"订阅 {sub.id} 的每月简报改为"
                                                                 f"{BRIEFING_DELIVERIES[delivery]}。")
                    st.rerun()
        if st.button("停止接收" if sub.enabled else "恢复接收", key=f"my_subscription_toggle_{sub.id}"):
            try:
                subscriptions.set_enabled(sub.id, not sub.enabled, actor=session.username, owner=session.username,
                                          client=auth.client_address(), via=session.via)
            except MonitorError as e:
                st.error(str(e))
            else:
                st.session_state["my_subscriptions_done"] = f"订阅 {sub.id} 已{'停止' if sub.enabled else '恢复'}。"
                st.rerun()
