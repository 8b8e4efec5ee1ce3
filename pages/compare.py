"""地区对比: the provinces of China or the cities of a province ranked on one indicator, with gaps to target."""

import streamlit as st

from monitor.domain.config import MilestoneTarget
from monitor.views.charts import gap_figure
from monitor.views.comparison import children_word, province_of, ranking_figure
from pages._badges import DEMO_NOTICE
from pages._caches import cached_comparison
from pages._context import data_version, for_screen
from pages._downloads import chart_downloads, export_label, table_downloads
from pages._sidebar import sidebar
from pages._tables import show_table

ctx, set_id, region, as_of = sidebar()
tset = ctx.config.target_set(set_id)
set_indicators = [t.indicator for t in tset.targets if not isinstance(t, MilestoneTarget)]
options = list(dict.fromkeys(set_indicators + [i.id for i in ctx.config.indicators]))
indicator_id = st.selectbox("指标", options, key="compare_indicator",
                            format_func=lambda i: ctx.config.indicator(i).name)
ind = ctx.config.indicator(indicator_id)
province = province_of(ctx, region)  # 全国 compares the provinces, a province its cities
level = children_word(ctx, province)
frame = cached_comparison(data_version(), indicator_id, province, as_of, set_id)

st.title(f"{ctx.regions[province].name}{level} · {ind.name}")
has_demo = bool(frame["has_demo"].any())
if has_demo:
    st.warning(DEMO_NOTICE, icon=":material/science:")
if frame["target_source"].notna().any():
    sources = sorted(set(frame["target_source"].dropna()))
    st.caption("目标口径：" + "；".join(sources))
ranking = ranking_figure(ctx, frame, province, ind.id, as_of)
if ranking is None:
    st.info(f"所选月份{level}均无该指标数据。请换一个指标或更晚的截至月份。")
    st.stop()
data = frame.dropna(subset=["value"])
stem = f"{ctx.regions[province].name}{level}_{ind.name}_{as_of}"
st.plotly_chart(for_screen(ranking), key="compare_chart")
label = export_label(ctx, f"{ctx.regions[province].name}{level}", set_id, as_of)
chart_downloads(ranking, f"排名_{stem}", key="compare_chart", label=label)
if data["gap"].notna().any():
    gaps = gap_figure(data, title=f"{ctx.regions[province].name}{level}{ind.name}距目标差距", unit=ind.unit, as_of=as_of,
                      has_demo=has_demo)
    st.plotly_chart(for_screen(gaps), key="gap_chart")
    chart_downloads(gaps, f"差距_{stem}", key="gap_chart", label=label)
table = frame.rename(columns={"rank": "排名", "region_name": "地区", "value": "当前值", "period": "月份", "measure": "口径",
                              "target": "目标", "gap": "差距", "status": "状态", "explanation": "说明"})
table = table[["排名", "地区", "当前值", "月份", "目标", "差距", "状态", "说明"]]
table[["当前值", "目标", "差距"]] = table[["当前值", "目标", "差距"]].round(2)  # as the charts and 说明 give them
show_table(table, hide_index=True, reasons={
    "排名": "没有数值，不参与排名", "当前值": "该地区截至所选月份没有可用数值，原因见「说明」列",
    "月份": "没有数值，也就没有数据月份", "目标": "无目标：目标集没有给该地区定此项目标（或无法按人口折算）",
    "差距": "没有数值或没有目标，无法计算差距", "状态": "没有数值或没有目标，无法评估", "说明": "无需说明"})
table_downloads(table, f"对比_{stem}", key="compare_table")
