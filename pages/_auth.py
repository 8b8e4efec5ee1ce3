"""Who is using this browser session, and what they may do: the Streamlit side of monitor/accounts/users.py.

The session lives in ``st.session_state`` (server side, never sent to the browser) and is checked
against the accounts file on every run (monitor.accounts.users.AccountStore.refresh_session): an idle
session expires, a disabled account or a changed role takes effect on the next click. Pages call
``require(Action.…)`` first: without the right, they show a login form or a refusal and stop.
"""

from __future__ import annotations

import streamlit as st

from monitor.accounts.access import AccessSettings
from monitor.accounts.audit import AuditLog
from monitor.accounts.users import (
    ACTION_LABELS,
    ROLE_LABELS,
    AccountStore,
    Action,
    Session,
    allowed_regions,
    may,
    scope_label,
)
from monitor.errors import LoginError, MonitorError
from monitor.store.outbox import AuditEntry, drain_quietly
from monitor.store.writer import Writer
from pages import _compat  # noqa: F401  (applies Streamlit's compatibility patch at import)
from pages._markdown import plain

SESSION_KEY = "_auth_session"
NOTICE_KEY = "_auth_notice"


def settings() -> AccessSettings:
    return AccessSettings.from_env()


def accounts() -> AccountStore:
    return AccountStore(settings().accounts_path)


def audit_log() -> AuditLog:
    return AuditLog(settings().accounts_path)


def audit_entry(action: str, session: Session, *, detail: str | None = None) -> AuditEntry:
    """The audit record of a write this session makes, for the core to commit with the write."""
    return AuditEntry(action, actor=session.username, detail=detail, client=client_address(), via=session.via)


def writer(session: Session, regions) -> Writer:
    """This session as the store's writer (monitor/store/writer.py): its name, the regions its scope
    covers (None: every region), and where it connects from; the writer checks the scope again
    and commits the audit record with the write."""
    return Writer(session.username, regions=allowed_regions(session.scope, regions), client=client_address(),
                  via=session.via)


def deliver_audit(store) -> str:
    """Move the records just committed to the trail; what to add to the confirmation ("" when done)."""
    if drain_quietly(store, audit_log()):
        return ""
    return "审计记录稍后补写（审计文件暂时被占用，记录已随数据保存）。"


def client_address() -> str | None:
    """The client's address as Streamlit sees the connection (None on localhost), with a proxy's
    X-Forwarded-For in brackets: kept for the audit trail, but only the connection's own address
    counts for throttling (a header is easy to forge)."""
    address = _throttle_address()
    try:
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no client context (e.g. a bare script run)
        forwarded = None
    if isinstance(forwarded, str) and forwarded:
        return f"{address or '本机'}（X-Forwarded-For: {forwarded[:100]}）"
    return address


def _throttle_address() -> str | None:
    try:
        address = st.context.ip_address
    except Exception:  # no client context (e.g. a bare script run)
        return None
    return address if isinstance(address, str) else None  # AppTest without a seeded context has no address


def sso_configured() -> bool:
    """Single sign-on is offered when secrets.toml has an ``[auth]`` section (st.login's own
    configuration) and Authlib, which st.login needs, is installed."""
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return False
    from streamlit.auth_util import is_authlib_installed

    return is_authlib_installed()


def sso_providers() -> list[str | None]:
    """[None] for one provider configured directly under [auth], else the named [auth.NAME] providers."""
    section = st.secrets["auth"]
    named = [k for k, v in section.items() if hasattr(v, "items")]
    return named or [None]


def _oidc_user() -> tuple[str, str | None] | None:
    if not sso_configured() or not st.user.get("is_logged_in"):
        return None
    return str(st.user.get("email") or ""), st.user.get("name")


def current_session() -> Session | None:
    """The logged-in session of this run, or None (not logged in, expired, disabled)."""
    session: Session | None = st.session_state.get(SESSION_KEY)
    oidc = _oidc_user()
    store = accounts()
    if session is None and oidc is not None:
        try:
            session = store.oidc_session(oidc[0], name=oidc[1], client=client_address())
        except LoginError as e:
            st.session_state[NOTICE_KEY] = str(e)
            st.logout()
    if session is not None:
        session, ended = store.refresh_session(session, idle_minutes=settings().idle_minutes,
                                               email=oidc[0] if oidc and session.via == "oidc" else None)
        if ended:
            st.session_state[NOTICE_KEY] = (f"已超过 {settings().idle_minutes:g} 分钟没有操作，登录已失效，请重新登录。"
                                            if ended == "expired" else "账户已停用，登录已结束。")
            st.session_state.pop(SESSION_KEY, None)
            if oidc is not None:
                st.logout()
            return None
    if session is not None:
        st.session_state[SESSION_KEY] = session
    return session


def can(action: Action, session: Session | None = None) -> bool:
    return may(session if session is not None else st.session_state.get(SESSION_KEY), action,
               anonymous_view=settings().anonymous_view)


def require(action: Action, *, logged_in: bool = False) -> Session | None:
    """Stop the page unless this session may do ``action`` (and is logged in, with ``logged_in``):
    not logged in → the login form; logged in without the role → a refusal (audited)."""
    session = current_session()
    if may(session, action, anonymous_view=settings().anonymous_view) and (session is not None or not logged_in):
        return session
    if session is None:
        st.warning(f"此页面需要登录：请登录有权{ACTION_LABELS[action]}的账户。", icon=":material/lock:")
        login_form()
    else:
        st.error(f"您的账户 {session.username}（{ROLE_LABELS[session.role]}）无权{ACTION_LABELS[action]}。"
                 "如需此权限，请联系管理员。", icon=":material/block:")
        audit_log().record("access_denied", actor=session.username, outcome="refused", client=client_address(),
                           via=session.via, target=action.value, detail=f"角色 {session.role}")
    st.stop()


def log_in(username: str, password: str) -> None:
    session = accounts().login(username, password, client=_throttle_address())
    st.session_state[SESSION_KEY] = session


def log_out() -> None:
    session: Session | None = st.session_state.pop(SESSION_KEY, None)
    if session is not None:
        audit_log().record("logout", actor=session.username, client=client_address(), via=session.via)
        if session.via == "oidc":
            st.logout()


def login_form() -> None:
    """User name and password, and the single sign-on button when it is configured."""
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.info(notice, icon=":material/schedule:")
    with st.form("login", clear_on_submit=True, border=True):
        st.subheader("登录")
        username = st.text_input("用户名", autocomplete="username")
        password = st.text_input("密码", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            log_in(username, password)
        except LoginError as e:
            st.error(str(e), icon=":material/error:")
        except MonitorError as e:
            st.error(f"登录失败：{plain(e)}")
        else:
            st.rerun()
    if sso_configured():
        for provider in sso_providers():
            label = "使用统一身份认证登录" + (f"（{provider}）" if provider else "")
            st.button(label, on_click=st.login, args=(provider,) if provider else (), key=f"sso_{provider or 'default'}",
                      icon=":material/badge:")


def sidebar_status(session: Session | None) -> None:
    """Who is logged in, in the sidebar, with the log-out button."""
    if session is None:
        return
    with st.sidebar.container(border=True):
        st.caption(f"已登录：**{plain(session.label)}**（{ROLE_LABELS[session.role]}）")
        if st.button("退出登录", key="sidebar_logout", icon=":material/logout:"):
            log_out()
            st.rerun()


def scope_caption(session: Session, regions) -> str:
    return f"您可导入的地区：{scope_label(session.scope, regions)}"
