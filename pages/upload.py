"""数据导入: upload a CSV or Excel file, see every row's verdict and the diff, then commit as one batch."""

import streamlit as st

from etl.loader import LoadPlan, commit_plan, plan_upload
from etl.mappings import MappingStore
from etl.preview import check_table, diff_table, duplicate_text, summary_text, warnings_note
from etl.readers import sheet_names
from etl.templates import template_csv, template_frame, template_title, template_xlsx
from monitor.accounts.users import Action, allowed_regions
from monitor.domain.periods import last_full_month
from monitor.errors import LoadError, MonitorError, UnknownColumnsError
from monitor.store.history import batch as batch_info
from monitor.store.writer import closed_summary, pending_corrections
from pages import _auth as auth
from pages._context import context_or_stop
from pages._downloads import table_downloads
from pages._markdown import plain
from pages._sidebar import region_label
from pages._tables import show_table
from pages._upload_form import UPLOAD_TYPES, chinese_uploader, mapping_form, show_checks, upload_limit_mb

ctx = context_or_stop()
st.title("数据导入")
session = auth.require(Action.UPLOAD)
allowed = allowed_regions(session.scope, ctx.regions)  # None: every region
if session.scope:
    st.info(auth.scope_caption(session, ctx.regions) + "；文件中其他地区的行会被拒绝。", icon=":material/location_on:")
limit_mb = upload_limit_mb()
chinese_uploader(limit_mb)
st.caption("支持 CSV（UTF-8 / GBK，逗号或制表符分隔）和 Excel；长表（地区、指标、期间、数值）或宽表（每行一个地区、"
           f"每列一个指标，如「有效发明专利（件）」）。文件不超过 {limit_mb:g} MB。先预检，确认后整批写入。")

if done := st.session_state.pop("upload_done", None):
    st.success(plain(done))

# a new key after each commit: the committed file leaves the uploader, nothing of it is shown again
uploaded = st.file_uploader("选择文件", type=UPLOAD_TYPES, key=f"upload_file_{st.session_state.get('upload_round', 0)}")
left, right = st.columns(2)
period = left.text_input("期间（仅当文件没有期间列、标题中也没有月份时填写）", placeholder="例如 2026-10",
                         key="upload_period").strip() or None
sheet = None
saved = MappingStore(auth.settings().accounts_path).for_user(session.username)  # everyone's and this user's
if uploaded is not None and uploaded.name.lower().endswith((".xlsx", ".xls")):
    sheets = sheet_names(uploaded.getvalue())
    sheet = right.selectbox("工作表", sheets, key="upload_sheet") if len(sheets) > 1 else None


def current_plan(data: bytes, name: str) -> LoadPlan:
    """The plan for this file and these options, computed once per store version."""
    key = (hash(data), name, sheet, period, ctx.store.data_version(), session.username, session.scope, session.role,
           saved.version)
    if st.session_state.get("upload_plan_key") != key:
        # only an administrator may mark values as published or give their source (来源类型, 来源, 备注)
        plan = plan_upload(ctx.store, ctx.config, ctx.regions, data, name, population=ctx.population, sheet=sheet,
                           period=period, allowed_regions=allowed, provenance=session.role == "admin", mappings=saved)
        outside = [p for p in plan.errors if p.check == "scope"]
        auth.audit_log().record(
            "upload", actor=session.username, outcome="ok" if plan.ok else "refused", target=name,
            client=auth.client_address(), via=session.via,
            detail=summary_text(plan) + (f"；{len(outside)} 行不在地区范围内（第 {'、'.join(str(p.row) for p in outside[:20])} 行）"
                                         if outside else ""))
        st.session_state["upload_plan"] = plan
        st.session_state["upload_plan_key"] = key
    return st.session_state["upload_plan"]


if uploaded is not None:
    try:
        plan = current_plan(uploaded.getvalue(), uploaded.name)
    except UnknownColumnsError as e:  # no indicator column known: map them, and it loads
        st.error(f"无法导入：{plain(e)}")
        mapping_form(ctx.config, session, e.headers, e.unknown)
        st.stop()
    except LoadError as e:
        st.error(f"无法导入：{plain(e)}")
        st.stop()
    except MonitorError as e:
        st.error(f"暂时无法预检：{plain(e)}")
        st.stop()
    st.caption(plain(f"{plan.source}；{plan.layout.description}"))
    c = plan.counts()
    for col, (label, n) in zip(st.columns(6), [("有效值", c["total"]), ("新增", c["new"]), ("修改", c["changed"]),
                                               ("未变", c["unchanged"]), ("错误", c["errors"]), ("警告", c["warnings"])]):
        col.metric(label, n)
    if (dup := duplicate_text(plan)) is not None:
        st.info(plain(dup), icon=":material/content_copy:")
    if plan.problems:
        st.subheader("检查结果")
        shown = check_table(plan)
        show_checks(shown, key="upload_problems")
        table_downloads(shown, f"检查结果_{uploaded.name}", key="upload_problems_table")
    if plan.layout.unknown_columns:
        mapping_form(ctx.config, session, plan.layout.headers, plan.layout.unknown_columns)
    st.subheader("与数据库比较")
    tabs = st.tabs([f"修改 {c['changed']}", f"新增 {c['new']}", f"未变 {c['unchanged']}"])
    for tab, change in zip(tabs, ["changed", "new", "unchanged"]):
        with tab:
            table = diff_table(plan, ctx.config, ctx.regions, change=change)
            if change != "changed":
                table = table.drop(columns=["原值"])
            if table.empty:
                st.caption("（无）")
            else:
                show_table(table, hide_index=True)

    if not plan.ok:
        st.error(f"有 {c['errors']} 处错误，未写入任何数据。请按「检查结果」表修改文件后重新上传。")
    elif c["new"] + c["changed"] == 0:
        st.info("文件中的数值与数据库完全一致，无需导入。")
    else:
        corrections = pending_corrections(ctx.store, plan.rows if c["changed"] else plan.rows.head(0))
        if not corrections.empty:
            st.warning(f"本次{closed_summary(corrections)}，属于更正：须填写更正理由，经管理员或审核员审核通过后才会发布。",
                       icon=":material/edit_note:")
        with st.form("upload_commit", border=bool(plan.warnings) or not corrections.empty):
            confirmed, reason, correction = True, "", ""
            if plan.warnings:  # a form: the reason typed and the box ticked are sent with the click
                confirmed = st.checkbox(f"我已核对以上 {c['warnings']} 条警告，确认数值无误", key="upload_confirm")
                reason = st.text_area("接受警告的理由（必填，记入批次说明和审计记录）", key="upload_reason", max_chars=500,
                                      height=80, placeholder="例如：已与市局核对，本月集中登记了一批质押项目，数值无误")
            if not corrections.empty:
                correction = st.text_area("更正理由（必填，记入批次和审计记录，审核员和各页面的「更正」标记可见）",
                                          key="upload_correction_reason", max_chars=500, height=80,
                                          placeholder="例如：市局复核后发现9月数据漏报一个区县，按复核结果更正")
            st.caption(plain(f"导入人：{session.label}（{session.username}），记入批次和审计记录。"))
            submitted = st.form_submit_button(f"确认导入（新增 {c['new']}，修改 {c['changed']}）", type="primary")
        if submitted and not (confirmed and reason.strip()) and plan.warnings:
            st.error("接受警告前，请勾选「我已核对……」并填写理由。")
        elif submitted and not correction.strip() and not corrections.empty:
            st.error("更正已关账期间的数值须填写更正理由，未写入任何数据。")
        elif submitted:
            note = warnings_note(plan, reason) if plan.warnings else None
            try:
                # the writer checks the scope again (the plan may predate a scope change) and
                # commits the audit record with the batch; it is then moved to the trail
                batch = commit_plan(ctx.store, plan, by=auth.writer(session, ctx.regions), accept_warnings=confirmed,
                                    note=note, detail=summary_text(plan) + (f"；{note}" if note else ""),
                                    reason=correction)
            except MonitorError as e:
                auth.audit_log().record("commit", actor=session.username, outcome="failed", target=uploaded.name,
                                        client=auth.client_address(), via=session.via, detail=str(e)[:500])
                st.error(f"导入失败，数据库未改变：{plain(e)}")
            else:
                waits = batch is not None and batch_info(ctx.store, batch)["review"] == "pending"
                st.session_state["upload_done"] = (f"已导入 {uploaded.name}：批次 {batch}，新增 {c['new']}，修改 {c['changed']}。"
                                                   + ("该批次待审核：审核员通过后各页面才显示新数据，可在「导入记录」查看审核状态。"
                                                      if waits else
                                                      "各页面已显示新数据；如需撤销，请到「导入记录」回滚该批次。")
                                                   + auth.deliver_audit(ctx.store))
                for stale in ("upload_plan_key", "upload_plan", "upload_confirm", "upload_reason",
                              "upload_correction_reason"):
                    st.session_state.pop(stale, None)
                st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
                st.rerun()

with st.expander("下载空白模板", icon=":material/download:"):
    provinces = [r.code for r in ctx.regions.children("100000") if r.code in {"140000", "610000"}] or ["140000"]
    options = provinces + [c.code for p in provinces for c in ctx.regions.cities_of(p, include_groupings=False)]
    t1, t2, t3 = st.columns(3)
    scope = t1.selectbox("地区（列出其下一级地区）", options, format_func=lambda c: region_label(ctx, c),
                         key="template_scope")
    month = t2.text_input("月份", value=last_full_month(), key="template_month")
    form = t3.radio("形式", ["wide", "long"], format_func={"wide": "宽表", "long": "长表"}.get, horizontal=True,
                    key="template_form")
    try:
        frame = template_frame(ctx.config, ctx.regions, scope, month, form)
    except MonitorError as e:
        st.error(str(e))
    else:
        name = f"报送模板_{ctx.regions[scope].name}_{month}_{'宽表' if form == 'wide' else '长表'}"
        d1, d2 = st.columns(2)
        d1.download_button("CSV（带 BOM，Excel 可直接打开）", template_csv(frame), f"{name}.csv", "text/csv",
                           key="template_csv")
        d2.download_button("Excel .xlsx", template_xlsx(frame, ctx.config, title=template_title(ctx.regions, scope, month)),
                           f"{name}.xlsx", key="template_xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
