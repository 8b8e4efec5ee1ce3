"""任务进度: milestone tasks with lead department, deadline and status; status updates recorded."""


import html

import pandas as pd
import streamlit as st

from monitor.accounts.users import Action
from monitor.domain import clock
from monitor.domain.periods import format_month_cn
from monitor.errors import MonitorError
from monitor.store.milestones import UPDATE_STATUSES, TaskStatus, month_end, read_updates, record_update, task_table
from pages import _auth as auth
from pages._badges import task_badge
from pages._context import context_or_stop
from pages._downloads import table_downloads
from pages._sidebar import sidebar
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
with_tasks = [s for s in ctx.config.target_sets if any(t.type == "milestone" for t in s.targets)]
most = max(with_tasks, key=lambda s: sum(t.type == "milestone" for t in s.targets))
default = set_id if set_id in {s.id for s in with_tasks} else most.id
chosen = st.selectbox("文件", [s.id for s in with_tasks], index=[s.id for s in with_tasks].index(default),
                      format_func=lambda i: ctx.config.target_set(i).short_title, key="tasks_set")
tset = ctx.config.target_set(chosen)
views = task_table(tset, read_updates(ctx.store), as_of)

st.title(f"任务进度 · {tset.short_title}")
st.caption(f"{tset.document_label}　状态截至{format_month_cn(as_of)}月底")
frame = pd.DataFrame([{
    "序号": v.number, "任务": v.title, "牵头单位": "、".join(v.lead), "配合单位": "、".join(v.cooperating),
    "国家层面": "、".join(v.national), "_lead": v.lead,
    "完成时限": "持续推进" if v.ongoing else f"{v.deadline:%Y-%m-%d}",
    "状态": v.status.value + ("（逾期完成）" if v.done_late else ""),
    "最近进展": f"{v.last_update}：{v.last_note}" if v.last_update else "—", "条文": tset.quote(v.clause),
    "_id": v.target_id,
} for v in views])
departments = sorted({d for v in views for d in v.lead})
pick = st.multiselect("按牵头单位筛选", departments, key="tasks_departments", placeholder="全部单位")
TASK_STATES = [s.value for s in TaskStatus]
statuses = st.multiselect("按状态筛选", TASK_STATES, key="tasks_statuses",
                          placeholder="全部状态")
shown = frame
if pick:
    shown = shown[shown["_lead"].apply(lambda lead: any(d in lead for d in pick))]
if statuses:
    shown = shown[shown["状态"].apply(lambda s: any(s.startswith(x) for x in statuses))]
counts = frame["状态"].str.replace("（逾期完成）", "").value_counts()
cols = st.columns(len(TASK_STATES))
for col, name in zip(cols, TASK_STATES):
    col.metric(name, int(counts.get(name, 0)))
if frame["最近进展"].str.contains("示例").any():
    st.warning("任务进展记录为**示例数据**（虚构，仅供演示）。", icon=":material/science:")
TABLE_CSS = ("<style>.task-table{width:100%;table-layout:fixed;border-collapse:collapse;font-size:0.88em}"
             ".task-table th,.task-table td{border-bottom:1px solid #e5e5e5;padding:6px 6px;vertical-align:top;"
             "text-align:left;overflow-wrap:anywhere;word-break:break-word}.task-table th{background:#f6f6f6}</style>")
# status and deadline first and coloured; every column wraps, so all tasks fit the page's width
COLUMNS = [("状态", "9%"), ("完成时限", "9%"), ("序号", "5%"), ("任务", "31%"), ("牵头单位", "14%"),
           ("配合单位", "13%"), ("最近进展", "19%")]
rows = []
for record in shown.to_dict("records"):
    state = str(record["状态"])
    cells = {"状态": task_badge(state.replace("（逾期完成）", ""), html.escape(state)),
             "完成时限": html.escape(str(record["完成时限"])),
             "序号": html.escape(str(record["序号"] or ""))}
    if record["完成时限"] != "持续推进" and state.startswith("逾期"):
        cells["完成时限"] = f'<b style="color:#c0392b">{cells["完成时限"]}</b>'
    for column in ("任务", "牵头单位", "配合单位", "最近进展"):
        cells[column] = html.escape(str(record[column] or "—"))
    rows.append("<tr>" + "".join(f"<td>{cells[c]}</td>" for c, _ in COLUMNS) + "</tr>")
st.markdown(TABLE_CSS + '<table class="task-table"><colgroup>'
            + "".join(f'<col style="width:{w}">' for _, w in COLUMNS) + "</colgroup><thead><tr>"
            + "".join(f"<th>{c}</th>" for c, _ in COLUMNS) + "</tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>", unsafe_allow_html=True)
with st.expander("表格视图（含国家层面分工与政策条文）"):
    show_table(shown.drop(columns=["_id", "_lead"]), hide_index=True)
table_downloads(shown.drop(columns=["_id", "_lead"]), f"任务进度_{tset.short_title}_{as_of}", key="tasks_table")

session = st.session_state.get(auth.SESSION_KEY)
if not auth.can(Action.ADMIN, session):
    st.caption("登记任务进展需要管理员账户" + ("。" if session else "，请先到「登录」页登录。"))
else:
    with st.form("task_update"):
        st.subheader("登记进展")
        task_id = st.selectbox("任务", frame["_id"].tolist(),
                               format_func=lambda i: frame.set_index("_id").loc[i, "任务"])
        status = st.radio("状态", list(UPDATE_STATUSES), horizontal=True,
                          format_func=lambda s: UPDATE_STATUSES[s].value)
        on = st.date_input("生效日期", value=clock.today(), max_value=clock.today())
        note = st.text_input("进展说明", placeholder="例如：已印发实施方案（晋知发〔2023〕1号）")
        st.caption(f"登记人：{session.label}" + (f"（{session.username}）" if session.label != session.username else ""))
        submitted = st.form_submit_button("保存")
    if submitted:
        auth.require(Action.ADMIN)  # checked again at the moment of writing
        try:
            store = context_or_stop().store
            record_update(store, ctx.config, task_id, status, on, note, session.username,
                          audit=auth.audit_entry("milestone", session,
                                                 detail=f"{UPDATE_STATUSES[status].value}，生效 {on:%Y-%m-%d}"))
        except MonitorError as e:
            st.error(str(e))
        else:
            # st.rerun() discards what this run drew, so the confirmation is shown by the next run.
            saved = f"已保存：{frame.set_index('_id').loc[task_id, '任务']} → {UPDATE_STATUSES[status].value}（{on:%Y-%m-%d}）。"
            if on > month_end(as_of):
                saved += f"表中状态截至{format_month_cn(as_of)}底，这条进展自{format_month_cn(on)}起计入。"
            saved += auth.deliver_audit(store)
            st.session_state["tasks_saved"] = saved
            st.rerun()
if saved := st.session_state.pop("tasks_saved", None):
    st.success(saved)
