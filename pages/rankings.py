"""排名: one indicator across the cities of a province — rank, its change over 12 months, growth,
share of the province — and the province's value rolled up from its cities beside the one stored."""

import streamlit as st

from monitor.domain.periods import format_month_cn
from monitor.views.formatting import format_value
from monitor.views.rollup import RollupError
from pages._badges import DEMO_NOTICE
from pages._caches import cached_rankings, cached_rollup
from pages._context import data_version
from pages._downloads import table_downloads
from pages._sidebar import offer_other_level, regional_scope, sidebar
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
parent, parent_name, level_name = regional_scope(ctx, region, "排名")
indicator_id = st.selectbox("指标", [i.id for i in ctx.config.indicators], key="rank_indicator",
                            format_func=lambda i: ctx.config.indicator(i).name)
ind = ctx.config.indicator(indicator_id)
ranks = cached_rankings(data_version(), indicator_id, parent, as_of)

st.title(f"{parent_name}{level_name}排名 · {ind.name}")
st.caption(f"{format_month_cn(ranks.month)}排名；排名变化与{format_month_cn(ranks.month_before)}相比（↑ 为上升）。"
           f"单位：{ind.unit}")
if ranks.has_demo:
    st.warning(DEMO_NOTICE, icon=":material/science:")
if ranks.frame["value"].isna().all():
    offer_other_level(f"{parent_name}{level_name}{format_month_cn(ranks.month)}均无{ind.name}的数据。")
table = ranks.frame.rename(columns={
    "rank": "排名", "region_name": "地区", "value": "数值", "rank_change": "排名变化（12个月）",
    "rank_before": "12个月前排名", "mom_pct": "环比%", "yoy_pct": "同比%", "share_pct": f"占{parent_name}%"})
show_table(table[["排名", "地区", "数值", "排名变化（12个月）", "12个月前排名", "同比%", "环比%", f"占{parent_name}%"]],
             hide_index=True, reasons={
                 "排名": "没有数值，不参与排名", "数值": "该地区截至所选月份没有此指标的数值",
                 "排名变化（12个月）": "12个月前或现在不在排名中（无数据）", "12个月前排名": "12个月前无数据，不在排名中",
                 "同比%": "上年同期无数据", "环比%": "上一期无数据", f"占{parent_name}%": "本地区或上级合计无数据"},
             column_config={c: st.column_config.NumberColumn(format="%.1f")
                                             for c in ("同比%", "环比%", f"占{parent_name}%")})
table_downloads(table[["排名", "地区", "数值", "排名变化（12个月）", "12个月前排名", "同比%", "环比%", f"占{parent_name}%"]],
                f"排名_{parent_name}_{ind.name}_{as_of}", key="rank_table")
if ranks.share_note:
    st.caption(ranks.share_note)
elif ind.aggregation == "sum":
    st.caption(f"占比 = 本地区数值 ÷ {level_name}合计。")

st.subheader(f"{parent_name}汇总核对")
try:
    rolled = cached_rollup(data_version(), indicator_id, parent, as_of)
except RollupError as e:
    st.info(str(e))
    st.stop()
how = f"{level_name}分子、分母分别加总后重算比值" if rolled.method == "ratio" else f"{level_name}数值相加"
latest = rolled.latest(as_of)
if latest is None:
    st.info("没有可核对的数据。")
    st.stop()
left, right = st.columns(2)
left.metric(f"由{level_name}汇总（{how}）", format_value(latest["computed"]) + ind.unit if latest["computed"] == latest["computed"]
            else "不完整", help=f"缺数据：{latest['missing_regions']}" if latest["missing_regions"] else None)
right.metric(f"{parent_name}直接报送值", format_value(latest["reported"]) + ind.unit
             if latest["reported"] == latest["reported"] else "无")
if bool(latest["disagrees"]):
    st.warning(f"{format_month_cn(latest['month'])}：汇总值与直接报送值相差 {format_value(latest['difference'])}{ind.unit}"
               f"（{latest['relative_difference']:+.1%}），超过 {rolled.tolerance:.1%} 的容差，请核对口径或数据。",
               icon=":material/warning:")
if len(rolled.disagreements):
    st.caption(f"共 {len(rolled.disagreements)} 个月份汇总值与报送值不一致，见下表。")
history = rolled.frame[rolled.frame["month"] <= as_of].iloc[::-1].rename(columns={
    "month": "月份", "computed": "汇总值", "reported": "报送值", "difference": "差额", "relative_difference": "相对差",
    "disagrees": "不一致", "missing_regions": "缺数据地区"})
show_table(history[["月份", "汇总值", "报送值", "差额", "相对差", "不一致", "缺数据地区"]], hide_index=True, reasons={
    "汇总值": f"有{level_name}未报送，无法汇总（见「缺数据地区」）", "报送值": f"{parent_name}未直接报送",
    "差额": "汇总值或报送值缺一，无法比较", "相对差": "汇总值或报送值缺一，无法比较", "不一致": "汇总值或报送值缺一，无法比较",
    "缺数据地区": f"{level_name}均已报送"},
             column_config={"相对差": st.column_config.NumberColumn(format="percent")})
table_downloads(history[["月份", "汇总值", "报送值", "差额", "相对差", "不一致", "缺数据地区"]],
                f"汇总核对_{parent_name}_{ind.name}_{as_of}", key="rollup_table")
