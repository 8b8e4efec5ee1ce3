"""The parts of 数据导入 that are more than a call: the uploader in Chinese, the check table, and
the form that maps unknown columns to indicators (etl/mappings.py)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from etl.mappings import EVERYONE, SKIP_LABEL, MappingStore, layout_signature
from etl.readers import max_upload_bytes
from etl.units import split_header, units_convertible_to
from monitor.accounts.users import Session
from monitor.domain.config import Config
from monitor.errors import MonitorError
from pages import _auth as auth
from pages._markdown import plain
from pages._tables import show_table

UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "xls"]
TYPES_TEXT = "CSV、XLSX、XLS"
SKIP = "__skip__"


def upload_limit_mb() -> float:
    """The limit a file meets first: the product's (IPMON_MAX_UPLOAD_MB) or the server's transport
    limit (server.maxUploadSize, .streamlit/config.toml), whichever is lower."""
    return min(max_upload_bytes() / 1048576, float(st.get_option("server.maxUploadSize")))


def _css_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def chinese_uploader(limit_mb: float) -> None:
    """Streamlit's file uploader writes its own words in English ("Upload", "200MB per file • CSV",
    "Drag and drop a file here", "File must be 50.0MB or smaller."), whatever the page's language.
    They are hidden and replaced by Chinese through CSS on the elements of the installed version
    (streamlit 1.67: tests/test_upload_browser.py checks the uploader shows no English)."""
    limit = f"{limit_mb:g} MB"
    words = {
        # the button
        '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p':
            "选择文件",
        # the line beside it: size limit and types
        '[data-testid="stFileUploaderDropzoneInstructions"] span': f"单个文件不超过 {limit}，支持 {TYPES_TEXT}",
        # the overlay while a file is dragged over the box
        '[data-testid="stFileUploaderDropzone"] > div:not([data-testid]):has(> span:only-child) > span': "松开鼠标即可上传",
        # under the name of a file the uploader refused by itself (too large, wrong type) or could not
        # send, where its size ("8.0B") stands; its English reason is read only by screen readers
        '[data-testid="stFileChip"][aria-invalid="true"] [data-testid="stFileChipName"] + div':
            f"未能上传：文件超过 {limit}，或不是 {TYPES_TEXT} 文件",
    }
    rules = "".join(f"{selector}{{font-size:0 !important}}{selector}::after{{content:{_css_text(text)};"
                    "font-size:0.875rem}" for selector, text in words.items())
    # the size of a file taken ("132.0B") is hidden; so is the English tooltip of a refused one
    # (shown while the pointer is over the chip), while its remove button still takes clicks
    rules += ('[data-testid="stFileChip"]:not([aria-invalid="true"]) [data-testid="stFileChipName"] + div{display:none}'
              '[data-testid="stFileUploader"] [data-testid="stTooltipErrorHoverTarget"]{pointer-events:none}'
              '[data-testid="stFileUploader"] [data-testid="stFileChipDeleteBtn"]{pointer-events:auto}')
    st.html(f"<style>{rules}</style>")


def show_checks(table: pd.DataFrame, *, key: str) -> None:
    """The check table with the 说明 column wide and rows tall enough for it to wrap (Streamlit wraps
    text only in rows taller than 4rem; it breaks lines at spaces first, so the message's spaces
    become no-break spaces and a line breaks where it is full, as Chinese text does)."""
    shown = table.assign(说明=table["说明"].str.replace(" ", "\u00a0", regex=False))
    longest = int(table["说明"].str.len().max()) if not table.empty else 0
    lines = min(6, max(1, math.ceil(longest / 30)))  # ~30 characters on a line of 440 px
    show_table(shown, hide_index=True, key=key, row_height=16 + 19 * max(lines, 3) if lines > 1 else None,
                 column_config={"行": st.column_config.NumberColumn(width=40), "列": st.column_config.TextColumn(width=150),
                                "检查": st.column_config.TextColumn(width=76), "原值": st.column_config.TextColumn(width=100),
                                "换算后": st.column_config.TextColumn(width=100), "说明": st.column_config.TextColumn(width=440),
                                "级别": st.column_config.TextColumn(width=44)})


def mapping_form(config: Config, session: Session, headers: list[str], unknown: list[str]) -> None:
    """Map columns the loader does not know to indicators (or to "not an indicator"), once: saved
    for this layout and used automatically for every later file of it."""
    everyone = session.role == "admin"
    signature = layout_signature(headers)
    options = [SKIP] + [i.id for i in config.indicators if i.kind != "derived"]

    def label_of(option: str) -> str:
        return SKIP_LABEL if option == SKIP else f"{config.indicator(option).name}（{config.indicator(option).unit}）"

    with st.container(border=True, key="upload_mapping"):
        st.markdown("**未识别的列：对应到指标**")
        st.caption("选择每一列对应的指标和该列数值的单位，保存后重新预检；以后同样表头的文件（标题、工作表名和列的顺序可以不同）"
                   "会自动按此导入，" + ("适用于所有人的上传。" if everyone else "仅用于您本人的上传。")
                   + "已保存的对应关系可在「列对应关系」页查看、修改或删除。")
        chosen = []
        for i, label in enumerate(unknown[:20]):
            c1, c2, c3 = st.columns([2, 3, 1.2], vertical_alignment="bottom")
            c1.markdown(f"「{plain(label)}」")
            indicator = c2.selectbox(f"「{label}」对应的指标", options, index=None, format_func=label_of,
                                     placeholder="暂不对应", key=f"map_indicator_{signature}_{i}",
                                     label_visibility="collapsed")
            unit = None
            if indicator not in (None, SKIP):
                units = units_convertible_to(config.indicator(indicator).unit)
                written = split_header(label)[1]
                unit = c3.selectbox(f"「{label}」的单位", units, key=f"map_unit_{signature}_{i}_{indicator}",
                                    index=units.index(written) if written in units
                                    else units.index(config.indicator(indicator).unit), label_visibility="collapsed")
            if indicator is not None:
                chosen.append((label, None if indicator == SKIP else indicator, unit))
        if st.button("保存对应关系并重新预检", key="map_save", disabled=not chosen, icon=":material/link:"):
            store = MappingStore(auth.settings().accounts_path)
            try:
                for label, indicator, unit in chosen:
                    store.save(config, headers, label, indicator, unit, owner=EVERYONE if everyone else session.username,
                               actor=session.username, client=auth.client_address(), via=session.via)
            except MonitorError as e:
                st.error(plain(e))
            else:
                st.rerun()  # the plan is keyed on the saved mappings: it is made again with them
