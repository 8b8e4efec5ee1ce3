"""状态矩阵: regions × targets of the chosen set, each cell a status; click a cell for its detail."""

import streamlit as st

from monitor.domain.periods import format_month_cn
from monitor.views.charts import grid_column_keys, status_grid_figure
from pages._badges import DEMO_NOTICE
from pages._caches import cached_grid
from pages._context import data_version, for_screen, phone_screen
from pages._downloads import chart_downloads, export_label, table_downloads
from pages._sidebar import offer_other_level, open_detail, regional_scope, selected_customdata, sidebar
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
tset = ctx.config.target_set(set_id)
parent, parent_name, level_name = regional_scope(ctx, region, "状态矩阵")
order = st.segmented_control("排序", ["behind", "code"], key="grid_sort", default="behind",
                             format_func={"behind": "按滞后目标数", "code": "按区划代码"}.get) or "behind"
grid = cached_grid(data_version(), set_id, parent, as_of).ordered(order)  # sorting is a view change: cached cells
if not grid.targets:
    st.info("该目标集只有任务节点，没有可按地区比较的指标目标；请在「任务进度」页查看。")
    st.stop()

st.title(f"{parent_name}{level_name} · {tset.short_title}")
st.info(grid.scaled_note, icon=":material/info:")
has_demo = bool(grid.cells["has_demo"].any())
if has_demo:
    st.warning(DEMO_NOTICE, icon=":material/science:")
if grid.without_data:
    offer_other_level(f"{parent_name}{level_name}截至{format_month_cn(as_of)}均无本目标集指标的数据，矩阵全为「无数据」。")
figure = status_grid_figure(grid, title=f"{parent_name}{level_name}目标状态矩阵", as_of=as_of, has_demo=has_demo)
phone = phone_screen()  # a phone's columns are too narrow for names: ①②③…, named below the chart
shown = status_grid_figure(grid, title=f"{parent_name}{level_name}目标状态矩阵", as_of=as_of, has_demo=has_demo,
                           keyed=True) if phone else figure
event = st.plotly_chart(for_screen(shown), key="status_grid", on_select="rerun", selection_mode="points",
                        config={"displayModeBar": False})
if phone:
    st.caption("　".join(f"{key} {name}" for key, name in grid_column_keys(grid)))
chart_downloads(figure, f"状态矩阵_{parent_name}_{set_id}_{as_of}", key="grid_chart",
                label=export_label(ctx, f"{parent_name}{level_name}", set_id, as_of))
st.caption("点击格子，打开该地区该指标的详情。行名括号内为滞后（含未达成）目标数。")
clicked = selected_customdata(event)
if clicked:
    open_detail(ctx, clicked[0], ("target", clicked[1]))

behind = grid.behind_counts()
summary = grid.cells.pivot_table(index="region_code", columns="status", values="target_id", aggfunc="count",
                                 fill_value=0).reindex(grid.regions, fill_value=0)
summary.insert(0, "地区", [ctx.regions[c].name for c in grid.regions])
summary.insert(1, "滞后目标数", behind.to_numpy())
show_table(summary.reset_index(drop=True), hide_index=True)
table_downloads(summary.reset_index(drop=True), f"状态汇总_{parent_name}_{set_id}_{as_of}", key="grid_table")
