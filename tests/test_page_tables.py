"""pages/_tables.show_table: a missing value is 「—」, and its column's header says why on hover."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest


def shown_columns(app) -> dict:
    return json.loads(AppTest.from_function(app).run().dataframe[0].proto.columns)


def test_a_column_with_missing_values_says_why_on_its_header_and_a_full_column_says_nothing():
    def app():
        import pandas as pd

        from pages._tables import show_table

        show_table(pd.DataFrame({"地区": ["太原市", "晋城市"], "数值": [1.0, None], "目标": [2.0, None],
                                 "状态": ["已达成", "已达成"]}), hide_index=True, reasons={"数值": "未报送"})

    columns = shown_columns(app)
    assert columns["数值"]["help"] == "「—」：未报送"
    assert columns["目标"]["help"] == "「—」：无数据"  # no reason given: the plain one
    assert "地区" not in columns and "状态" not in columns


def test_a_reason_joins_the_help_and_type_a_page_gave_the_column():
    def app():
        import pandas as pd
        import streamlit as st

        from pages._tables import show_table

        show_table(pd.DataFrame({"进度比": [0.5, None], "链接": [None, "x"]}).style, reasons={"进度比": "没有基数"},
                   column_config={"进度比": st.column_config.NumberColumn(format="%.2f", help="实际 ÷ 所需"),
                                  "链接": None})

    columns = shown_columns(app)
    assert columns["进度比"]["help"] == "实际 ÷ 所需\n\n「—」：没有基数"
    assert columns["进度比"]["type_config"]["format"] == "%.2f"
    assert columns["链接"]["hidden"] is True  # a hidden column stays hidden


@pytest.mark.parametrize("styled", [False, True])
def test_a_page_table_without_rows_reads_in_chinese_and_a_styled_one_draws(styled):
    # Streamlit's grid writes 「empty」 over a table without rows; pages/_tables.show_table says it in Chinese
    from streamlit.testing.v1 import AppTest

    def page(styled: bool) -> None:
        import pandas as pd

        from pages._tables import show_table

        empty = pd.DataFrame({"地区": [], "数值": []})
        full = pd.DataFrame({"地区": ["晋城市"], "数值": [690.0]})
        show_table(empty.style if styled else empty)
        show_table(full.style if styled else full)

    at = AppTest.from_function(page, args=(styled,)).run()
    assert not at.exception
    assert [c.value for c in at.caption] == ["（暂无记录）"]
    assert len(at.dataframe) == 1
