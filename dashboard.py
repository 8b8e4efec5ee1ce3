"""知识产权指标监测 — entry point: `streamlit run dashboard.py`."""

import streamlit as st

st.set_page_config(page_title="知识产权指标监测", page_icon=":material/insights:", layout="wide")

pages = [
    st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
    st.Page("pages/indicator.py", title="指标详情", icon=":material/show_chart:", url_path="indicator"),
    st.Page("pages/compare.py", title="地区对比", icon=":material/bar_chart:", url_path="compare"),
    st.Page("pages/map.py", title="地图", icon=":material/map:", url_path="map"),
    st.Page("pages/grid.py", title="状态矩阵", icon=":material/grid_on:", url_path="grid"),
    st.Page("pages/rankings.py", title="排名", icon=":material/leaderboard:", url_path="rankings"),
    st.Page("pages/tasks.py", title="任务进度", icon=":material/task_alt:", url_path="tasks"),
]
navigation = st.navigation(pages)
st.sidebar.title("知识产权指标监测")
navigation.run()
