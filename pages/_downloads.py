"""Download buttons under every chart (PNG, PDF) and table (CSV, xlsx) of the pages.

Files are made only when a button is clicked: Streamlit calls the ``data`` callable then, on a
thread of its own (st.download_button, "deferred generation"), so drawing a page costs nothing.
Chart exports share one browser behind a lock (monitor.output.export), whichever session asks.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from monitor.errors import ExportSetupError
from monitor.output.export import ExportLabel, check_export_setup, figure_pdf, figure_png, slide_figure
from monitor.output.tables import CSV_MIME, XLSX_MIME, csv_bytes, xlsx_bytes


@st.cache_resource(show_spinner=False)
def export_problem() -> str | None:
    """Why charts cannot be exported on this machine (no CJK font, no browser), or None."""
    try:
        check_export_setup()
    except ExportSetupError as e:
        return str(e)
    return None


def file_stem(name: str) -> str:
    """A file name from a title: no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_.") or "导出"


def export_label(ctx, region_label: str, set_id: str | None, as_of: str) -> ExportLabel:
    """What an exported chart says about itself: 「山西省各市　目标：…（晋市政办〔2020〕47号）　数据截至…」."""
    tset = ctx.config.target_set(set_id) if set_id else None
    return ExportLabel(region_label, tset.short_title if tset else None, tset.doc_number if tset else None, as_of)


def chart_downloads(fig: go.Figure, name: str, key: str, label: ExportLabel) -> None:
    """PNG (2×, for slides) and PDF (vector) of ``fig`` as drawn on the page, stamped for slides
    (monitor.output.export.slide_figure: region, set, month, 示例数据, sources, no clipping)."""
    problem = export_problem()
    stem = file_stem(name)
    with st.container(horizontal=True, gap="small", key=f"{key}_downloads"):
        st.download_button("PNG", data=lambda: figure_png(slide_figure(fig, label)), file_name=f"{stem}.png", mime="image/png",
                           key=f"{key}_png", on_click="ignore", icon=":material/image:", disabled=problem is not None,
                           help=problem or "下载图片（2 倍分辨率，适合幻灯片）")
        st.download_button("PDF", data=lambda: figure_pdf(slide_figure(fig, label)), file_name=f"{stem}.pdf", mime="application/pdf",
                           key=f"{key}_pdf", on_click="ignore", icon=":material/picture_as_pdf:",
                           disabled=problem is not None, help=problem or "下载矢量 PDF（适合打印）")
    if problem:
        st.caption(f"图表导出不可用：{problem}")


def table_downloads(frame: pd.DataFrame, name: str, key: str, *, what: str = "") -> None:
    """CSV (UTF-8 with BOM, opens in Excel) and xlsx of ``frame``; ``what`` prefixes the labels."""
    stem = file_stem(name)
    with st.container(horizontal=True, gap="small", key=f"{key}_downloads"):
        st.download_button(f"{what}CSV", data=lambda: csv_bytes(frame), file_name=f"{stem}.csv", mime=CSV_MIME,
                           key=f"{key}_csv", on_click="ignore", icon=":material/table_view:",
                           help="下载 CSV（UTF-8，Excel 可直接打开）")
        st.download_button(f"{what}Excel", data=lambda: xlsx_bytes(frame), file_name=f"{stem}.xlsx", mime=XLSX_MIME,
                           key=f"{key}_xlsx", on_click="ignore", icon=":material/grid_on:", help="下载 Excel（xlsx）")


def briefing_download(ctx, set_id: str, region: str, as_of: str) -> None:
    """「生成监测简报」 builds the A4 PDF of this target set, region and month with its steps shown
    as they run (st.status), then offers the file; the PDF is kept for this selection."""
    from monitor.output.briefing import briefing_file_name, build_briefing

    problem = export_problem()
    name = briefing_file_name(ctx, set_id, region, as_of)
    built = st.session_state.get("briefing_built")
    if built and built[0] == name:
        st.download_button("下载监测简报（PDF）", data=built[1], file_name=name, mime="application/pdf",
                           key="briefing_pdf", on_click="ignore", type="primary", icon=":material/download:")
        return
    if not st.button("生成监测简报（PDF）", key="briefing_build", type="primary", icon=":material/summarize:",
                     disabled=problem is not None,
                     help=problem or "A4 简报：全部目标的状态、说明与走势图，各市对比，逾期任务，数据来源与政策文件"):
        return
    with st.status("正在生成监测简报……", expanded=True) as status:
        briefing = build_briefing(ctx, set_id, region, as_of, progress=lambda step: status.write(step))
        status.update(label=f"监测简报已生成（{briefing.chart_count} 张图）", state="complete", expanded=False)
    st.session_state["briefing_built"] = (name, briefing.pdf)
    st.download_button("下载监测简报（PDF）", data=briefing.pdf, file_name=name, mime="application/pdf",
                       key="briefing_pdf", on_click="ignore", type="primary", icon=":material/download:")
