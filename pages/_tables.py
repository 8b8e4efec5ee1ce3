"""Tables on pages: one call, so every grid draws a missing value the same way and says why it is missing.

Streamlit's grid draws a missing cell as the word None; a person reads 「—」 instead. The grid of the
installed Streamlit shows no tooltip of its own on a cell (pandas Styler tooltips are read only by
``st.table``), but it shows a column's ``help`` on hovering over the header: every column holding a
「—」 says there what the 「—」 means.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

MISSING = "—"
EMPTY = "（暂无记录）"
NO_DATA = "无数据"


def missing_help(reason: str) -> str:
    """A column header's hover text for the reason its 「—」 cells are empty."""
    return f"「{MISSING}」：{reason}"


def show_table(data, *, reasons: Mapping[str, str] | None = None, **kwargs):
    """``st.dataframe`` with 「—」 for every missing value (numbers keep sorting as numbers); each column
    holding one says why on hovering over its header: ``reasons[column]``, else 「无数据」."""
    kwargs.setdefault("placeholder", MISSING)
    frame = getattr(data, "data", data)  # a pandas Styler holds its frame in .data
    if len(frame) == 0:  # the grid would say 「empty」
        st.caption(EMPTY)
        return None
    if isinstance(frame, pd.DataFrame) and len(frame.columns):
        config = dict(kwargs.get("column_config") or {})
        for column in frame.columns[frame.isna().any().to_numpy()]:
            name = str(column)
            if name in config and config[name] is None:  # a hidden column
                continue
            note = missing_help((reasons or {}).get(name, NO_DATA))
            given = config.get(name)
            if isinstance(given, str):  # a label only
                given = {"label": given}
            merged = dict(given or st.column_config.Column())
            merged["help"] = f"{merged['help']}\n\n{note}" if merged.get("help") else note
            config[name] = merged
        if config:
            kwargs["column_config"] = config
    return st.dataframe(data, **kwargs)
