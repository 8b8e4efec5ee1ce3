"""列对应关系: the saved mappings of unknown columns to indicators (etl/mappings.py). An administrator
sees, edits and deletes every one; an uploader their own. Every change is audited."""

import streamlit as st

from etl.mappings import EVERYONE, SKIP_LABEL, MappingStore, mappings_frame, owner_label
from etl.units import units_convertible_to
from monitor.accounts.users import Action
from monitor.errors import MonitorError
from pages import _auth as auth
from pages._context import context_or_stop
from pages._markdown import plain
from pages._tables import show_table

SKIP = "__skip__"
ctx = context_or_stop()
st.title("列对应关系")
session = auth.require(Action.UPLOAD)
admin = session.role == "admin"
store = MappingStore(auth.settings().accounts_path)
who = {"actor": session.username, "client": auth.client_address(), "via": session.via}
if done := st.session_state.pop("mappings_done", None):
    st.success(plain(done))
st.caption("导入文件时，对未识别的列选择的指标和单位。以后表头相同的文件（标题、工作表名和列的顺序可以不同）自动按此导入。"
           "上传员保存的只用于其本人的上传，管理员保存的用于所有人的上传。"
           + ("" if admin else "您可修改或删除自己的对应关系；适用于所有人的由管理员维护。"))

mappings = [m for m in store.list() if admin or m.owner in (EVERYONE, session.username)]
if not mappings:
    st.info("还没有列对应关系。在「数据导入」上传含未识别列的文件时即可保存。")
    st.stop()
show_table(mappings_frame(mappings, ctx.config), hide_index=True, key="mappings_table")

editable = {m.id: m for m in mappings if admin or m.owner == session.username}
if not editable:
    st.stop()
chosen = editable[st.selectbox("修改或删除", list(editable), key="mappings_chosen",
                               format_func=lambda i: f"{i}：{editable[i].describe(ctx.config)}（{owner_label(editable[i].owner)}）")]
options = [SKIP] + [i.id for i in ctx.config.indicators if i.kind != "derived"]
current = chosen.indicator_id if chosen.indicator_id in options else SKIP
c1, c2, c3 = st.columns([3, 1.2, 2])
indicator = c1.selectbox("指标", options, index=options.index(current), key=f"mappings_indicator_{chosen.id}",
                         format_func=lambda o: SKIP_LABEL if o == SKIP else
                         f"{ctx.config.indicator(o).name}（{ctx.config.indicator(o).unit}）")
unit = None
if indicator != SKIP:
    units = units_convertible_to(ctx.config.indicator(indicator).unit)
    unit = c2.selectbox("该列数值的单位", units, key=f"mappings_unit_{chosen.id}_{indicator}",
                        index=units.index(chosen.unit) if chosen.unit in units else
                        units.index(ctx.config.indicator(indicator).unit))
owner = chosen.owner
if admin:
    owners = [EVERYONE] + ([chosen.owner] if chosen.owner != EVERYONE else [])
    owner = c3.radio("适用于", owners, format_func=lambda o: "所有人的上传" if o == EVERYONE else f"仅 {o} 的上传",
                     key=f"mappings_owner_{chosen.id}", horizontal=True)
b1, b2, b3 = st.columns([1, 2, 1], vertical_alignment="center")
if b1.button("保存修改", key="mappings_save", type="primary"):
    try:
        store.update(ctx.config, chosen.id, indicator=None if indicator == SKIP else indicator, unit=unit, owner=owner,
                     **who)
    except MonitorError as e:
        st.error(plain(e))
    else:
        st.session_state["mappings_done"] = f"列对应关系 {chosen.id} 已修改。"
        st.rerun()
sure = b2.checkbox("我确认删除这条对应关系（以后该列不再自动导入）", key="mappings_confirm")
if b3.button("删除", key="mappings_remove", disabled=not sure):
    store.remove(ctx.config, chosen.id, **who)
    st.session_state["mappings_done"] = f"列对应关系 {chosen.id} 已删除。"
    st.rerun()
