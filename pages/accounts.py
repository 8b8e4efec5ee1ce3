"""账户管理 (admin): accounts, roles and region scopes, passwords, disabling; configuration reload."""

import pandas as pd
import streamlit as st

from monitor.accounts.access import is_postgres
from monitor.accounts.users import ROLE_LABELS, ROLES, Action, scope_label
from monitor.errors import ConfigError, MonitorError
from pages import _auth as auth
from pages._context import context_or_stop
from pages._forms import form_key, saved
from pages._markdown import plain
from pages._tables import show_table

ctx = context_or_stop()
st.title("账户管理")
session = auth.require(Action.ADMIN)
store = auth.accounts()
who = {"actor": session.username, "client": auth.client_address(), "via": session.via}
if done := st.session_state.pop("accounts_done", None):
    st.success(plain(done))
st.caption("账户与审计记录保存在数据库中与数据分开的部分，各个看板进程共用（位置见部署说明）；也可由运维人员在命令行管理。"
           if is_postgres(auth.settings().accounts_path) else
           "账户与审计记录保存在服务器上、数据库之外的独立文件中（位置见部署说明）；也可由运维人员在命令行管理。")

accounts = store.list()
show_table(pd.DataFrame([{
    "用户名": a.username, "显示名": a.display_name or "", "角色": ROLE_LABELS[a.role],
    "地区范围": scope_label(a.scope, ctx.regions), "邮箱": a.email or "",
    "状态": "启用" if a.enabled else "已停用", "密码登录": "是" if a.has_password else "否", "最近登录": a.last_login or "—",
} for a in accounts]), hide_index=True, key="accounts_table")

provinces = [c for c in ("140000", "610000") if c in ctx.regions]
scope_options = provinces + [c.code for p in provinces for c in ctx.regions.cities_of(p, include_groupings=False)]


def done(message: str) -> None:
    st.session_state["accounts_done"] = message
    st.rerun()


new_tab, role_tab, contact_tab, password_tab, state_tab, config_tab = st.tabs(
    ["新建账户", "角色与地区范围", "联系方式", "重置密码", "停用/启用", "配置"])
new_form = form_key("account_new")
with new_tab, st.form(new_form):
    username = st.text_input("用户名（英文字母、数字）", key=f"{new_form}_username")
    name = st.text_input("显示名", placeholder="例如 晋城市局数据员", key=f"{new_form}_name")
    role = st.selectbox("角色", ROLES, format_func=ROLE_LABELS.get, key=f"{new_form}_role")
    scope = st.multiselect("可导入的地区（不选为全部地区）", scope_options, format_func=lambda c: ctx.regions[c].name,
                           placeholder="全部地区", key=f"{new_form}_scope")
    email = st.text_input("邮箱（可选：催报名单与提醒用；统一身份认证登录时也按它对应到本账户）", key=f"{new_form}_email")
    password = st.text_input("初始密码（至少 10 个字符）", type="password", key=f"{new_form}_password")
    if st.form_submit_button("新建", type="primary"):
        try:
            store.add(username, password, role, scope=tuple(scope), email=email or None, display_name=name or None, **who)
        except MonitorError as e:
            st.error(str(e))
        else:
            saved("account_new")
            done(f"已新建账户 {username.strip().lower()}。")

names = [a.username for a in accounts]
with role_tab, st.form("account_role"):
    target = st.selectbox("账户", names, key="account_role_user")
    role = st.selectbox("新角色", ROLES, format_func=ROLE_LABELS.get, key="account_role_role")
    scope = st.multiselect("可导入的地区（不选为全部地区）", scope_options, format_func=lambda c: ctx.regions[c].name,
                           key="account_role_scope", placeholder="全部地区")
    if st.form_submit_button("保存"):
        if target == session.username and role != "admin":
            st.error("不能取消自己的管理员角色（以免无人可管理账户）；请由另一位管理员操作。")
        else:
            try:
                store.set_role(target, role, scope=tuple(scope), **who)
            except MonitorError as e:
                st.error(str(e))
            else:
                done(f"账户 {target}：{ROLE_LABELS[role]}，{scope_label(scope, ctx.regions)}。")

contact_form = form_key("account_contact")
with contact_tab, st.form(contact_form):
    target = st.selectbox("账户", names, key="account_contact_user")
    email = st.text_input("新邮箱（留空不改）", key=f"{contact_form}_email")
    name = st.text_input("新显示名（留空不改）", key=f"{contact_form}_name")
    if st.form_submit_button("保存"):
        try:
            account = store.set_contact(target, email=email or None, display_name=name or None, **who)
        except MonitorError as e:
            st.error(str(e))
        else:
            saved("account_contact")
            done(f"账户 {target}：邮箱 {account.email or '—'}，显示名 {account.display_name or '—'}。")

password_form = form_key("account_password")
with password_tab, st.form(password_form):
    target = st.selectbox("账户", names, key="account_password_user")
    password = st.text_input("新密码（至少 10 个字符）", type="password", key=f"{password_form}_new")
    if st.form_submit_button("重置密码"):
        try:
            store.reset_password(target, password, **who)
        except MonitorError as e:
            st.error(str(e))
        else:
            saved("account_password")
            done(f"账户 {target} 的密码已重置，失败登录计数已清除。")

with state_tab, st.form("account_state"):
    target = st.selectbox("账户", names, key="account_state_user")
    enable = st.radio("操作", ["停用", "启用"], horizontal=True) == "启用"
    if st.form_submit_button("确定"):
        if target == session.username and not enable:
            st.error("不能停用自己的账户。")
        else:
            store.set_enabled(target, enable, **who)
            done(f"账户 {target} 已{'启用' if enable else '停用'}（已登录的会话在下一次操作时结束）。")

with config_tab:
    st.caption("修改指标与目标配置后，在此重新校验并加载，无需重启服务；配置有错误时继续使用原配置。")
    if st.button("重新加载配置", key="config_reload", icon=":material/refresh:"):
        from monitor.context import open_context

        try:
            fresh = open_context()
        except (ConfigError, MonitorError) as e:
            auth.audit_log().record("config_reload", outcome="refused", detail=str(e)[:1000], **who)
            st.error("配置有错误，未加载（继续使用原配置）：")
            st.code(str(e), language=None)
        else:
            st.cache_data.clear()
            st.cache_resource.clear()
            auth.audit_log().record("config_reload", detail=f"{len(fresh.config.indicators)} 个指标，"
                                    f"{len(fresh.config.target_sets)} 个目标集", **who)
            done(f"配置已重新加载：{len(fresh.config.indicators)} 个指标，{len(fresh.config.target_sets)} 个目标集。")
