"""指标详情: one region's indicator over time against its target."""

import streamlit as st

from monitor.accounts.users import Action, allowed_regions
from monitor.domain.config import MilestoneTarget
from monitor.domain.yeartodate import YTD_SUFFIX
from monitor.errors import MonitorError
from monitor.store.approval import PENDING_LABEL, pending_values
from monitor.store.notes import FLAG_LABEL, add_note, clear_flag
from monitor.views.detail import observations_for_people, value_keys
from pages import _auth as auth
from pages._badges import DEMO_NOTICE, status_badge
from pages._caches import cached_detail
from pages._context import data_version, for_screen
from pages._downloads import chart_downloads, export_label, table_downloads
from pages._forms import form_key, saved
from pages._markdown import plain
from pages._sidebar import sidebar
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
tset = ctx.config.target_set(set_id)
targets = [t for t in tset.targets if not isinstance(t, MilestoneTarget)]
choices = [("target", t.id) for t in targets] + [
    ("indicator", i.id) for i in ctx.config.indicators if i.id not in {t.indicator for t in targets}
]


def label(choice: tuple[str, str]) -> str:
    kind, ident = choice
    if kind == "target":
        target = next(t for t in targets if t.id == ident)
        return f"{ctx.config.indicator(target.indicator).name}（目标）"
    return f"{ctx.config.indicator(ident).name}（无目标，仅看走势）"


if not choices:
    st.info("该目标集只有任务节点，请在「任务进度」页查看。")
    st.stop()
kind, ident = st.selectbox("指标", choices, format_func=label, key="detail_choice")
if kind == "target":
    target = next(t for t in targets if t.id == ident)
    detail = cached_detail(data_version(), target.indicator, region, as_of, set_id, target.id)
else:
    detail = cached_detail(data_version(), ident, region, as_of, None, None)

st.title(f"{ctx.regions[region].name} · 指标详情")
if detail.evaluation is not None:
    st.markdown(f"{status_badge(detail.evaluation.status.value)}　{detail.evaluation.explanation}",
                unsafe_allow_html=True)
    if detail.adjusted:
        st.caption(detail.adjusted)
st.plotly_chart(for_screen(detail.figure), key="detail_chart")
stem = f"{ctx.regions[region].name}_{label((kind, ident)).split('（')[0]}_{as_of}"
chart_downloads(detail.figure, stem, key="detail_chart",
                label=export_label(ctx, ctx.regions[region].name, set_id, as_of))
if (detail.observations["origin"] == "demo").any():
    st.warning(DEMO_NOTICE, icon=":material/science:")
if detail.population_note:
    st.caption(detail.population_note)
st.subheader("观测值")
observations = observations_for_people(detail.observations)
show_table(observations, hide_index=True, reasons={
    "人口年份": "此值不按人口折算，或缺少人口数据", "更正": "未经更正", "口径": "按当月值，不是累计值",
    "数值": "该期间没有数值"},
             column_config={"原文链接": st.column_config.LinkColumn("原文链接", display_text="打开")})
table_downloads(observations, f"观测值_{stem}", key="detail_observations")
if done := st.session_state.pop("detail_note_done", None):
    st.success(plain(done), icon=":material/check_circle:")

session = auth.current_session()
indicator_id = target.indicator if kind == "target" else ident
allowed = allowed_regions(session.scope, ctx.regions) if session is not None else None
# notes and the flag 跟踪核实 (monitor/store/notes.py): uploaders in their scope and reviewers write
# them, reviewers and admins clear the flag
if (session is not None and auth.can(Action.UPLOAD, session) and not detail.observations.empty
        and (allowed is None or region in allowed)):
    keys = value_keys(detail.observations, indicator_id, region)
    flags = dict(zip(range(len(keys)), detail.observations["flag"]))
    may_clear = auth.can(Action.REVIEW, session)
    with st.expander(f"备注与{FLAG_LABEL}", icon=":material/edit_note:"):
        note_form = form_key("detail_note")
        with st.form(note_form, border=False):
            # no key: a value's label changes with its flag, and a new label must show at once
            row = st.selectbox("数值", range(len(keys)),
                               format_func=lambda i: keys[i][0] + ("（待核实）" if flags[i] == "open" else ""))
            actions = ["备注", f"备注并标记{FLAG_LABEL}"] + ([f"解除{FLAG_LABEL}"] if may_clear else [])
            action = st.radio("操作", actions, horizontal=True, key=f"{note_form}_action")
            text = st.text_area("内容（解除标记时可写核实结果，可不填）", key=f"{note_form}_text", max_chars=500)
            submitted = st.form_submit_button("提交", type="primary")
        if submitted:
            try:
                by = auth.writer(session, ctx.regions)
                if action == actions[0]:
                    add_note(ctx.store, keys[row][1], text, by=by)
                elif action == actions[1]:
                    add_note(ctx.store, keys[row][1], text, by=by, raise_flag=True)
                else:
                    auth.require(Action.REVIEW)  # checked again at the moment of writing
                    clear_flag(ctx.store, keys[row][1], text, by=by)
            except MonitorError as e:
                st.error(plain(e))
            else:
                saved("detail_note")
                st.session_state["detail_note_done"] = f"{keys[row][0]}：已{action}。" + auth.deliver_audit(ctx.store)
                st.rerun()

# values waiting for a reviewer: not part of the official view above; shown to their uploader and
# to reviewers (monitor/store/approval.py)
if session is not None and auth.can(Action.UPLOAD, session):
    waiting = pending_values(ctx.store, [indicator_id, indicator_id + YTD_SUFFIX], [region])
    if not auth.can(Action.REVIEW, session):
        waiting = waiting[waiting["loaded_by"] == session.username]
    if not waiting.empty:
        st.subheader(f"{PENDING_LABEL}的数值")
        st.caption("以下数值已上传、尚未经审核员通过，不计入上方图表、评估和导出。")
        show_table(
            waiting.assign(状态=PENDING_LABEL).rename(columns={
                "month": "期间", "value": "数值", "batch_id": "批次", "loaded_by": "上传人", "loaded_at": "上传时间"})
            [["期间", "数值", "状态", "批次", "上传人", "上传时间"]],
            hide_index=True, key="detail_pending")
