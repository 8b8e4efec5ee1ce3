"""Tables on pages: one call, so every grid draws a missing value the same way.

Streamlit's grid draws a missing cell as the word None; a person reads 「—」 instead.
"""

from __future__ import annotations

import streamlit as st

MISSING = "—"
EMPTY = "（暂无记录）"


def show_table(data, **kwargs):
    """``st.dataframe`` with 「—」 for every missing value (numbers keep sorting as numbers)."""
    kwargs.setdefault("placeholder", MISSING)
    frame = getattr(data, "data", data)  # a pandas Styler holds its frame in .data
    if len(frame) == 0:  # the grid would say 「empty」
        st.caption(EMPTY)
        return None
    return st.dataframe(data, **kwargs)
