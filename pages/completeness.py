"""报送情况: for a month, which regions have reported which indicators, which are late or missing."""

import streamlit as st

from monitor.domain import clock
from monitor.domain.geo import map_children
from monitor.domain.periods import format_month_cn, last_full_month, month_range
from monitor.store.history import STATE_LABELS, SUMMARY_HEADERS, Completeness
from monitor.views.chase import (
    BY_REGION_HEADERS,
    NO_CONTACT,
    OWED_HEADERS,
    due_dates_text,
    owed_by_region,
    owed_reports,
)
from pages import _auth as auth
from pages._caches import cached_completeness
from pages._context import context_or_stop
from pages._downloads import table_downloads
from pages._sidebar import region_label
from pages._tables import show_table

STATE_COLORS = {"按时报送": "#d4edda", "逾期报送": "#fff3cd", "未报送": "#f8d7da", "示例/公布数据": "#e2e3e5"}

ctx = context_or_stop()
st.title("报送情况")
# 全国, then each province followed by its cities; the first target set's province is chosen first
scopes = ["100000", *(c for p in map_children(ctx.regions, "100000") for c in [p, *map_children(ctx.regions, p)])]
first = ctx.regions[ctx.config.target_sets[0].region]
home = next((a.code for a in [first, *ctx.regions.ancestors(first.code)] if a.level == "province"), "100000")
months = month_range("2019-01", last_full_month())[::-1]


def linked(param: str, options: list[str], default: int) -> int:
    """A link from an alert (python -m etl notify) opens the page on its region and month."""
    value = st.query_params.get(param)
    return options.index(value) if value in options else default


left, right = st.columns(2)
scope = left.selectbox("地区（显示它和下一级地区）", scopes, index=linked("scope", scopes, scopes.index(home)),
                       format_func=lambda c: region_label(ctx, c), key="completeness_scope")
month = right.selectbox("月份", months, index=linked("month", months, 0), format_func=format_month_cn,
                        key="completeness_month")
result: Completeness = cached_completeness(ctx.store.data_version(), scope, month)
st.caption(f"{format_month_cn(month)}的数据应于 {due_dates_text(result)} 前报送（报送截止日由管理员在指标配置中设定）；"
           "「逾期」指首次上传晚于该日；被回滚的上传不算已报送。示例/公布数据不是报送的数据。")

summary = result.summary
owing = summary[summary["owed"] > 0]
counts = {STATE_LABELS[state]: int(summary[state].sum()) for state in Completeness.STATES}
for col, (state, n) in zip(st.columns(4), counts.items()):
    col.metric(state, n)
if owing.empty:
    st.success("所有地区均已报送本月全部指标。")
else:
    st.warning("尚未报送完整：" + "、".join(f"{r.region_name}（缺 {r.owed} 项）" for r in owing.itertuples()))
shown = summary.drop(columns=["region_code"]).rename(columns=SUMMARY_HEADERS)
show_table(shown, hide_index=True, key="completeness_summary")
table_downloads(shown, f"报送情况_{ctx.regions[scope].name}_{month}", key="completeness_summary_table")

st.subheader("明细：地区 × 指标")
matrix = result.cells.assign(state=result.cells["state"].map(STATE_LABELS)).pivot(
    index="region_name", columns="indicator_name", values="state")
matrix = matrix.reindex(index=summary["region_name"]).rename_axis(index="地区", columns=None)
styled = matrix.style.map(lambda s: f"background-color: {STATE_COLORS.get(s, 'white')}")
show_table(styled, key="completeness_matrix")
table_downloads(matrix.reset_index(), f"报送明细_{ctx.regions[scope].name}_{month}", key="completeness_matrix_table")

st.subheader("催报名单")
owed = owed_reports(result, auth.accounts().list(), ctx.regions, clock.today())
late = int(owed["days_overdue"].max()) if not owed.empty else 0
if owed.empty:
    st.caption("没有尚未报送的数值。")
else:
    st.caption((f"已过截止日 {late} 天。" if late else "尚未到截止日。") +
               "联系人是地区范围包含该地区、可导入数据的账户（邮箱在「账户管理」页填写）；"
               "没有地区限制的账户不列为联系人。")
    by_region = owed_by_region(owed).drop(columns=["region_code"])
    if auth.current_session() is None:  # names and addresses of staff are for logged-in users only
        by_region = by_region.drop(columns=["contacts", "emails"])
        owed = owed.drop(columns=["contacts", "emails"])
        st.caption("登录后显示各地区的联系人和邮箱。")
    else:
        by_region["contacts"] = by_region["contacts"].replace("", NO_CONTACT)
    by_region = by_region.rename(columns=BY_REGION_HEADERS)
    show_table(by_region, hide_index=True, key="completeness_owed")
    detail = owed.drop(columns=["indicator_id"]).rename(columns=OWED_HEADERS)
    table_downloads(by_region, f"催报名单_{ctx.regions[scope].name}_{month}", key="completeness_owed_regions",
                    what="按地区 ")
    table_downloads(detail, f"催报明细_{ctx.regions[scope].name}_{month}", key="completeness_owed_cells",
                    what="逐项 ")
