"""总览: every target of the chosen set with its status, progress, gap and explanation."""

import streamlit as st

from monitor.accounts.users import Action
from monitor.domain.periods import format_month_cn
from monitor.domain.provenance import annotate
from monitor.errors import MonitorError
from monitor.output.tables import target_table
from monitor.store.readings import READING_LABELS, set_reading
from monitor.views.charts import progress_label, status_figure
from monitor.views.formatting import format_value, missing
from monitor.views.overview import status_counts, task_counts
from pages import _auth as auth
from pages._badges import DEMO_NOTICE, DEMO_NOTICE_SHORT, status_badge, task_badge
from pages._caches import cached_overview
from pages._context import chosen_readings, data_version, for_screen, phone_screen, view_context
from pages._downloads import briefing_download, chart_downloads, export_label, table_downloads
from pages._sidebar import sidebar
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
tset = ctx.config.target_set(set_id)
version = data_version()  # one read of the store for this run
readings = chosen_readings(version)
frame = annotate(cached_overview(version, set_id, as_of, region), tset, readings)
session = st.session_state.get(auth.SESSION_KEY)
may_switch = auth.can(Action.ADMIN, session)

st.title(f"{ctx.regions[region].name} · {tset.short_title}")
st.caption(f"{tset.document_label}　数据截至{format_month_cn(as_of)}")
if not tset.verbatim:
    # the publisher by name, its page behind the name: an address is not something to read out
    st.caption(f"本目标集的条文为转述，据[{tset.source_publisher}刊载的文本]({tset.source.url})整理，不是原文引文。")
if region != tset.region:
    st.info(f"目标集为{ctx.regions[tset.region].name}制定，不是{ctx.regions[region].name}自己的目标：相对目标按原文适用；"
            "绝对数量目标按人口比例折算，仅作参考，标「参考（按人口折算）」，状态后注「（参考）」。")
phone = phone_screen()
if frame["has_demo"].fillna(False).any():
    st.warning(DEMO_NOTICE_SHORT if phone else DEMO_NOTICE, icon=":material/science:")
if tset.note and not phone:  # a phone shows the set's note below its targets
    st.caption(f"说明：{tset.note}")

# The status summary in two short lines (a phone shows it and the first target on its first
# screen): only the statuses present, targets in their words, tasks in the task vocabulary.
counts = status_counts(frame)
tasks = task_counts(frame)
summary = []
if sum(counts.values()):
    summary.append(f"**目标 {sum(counts.values())} 项**　" + " ".join(
        status_badge(label, f"{label} {n}") for label, n in counts.items() if n))
if tasks:
    summary.append(f"**任务 {sum(tasks.values())} 项**　" + " ".join(
        task_badge(label, f"{label} {n}") for label, n in tasks.items()))
st.markdown("<br>".join(summary), unsafe_allow_html=True)
briefing_download(view_context(version), set_id, region, as_of)
with st.expander("状态分布图与下载"):
    table_downloads(target_table(frame), f"目标评估_{ctx.regions[region].name}_{set_id}_{as_of}",
                    key="overview_targets", what="目标表 ")
    if sum(counts.values()):
        status_chart = status_figure(counts, title=f"{ctx.regions[region].name} · {tset.short_title} · 目标状态分布",
                                     as_of=as_of, has_demo=bool(frame["has_demo"].fillna(False).astype(bool).any()))
        st.plotly_chart(for_screen(status_chart), config={"displayModeBar": False})
        chart_downloads(status_chart, f"目标状态分布_{ctx.regions[region].name}_{as_of}", key="overview_status",
                        label=export_label(ctx, ctx.regions[region].name, set_id, as_of))

view = st.segmented_control("视图", ["进度与状态", "进度比（实际/所需）"], default="进度与状态", key="overview_view")
indicator_rows = frame[frame["type"] != "milestone"]
if view == "进度比（实际/所需）":
    table = indicator_rows[["indicator_name", "target_text", "pace_ratio", "pace_band", "status"]].rename(
        columns={"indicator_name": "指标", "target_text": "目标", "pace_ratio": "进度比", "pace_band": "区间",
                 "status": "状态"})
    show_table(table, hide_index=True, reasons={
        "进度比": "无法计算：没有数值、没有基数，或目标不是数量目标（如相对目标、尚未开始）",
        "区间": "没有进度比", "目标": "无目标", "状态": "无数据"},
        column_config={"进度比": st.column_config.NumberColumn(format="%.2f")})
    table_downloads(table, f"进度比_{ctx.regions[region].name}_{set_id}_{as_of}", key="overview_pace")
    st.caption("进度比 = 实际月均进展 ÷ 按期完成所需月均进展；≥1 按期或超前，0.5–1 偏慢，0–0.5 明显滞后，<0 倒退。")

for row in frame.itertuples():
    with st.container(border=True):
        head, value_col, gap_col = st.columns([5, 3, 3])
        badge = task_badge(row.task_status) if row.type == "milestone" else status_badge(row.status, row.status_label)
        head.markdown(f"**{row.indicator_name}**　{badge}", unsafe_allow_html=True)
        head.caption(f"目标：{row.target_text}" + (f"　· {row.adjusted}" if isinstance(row.adjusted, str) else ""))
        if row.derived:
            head.caption(row.derived)
        if row.type != "milestone":
            if missing(row.current):  # 「无数据」 with the reason on hover, never 「—件」
                value_col.metric("当前值", "无数据", help=row.explanation if isinstance(row.explanation, str) else None)
            else:
                value_col.metric("当前值", f"{format_value(row.current)}{row.unit}", help=f"观测月份：{row.current_period}")
            if isinstance(row.current_period, str):  # 当前值 always names its month and its basis
                when = format_month_cn(row.current_period)
                if isinstance(row.latest_period, str) and row.latest_period > row.current_period:
                    when += f"（最新数据为{format_month_cn(row.latest_period)}）"
                value_col.caption(when if row.measure == row.indicator_name else f"{when} · {row.measure}")
            if row.gap is not None and row.gap == row.gap and row.gap > 0:
                gap_col.metric("差距", f"{format_value(row.gap)}{row.unit}",
                               help="距目标还差多少（按目标方向）")
                if row.needed_per_month is not None and row.needed_per_month == row.needed_per_month:
                    gap_col.caption(f"需月均 {format_value(row.needed_per_month)}{row.unit}")
            if row.progress is not None and row.progress == row.progress:
                head.progress(min(max(float(row.progress), 0.0), 1.0),
                              text=f"进度 {progress_label(row.progress, row.status)}")  # 超额, never 1763%
        st.write(row.explanation)
        if row.population_year is not None and row.population_year == row.population_year:
            st.caption(f"人口取 {int(row.population_year)} 年常住人口")
        if row.interpretation:
            st.caption(row.interpretation + (f"　{row.reading_note}" if row.reading_note else ""))
            if row.reading_note and may_switch:
                current = readings.get(row.target_id, "document")
                chosen = st.radio("评估读法", list(READING_LABELS), index=list(READING_LABELS).index(current),
                                  format_func=READING_LABELS.get, horizontal=True, key=f"reading_{row.target_id}")
                if chosen != current and st.button("保存读法", key=f"reading_save_{row.target_id}"):
                    auth.require(Action.ADMIN)  # checked again at the moment of writing
                    try:
                        set_reading(ctx.store, ctx.config, row.target_id, chosen)
                    except MonitorError as e:
                        st.error(str(e))
                    else:
                        auth.audit_log().record("reading", actor=session.username, target=f"目标 {row.target_id}",
                                                client=auth.client_address(), via=session.via,
                                                detail=READING_LABELS[chosen])
                        st.rerun()
        st.caption(f"出处：{row.document}")
        st.caption(row.quote)

if tset.note and phone:
    st.caption(f"说明：{tset.note}")
