"""知识产权指标监测 — entry point: `streamlit run dashboard.py`."""

from pathlib import Path

import streamlit as st

# A local icon: a Material-icon favicon is fetched from fonts.gstatic.com, and the app must make
# no request outside the intranet.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="知识产权指标监测", page_icon=str(ICON), layout="wide")

pages = [
    st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
    st.Page("pages/indicator.py", title="指标详情", icon=":material/show_chart:", url_path="indicator"),
    st.Page("pages/compare.py", title="地区对比", icon=":material/bar_chart:", url_path="compare"),
    st.Page("pages/map.py", title="地图", icon=":material/map:", url_path="map"),
    st.Page("pages/grid.py", title="状态矩阵", icon=":material/grid_on:", url_path="grid"),
    st.Page("pages/rankings.py", title="排名", icon=":material/leaderboard:", url_path="rankings"),
    st.Page("pages/tasks.py", title="任务进度", icon=":material/task_alt:", url_path="tasks"),
]
data_pages = [
    st.Page("pages/upload.py", title="数据导入", icon=":material/upload_file:", url_path="upload"),
    st.Page("pages/history.py", title="导入记录", icon=":material/history:", url_path="history"),
    st.Page("pages/completeness.py", title="报送情况", icon=":material/fact_check:", url_path="completeness"),
]
navigation = st.navigation({"监测": pages, "数据管理": data_pages})
st.sidebar.title("知识产权指标监测")
navigation.run()
