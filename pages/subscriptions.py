"""订阅管理 (admin): who gets which alerts and briefings, for which regions, by which channel; 通知记录."""

import pandas as pd
import streamlit as st

from monitor.accounts.subscriptions import (
    BRIEFING_DELIVERIES,
    KINDS,
    WEBHOOK_FORMATS,
    SubscriptionStore,
    kinds_label,
    mask_url,
    notify_log,
)
from monitor.accounts.subscriptions import regions_label as names_of
from monitor.accounts.users import Action
from monitor.errors import MonitorError
from pages import _auth as auth
from pages._context import context_or_stop
from pages._downloads import table_downloads
from pages._forms import form_key, saved
from pages._markdown import plain
from pages._tables import show_table

ctx = context_or_stop()
st.title("订阅管理")
session = auth.require(Action.ADMIN)
store = SubscriptionStore(auth.settings().accounts_path)
who = {"actor": session.username, "client": auth.client_address(), "via": session.via}
if done_text := st.session_state.pop("subscriptions_done", None):
    st.success(plain(done_text))
st.caption("定时提醒任务把自上次运行以来的变化（目标转为滞后或未达成、逾期未报送、待审核批次、带警告导入）"
           "按地区发给各订阅，每月报送截止日后发送各地区的监测简报（PDF 附件，或邮件和群机器人消息中的下载链接）。邮件服务器与系统地址在部署设置中配置"
           "（由运维人员在部署设置中配置）；每人可在「我的账户」页查看和停止自己的订阅。")

accounts = {a.username: a for a in auth.accounts().list()}
subscriptions = store.list()
show_table(pd.DataFrame([{
    "编号": s.id, "接收对象": s.label, "账户": s.username or "（不关联账户）", "地区": names_of(s.regions, ctx.regions),
    "内容": kinds_label(s), "邮箱": s.email or "", "群机器人": mask_url(s.webhook_url),
    "格式": WEBHOOK_FORMATS.get(s.webhook_format, "") if s.webhook_url else "", "状态": "启用" if s.enabled else "已停止",
    "修改": f"{s.updated_at}（{s.updated_by}）",
} for s in subscriptions], columns=["编号", "接收对象", "账户", "地区", "内容", "邮箱", "群机器人", "格式", "状态", "修改"]),
    hide_index=True, key="subscriptions_table")

provinces = [c for c in ("140000", "610000") if c in ctx.regions]
region_options = ["100000", *provinces,
                  *(c.code for p in provinces for c in ctx.regions.cities_of(p, include_groupings=False))]


def done(message: str) -> None:
    st.session_state["subscriptions_done"] = message
    st.rerun()


def fields(prefix: str, current=None) -> dict:
    """The inputs of a subscription (empty, or those of ``current``), inside the caller's form."""
    owners = ["", *accounts]
    owner = st.selectbox("账户（其地区范围限定可订阅的地区；本人可在「我的账户」页停止）", owners,
                         index=owners.index(current.username) if current and current.username in owners else 0,
                         format_func=lambda u: "（不关联账户：群机器人或公共邮箱）" if not u else
                         f"{accounts[u].label}（{u}）", key=f"{prefix}_owner")
    label = st.text_input("接收对象名称", value=current.label if current else "", key=f"{prefix}_label",
                          placeholder="例如 晋城市局数据员、山西省局工作群（留空用账户显示名）")
    options = list(dict.fromkeys([*region_options, *(current.regions if current else ())]))
    regions = st.multiselect("地区（含下辖地区；不选为全部地区，或账户的地区范围）", options,
                             default=list(current.regions) if current else [],
                             format_func=lambda c: ctx.regions[c].name, key=f"{prefix}_regions",
                             placeholder="全部地区（或账户的地区范围）")
    kinds = st.multiselect("提醒内容", list(KINDS), default=list(current.kinds) if current else list(KINDS),
                           format_func=KINDS.get, key=f"{prefix}_kinds", placeholder="请选择提醒内容")
    briefing = st.checkbox("每月监测简报（报送截止日后发送）", value=bool(current and current.briefing),
                           key=f"{prefix}_briefing")
    deliveries = list(BRIEFING_DELIVERIES)
    delivery = st.radio("简报发送方式（群机器人不能接收附件，只能发链接；打开链接需有查看权限）", deliveries,
                        format_func=BRIEFING_DELIVERIES.get, horizontal=True, key=f"{prefix}_delivery",
                        index=deliveries.index(current.briefing_delivery) if current else 0)
    email = st.text_input("邮箱（留空且不填群机器人地址时，用账户的邮箱）", value=(current.email or "") if current else "",
                          key=f"{prefix}_email")
    url = st.text_input("群机器人地址（webhook，可选）", value=(current.webhook_url or "") if current else "",
                        key=f"{prefix}_url", placeholder="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")
    formats = list(WEBHOOK_FORMATS)
    fmt = st.selectbox("群机器人消息格式", formats, format_func=WEBHOOK_FORMATS.get, key=f"{prefix}_format",
                       index=formats.index(current.webhook_format) if current and current.webhook_format else 0)
    if not email.strip() and not url.strip() and owner and accounts[owner].email:
        email = accounts[owner].email
    return {"username": owner or None, "label": label, "regions": regions, "kinds": kinds, "briefing": briefing,
            "briefing_delivery": delivery, "email": email, "webhook_url": url, "webhook_format": fmt if url.strip() else None}


new_tab, edit_tab, state_tab, log_tab = st.tabs(["新建订阅", "修改订阅", "停止/恢复/删除", "通知记录"])
new_form = form_key("subscription_new")
with new_tab, st.form(new_form):
    values = fields(new_form)
    if st.form_submit_button("新建", type="primary"):
        try:
            made = store.add(ctx.regions, **values, **who)
        except MonitorError as e:
            st.error(str(e))
        else:
            saved("subscription_new")
            done(f"已新建订阅 {made.id}（{made.label}）。")

labels = {s.id: f"{s.id}：{s.label}（{names_of(s.regions, ctx.regions)}）" for s in subscriptions}
with edit_tab:
    if not subscriptions:
        st.caption("还没有订阅。")
    else:
        chosen = st.selectbox("订阅", list(labels), format_func=labels.get, key="subscription_edit_id")
        current = next(s for s in subscriptions if s.id == chosen)
        with st.form(f"subscription_edit_{chosen}"):
            values = fields(f"subscription_edit_{chosen}", current)
            enabled = st.checkbox("启用", value=current.enabled, key=f"subscription_edit_{chosen}_enabled")
            if st.form_submit_button("保存"):
                try:
                    store.update(chosen, ctx.regions, **values, enabled=enabled, **who)
                except MonitorError as e:
                    st.error(str(e))
                else:
                    done(f"订阅 {chosen} 已保存。")

with state_tab:
    if subscriptions:
        with st.form("subscription_state"):
            chosen = st.selectbox("订阅", list(labels), format_func=labels.get, key="subscription_state_id")
            action = st.radio("操作", ["停止", "恢复", "删除"], horizontal=True, key="subscription_state_action")
            if st.form_submit_button("确定"):
                if action == "删除":
                    store.remove(chosen, **who)
                    done(f"订阅 {chosen} 已删除（已发送的记录保留在通知记录中）。")
                store.set_enabled(chosen, action == "恢复", **who)
                done(f"订阅 {chosen} 已{action}。")

with log_tab:
    log = pd.DataFrame(notify_log(auth.settings().accounts_path),
                       columns=["id", "at", "subscription_id", "label", "channel", "recipient", "subject", "items",
                                "item_keys", "attachments", "outcome", "error"])
    table = pd.DataFrame({
        "时间": log["at"], "订阅": log["subscription_id"], "接收对象": log["label"],
        "渠道": log["channel"].map({"email": "邮件", "webhook": "群机器人"}), "收件方": log["recipient"],
        "标题": log["subject"], "条数": log["items"], "附件": log["attachments"],
        "结果": log["outcome"].map({"sent": "已发送", "failed": "失败（下次重试）"}), "错误": log["error"].fillna(""),
    })
    if table.empty:
        st.caption("还没有发送过通知。定时提醒任务运行后，每条发送或失败的消息都记录在这里。")
    else:
        show_table(table, hide_index=True, key="notify_log_table")
        table_downloads(table, "通知记录", key="notify_log")
