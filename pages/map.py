"""地图: the cities of a province (or counties of a city) coloured by status, value or per-capita value."""

import streamlit as st

from monitor.domain.config import MilestoneTarget
from monitor.domain.geo import WITHOUT_STATISTICS_REASON
from monitor.domain.periods import format_month_cn
from monitor.views.charts import region_map_figure
from monitor.views.mapdata import MAP_MODE_LABELS, per_capita_allowed, status_map_frame
from pages._badges import DEMO_NOTICE
from pages._caches import cached_grid, cached_shapes, cached_value_map
from pages._context import PHONE_MAP_WIDTH_PX, data_version, for_screen, phone_screen
from pages._downloads import chart_downloads, export_label, table_downloads
from pages._sidebar import (
    detail_choice_for,
    offer_other_level,
    open_detail,
    regional_scope,
    selected_customdata,
    sidebar,
)
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
tset = ctx.config.target_set(set_id)
parent, parent_name, level_name = regional_scope(ctx, region, "地图")
targets = [t for t in tset.targets if not isinstance(t, MilestoneTarget)]

mode = st.segmented_control("着色方式", list(MAP_MODE_LABELS) if targets else ["value", "per_capita"],
                            format_func=MAP_MODE_LABELS.get, default="status" if targets else "value",
                            key="map_mode") or "value"
if mode == "status":
    by_id = {t.id: t for t in targets}
    target_id = st.selectbox("目标", list(by_id), key="map_target",
                             format_func=lambda i: ctx.config.indicator(by_id[i].indicator).name)
    target = by_id[target_id]
    ind = ctx.config.indicator(target.indicator)
    grid = cached_grid(data_version(), set_id, parent, as_of)
    frame = status_map_frame(grid, target_id)
    choice = ("target", target_id)
    note = grid.scaled_note
else:
    options = [i.id for i in ctx.config.indicators if mode == "value" or per_capita_allowed(i)]
    indicator_id = st.selectbox("指标", options, key="map_indicator", format_func=lambda i: ctx.config.indicator(i).name)
    ind = ctx.config.indicator(indicator_id)
    frame = cached_value_map(data_version(), indicator_id, parent, as_of, mode == "per_capita")
    choice = detail_choice_for(tset, indicator_id)
    note = "每万人口值 = 指标值 ÷ 常住人口 × 10000（人口取数据当年或之前最近一年）" if mode == "per_capita" else None

unit = f"{ind.unit}/万人" if mode == "per_capita" else ind.unit
shapes = cached_shapes(parent)
has_demo = bool(frame["has_demo"].any())
st.title(f"{parent_name}{level_name} · {ind.name}")
if note:
    st.caption(note)
if has_demo:
    st.warning(DEMO_NOTICE, icon=":material/science:")
if frame["value"].isna().all():
    offer_other_level(f"{parent_name}{level_name}截至{format_month_cn(as_of)}均无{ind.name}的数据，地图全为灰色。")
map_args = {"color_by": "status" if mode == "status" else "value", "unit": unit, "as_of": as_of,
            "title": f"{parent_name}{level_name}{ind.name}（{MAP_MODE_LABELS[mode]}）", "outline_name": parent_name,
            "has_demo": has_demo}
figure = region_map_figure(shapes, frame, **map_args)  # fitted to a desk's width, and exported so
shown = region_map_figure(shapes, frame, width=PHONE_MAP_WIDTH_PX, **map_args) if phone_screen() else figure
event = st.plotly_chart(for_screen(shown), key="region_map", on_select="rerun", selection_mode="points",
                        config={"scrollZoom": False})
chart_downloads(figure, f"地图_{parent_name}_{ind.name}_{as_of}", key="map_chart",
                label=export_label(ctx, f"{parent_name}{level_name}", set_id, as_of))
st.caption("点击地图上的地区，打开该地区的指标详情。")
clicked = selected_customdata(event)
if clicked and clicked[0] in ctx.regions:  # 台湾、香港、澳门 are drawn but hold no data
    open_detail(ctx, clicked[0], choice)

if shapes.missing:
    st.info("以下地区没有独立的行政区划边界，未画在地图上（数据见下表）：\n"
            + "\n".join(f"- {m.name}（{m.code}）：{m.reason}" for m in shapes.missing))
no_data = frame[frame["value"].isna() & frame["region_code"].isin(shapes.codes)]
if len(no_data):
    st.caption(f"无数据（灰色）：{'、'.join(no_data['region_name'])}")
if parent == "100000":
    st.caption(f"台湾省、香港特别行政区、澳门特别行政区按中国领土绘制，显示为无数据：{WITHOUT_STATISTICS_REASON}。")
table = frame.rename(columns={"region_name": "地区", "value": "数值", "period": "月份", "status": "状态",
                              "target": "目标", "explanation": "说明"})
show_table(table[["地区", "数值", "月份", "目标", "状态", "说明"]], hide_index=True, reasons={
    "数值": "该地区截至所选月份没有可用数值（灰色），原因见「说明」列", "月份": "没有数值，也就没有数据月份",
    "目标": "无目标：按指标值着色时不比较目标，或目标集没有给该地区定此项目标", "状态": "没有数值或没有目标，无法评估",
    "说明": "无需说明"})
table_downloads(table[["地区", "数值", "月份", "目标", "状态", "说明"]], f"地图数据_{parent_name}_{ind.name}_{as_of}",
                key="map_table")
