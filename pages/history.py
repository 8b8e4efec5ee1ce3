"""导入记录: every batch, what it wrote (old → new), its original file, and rollback."""

import pandas as pd
import streamlit as st

from monitor.accounts.users import Action, allowed_regions
from monitor.domain import clock
from monitor.domain.yeartodate import series_name
from monitor.errors import MonitorError
from monitor.store.approval import PENDING_LABEL, REVIEW_LABELS, approve, return_batch
from monitor.store.history import BATCH_KIND_LABELS, BATCH_STATUS_LABELS, batch_words, stored_file
from monitor.store.notes import FLAG_LABEL
from monitor.store.writer import rollback_batch
from monitor.views.valuenotes import open_flags_table
from pages import _auth as auth
from pages._caches import cached_batch, cached_batches, cached_rollback_preview
from pages._context import context_or_stop
from pages._downloads import file_stem, table_downloads
from pages._markdown import plain
from pages._tables import show_table

SHOWN_ROWS = 2000
ctx = context_or_stop()
st.title("导入记录")
session = auth.require(Action.VIEW, logged_in=True)  # who loaded what is for logged-in staff
may_roll_back = auth.can(Action.UPLOAD, session)
st.caption("每次导入或回滚都是一个批次。回滚会恢复该批次替换掉的原值（它新增的数值则删除），并另记一个回滚批次。"
           "需经审核的批次在审核员通过前为「待审核」，其数值不出现在各页面和导出中；被退回的批次已撤下，退回理由见表中。")
if done := st.session_state.pop("history_done", None):
    st.success(plain(done))

version = ctx.store.data_version()  # reads below are cached per store version: a rollback shows at once
batches = cached_batches(version)
if batches.empty:
    st.info("还没有任何导入批次。")
    st.stop()
if session is not None:
    returned = batches[(batches["review"] == "returned") & (batches["loaded_by"] == session.username)].head(5)
    for r in returned.itertuples():
        st.error(plain(f"您上传的批次 {r.id}（{r.file_name}）被 {r.reviewed_by} 于 {str(r.reviewed_at)[:16]} 退回，"
                       f"理由：{r.review_note}。其数值已撤下，请修改后在「数据导入」重新上传。"), icon=":material/undo:")
    waiting = batches[batches["review"] == "pending"]
    if auth.can(Action.REVIEW, session) and not waiting.empty:
        st.info(f"有 {len(waiting)} 个批次{PENDING_LABEL}：批次 {'、'.join(str(i) for i in waiting['id'])}。"
                "核对其数值后审核通过或退回。", icon=":material/pending_actions:")
        for column, pending_id in zip(st.columns(min(len(waiting), 5)), waiting["id"].head(5)):
            column.button(f"审核批次 {pending_id}", key=f"history_review_{pending_id}",
                          on_click=lambda b=int(pending_id): st.session_state.update(history_batch=b))
if auth.can(Action.UPLOAD, session):
    flagged = open_flags_table(ctx, allowed_regions(session.scope, ctx.regions))
    if not flagged.empty:
        with st.expander(f"{FLAG_LABEL}中的数值（{len(flagged)} 个）", expanded=auth.can(Action.REVIEW, session),
                         icon=":material/flag:"):
            st.caption("在「指标详情」页选择该地区和指标，可补充备注；核实后由审核员解除标记。")
            show_table(flagged, hide_index=True, key="history_flags")
            table_downloads(flagged, "跟踪核实的数值", key="history_flags_table")
table = pd.DataFrame({
    "批次": batches["id"], "类型": batches["kind"].map(BATCH_KIND_LABELS),
    "时间": batches["loaded_at"].astype(str).str[:19], "操作人": batches["loaded_by"].map(batch_words),
    "文件": batches["file_name"].map(batch_words),
    "新增": batches["rows_inserted"], "修改": batches["rows_updated"], "未变": batches["rows_unchanged"],
    "警告": batches["rows_warnings"].fillna(0).astype(int), "状态": batches["status"].map(BATCH_STATUS_LABELS),
    "审核": batches["review"].map(REVIEW_LABELS).fillna("—"),
    "审核人": batches["reviewed_by"].fillna(""),
    "审核时间": batches["reviewed_at"].map(lambda t: "" if pd.isna(t) else str(t)[:19]),
    "退回理由": batches["review_note"].fillna(""),
    "更正": batches["correction_reason"].map(lambda r: f"更正：{r}" if isinstance(r, str) else ""),
    "说明": batches["note"].fillna(""),
})
show_table(table, hide_index=True, key="history_batches")
table_downloads(table, "导入批次", key="history_batches_table")

chosen = st.selectbox("查看批次", batches["id"].tolist(), key="history_batch",
                      format_func=lambda i: f"批次 {i}：{table.set_index('批次').loc[i, '文件']}（{table.set_index('批次').loc[i, '时间']}）")
info = batches.set_index("id").loc[chosen]
total, rows, touched = cached_batch(version, int(chosen), SHOWN_ROWS)  # a history batch may hold millions
st.subheader(f"批次 {chosen} 写入的数值（{total:,} 个）")
details = [f"{BATCH_KIND_LABELS.get(info['kind'], info['kind'])}　{batch_words(info['loaded_by'])}　{str(info['loaded_at'])[:19]}"]
if isinstance(info["file_format"], str):
    details.append(info["file_format"])
if isinstance(info["period"], str):
    details.append(f"期间 {info['period']}")
if isinstance(info["note"], str) and info["note"]:
    details.append(info["note"])  # e.g. the reason its warnings were accepted
st.caption(plain("；".join(details)))  # user, file format (sheet name): as text
review = info["review"] if isinstance(info["review"], str) else None
if isinstance(info["correction_reason"], str) and info["kind"] == "rollback":
    st.info(plain(f"更正：这次回滚修改了已关账期间的数值（见上方说明和下表「更正」为「是」的行），"
                  f"更正理由：{info['correction_reason']}。回滚由 {info['loaded_by']} 执行，即时生效。"),
            icon=":material/edit_note:")
elif isinstance(info["correction_reason"], str):
    st.info(plain(f"更正：该批次修改了已关账期间的数值（下表「更正」为「是」的行），更正理由：{info['correction_reason']}。"
                  "更正须经管理员或审核员审核通过后才发布。"), icon=":material/edit_note:")
if review == "pending":
    st.warning(f"{PENDING_LABEL}：批次 {chosen} 的数值已保存，审核员通过后才会出现在各页面和导出中。",
               icon=":material/pending_actions:")
elif review == "approved":
    st.success(plain(f"已发布：{info['reviewed_by']} 于 {str(info['reviewed_at'])[:19]} 审核通过。"),
               icon=":material/verified:")
elif review == "returned":
    st.error(plain(f"已退回：{info['reviewed_by']} 于 {str(info['reviewed_at'])[:19]} 退回，理由：{info['review_note']}。"
                   "请修改后在「数据导入」重新上传。"), icon=":material/undo:")
shown = pd.DataFrame({
    "地区": [ctx.regions[c].name for c in rows["region_code"]], "指标": [series_name(ctx.config, i, m) for i, m in zip(rows["indicator_id"], rows["month"])],
    "期间": rows["month"], "原值": rows["old_value"], "新值": rows["value"],
    "当前仍有效": rows["still_current"].map({True: "是", False: "否"}),
    "更正": rows["corrected"].map({True: "是", False: ""}),
})
show_table(shown, hide_index=True, key="history_rows")
if total > len(rows):
    st.caption(f"仅显示前 {len(rows):,} 个（共 {total:,} 个），下载的表格也只含这些；完整数值请运维人员在命令行导出。")
table_downloads(shown, f"批次{chosen}_数值", key="history_rows_table")

allowed = allowed_regions(session.scope, ctx.regions)
if review == "pending" and auth.can(Action.REVIEW, session):
    outside_review = sorted(touched - allowed) if allowed else []
    if info["loaded_by"] == session.username:
        st.info("这是您本人上传的批次，须由另一位审核员审核。", icon=":material/person_off:")
    elif outside_review:
        st.info(f"批次 {chosen} 包含您地区范围以外的地区（{'、'.join(ctx.regions[c].name for c in outside_review[:10])}），"
                "请由负责这些地区的审核员审核。", icon=":material/location_off:")
    else:
        with st.container(border=True):
            st.markdown(f"**审核批次 {chosen}**：通过后数值即发布；退回则撤下该批次的全部数值，上传人会看到退回理由。")
            left, right = st.columns(2)
            if left.button("审核通过并发布", type="primary", key="history_approve"):
                try:
                    auth.require(Action.REVIEW)  # checked again at the moment of writing
                    approve(ctx.store, int(chosen), by=auth.writer(session, ctx.regions))
                except MonitorError as e:
                    st.error(plain(e))
                else:
                    st.session_state["history_done"] = (f"批次 {chosen} 已审核通过并发布。"
                                                        + auth.deliver_audit(ctx.store))
                    st.rerun()
            reason = right.text_area("退回理由（必填）", key="history_return_reason",
                                     placeholder="例如：晋城市有效注册商标量比上月多 10 倍，请核对单位")
            if right.button("退回", key="history_return"):
                try:
                    auth.require(Action.REVIEW)
                    return_batch(ctx.store, int(chosen), by=auth.writer(session, ctx.regions), reason=reason)
                except MonitorError as e:
                    st.error(plain(e))
                else:
                    st.session_state["history_done"] = (f"批次 {chosen} 已退回，其数值已撤下。"
                                                        + auth.deliver_audit(ctx.store))
                    st.rerun()

kept = stored_file(ctx.store, info["file_hash"]) if info["kind"] == "load" and may_roll_back else None
if kept is not None:
    # the name came with the upload: offered as a download name only, cleaned of path characters
    st.download_button("下载原文件", kept[1], file_name=file_stem(kept[0]), key="history_file")

outside = sorted(touched - allowed) if allowed else []
if info["kind"] == "load" and info["status"] == "committed" and not may_roll_back:
    st.caption("回滚批次需要数据上传员或管理员账户。")
elif info["kind"] == "load" and info["status"] == "committed" and outside:
    st.info(f"批次 {chosen} 包含您可导入范围以外的地区（{'、'.join(ctx.regions[c].name for c in outside[:10])}），"
            "不能由您回滚；请联系管理员。", icon=":material/location_off:")
elif info["kind"] == "load" and info["status"] == "committed":
    with st.container(border=True):
        preview = cached_rollback_preview(version, int(chosen), clock.today())
        restored, removed, kept, closed = preview or (int(info["rows_updated"]), int(info["rows_inserted"]), [], None)
        st.markdown(f"**回滚批次 {chosen}**：恢复它替换掉的 {restored} 个原值，删除它新增的 {removed} 个数值"
                    + ("；以下数值之后又被再次报送，回滚后保留。" if kept else "。"))
        for sentence in kept:
            st.info(f"{sentence}。", icon=":material/verified:")
        reason = None
        # a rollback that changes closed periods is a 更正, which only a reviewer or an admin may
        # make (docs/decisions.md D17); theirs is its approval, so it is official at once
        needed = Action.REVIEW if closed else Action.UPLOAD
        if closed:
            st.warning(plain(f"更正：这次回滚{closed}，属于更正。须由审核员或管理员填写更正理由后回滚；回滚即生效，"
                             "各页面、导出和简报会把恢复的数值标注为「更正」。"), icon=":material/edit_note:")
        if closed and not auth.can(Action.REVIEW, session):
            st.info("您的账户不能做更正，请联系审核员或管理员回滚这个批次。", icon=":material/person_off:")
            st.stop()
        if closed:
            reason = st.text_area("更正理由（必填）", key="history_rollback_reason", max_chars=500, height=80,
                                  placeholder="例如：该批次数值重复统计，恢复为原报送值")
        sure = st.checkbox("我确认要回滚这个批次", key="history_confirm")
        missing = bool(closed) and not (reason or "").strip()
        if missing:
            st.caption("填写更正理由后才能回滚。")
        if st.button("回滚", type="primary", disabled=not sure or missing, key="history_rollback"):
            try:
                auth.require(needed)  # checked again at the moment of writing
                rollback_id = rollback_batch(ctx.store, int(chosen), by=auth.writer(session, ctx.regions),
                                             reason=reason)
            except MonitorError as e:
                auth.audit_log().record("rollback", actor=session.username, outcome="failed", target=f"批次 {chosen}",
                                        client=auth.client_address(), via=session.via, detail=str(e)[:500])
                st.error(plain(e))
            else:
                st.session_state["history_done"] = (f"批次 {chosen} 已回滚（回滚记录为批次 {rollback_id}）"
                                                    + ("，已记为更正。" if closed else "。")
                                                    + auth.deliver_audit(ctx.store))
                st.rerun()
elif info["status"] == "rolled_back":
    st.info(f"该批次已回滚（回滚批次 {int(info['rolled_back_by'])}）。如需恢复，请在「数据导入」重新上传原文件。")
