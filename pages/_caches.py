"""The core calls pages make, cached per store version (pages/_context.py ``DataView``).

A commit anywhere bumps the version, so a page shows new data on its next run without a restart;
the staff pages key on the bare version number (they never show a published day).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from monitor.domain.periods import last_full_month, month_range
from monitor.evaluation.targetset import evaluate_target_set
from pages._context import DataView, get_context, view_context


@st.cache_data(show_spinner=False, max_entries=256)
def cached_months(version: DataView) -> list[str]:
    ctx = get_context()
    frame = ctx.store.query("SELECT min(month) AS first, max(month) AS last FROM official_observations")  # no month of a pending batch
    first, last = frame["first"].iloc[0], frame["last"].iloc[0]
    if not isinstance(first, str):
        return []
    return month_range(first, min(last, last_full_month()))


@st.cache_data(show_spinner="正在评估目标……", max_entries=512)
def cached_overview(version: DataView, set_id: str, as_of: str, region: str) -> pd.DataFrame:
    return evaluate_target_set(view_context(version), set_id, as_of, region)



@st.cache_data(show_spinner="正在绘图……", max_entries=256)
def cached_detail(version: DataView, indicator_id: str, region: str, as_of: str, set_id: str | None,
                  target_id: str | None):
    from monitor.views.detail import indicator_detail

    return indicator_detail(view_context(version), indicator_id, region, as_of, set_id=set_id, target_id=target_id)


@st.cache_data(show_spinner="正在比较各地区……", max_entries=256)
def cached_comparison(version: DataView, indicator_id: str, province: str, as_of: str, set_id: str):
    from monitor.views.comparison import compare_regions

    return compare_regions(view_context(version), indicator_id, province, as_of, set_id)



@st.cache_data(show_spinner=False, max_entries=64)
def cached_shapes(parent: str):
    from monitor.domain.geo import region_shapes

    return region_shapes(get_context().regions, parent)


@st.cache_data(show_spinner="正在评估各地区目标……", max_entries=128)
def cached_grid(version: DataView, set_id: str, parent: str, as_of: str):
    """The grid in code order; the page orders it (StatusGrid.ordered) without evaluating again."""
    from monitor.views.grid import status_grid

    return status_grid(view_context(version), set_id, parent, as_of, sort="code")


@st.cache_data(show_spinner=False, max_entries=256)
def cached_value_map(version: DataView, indicator_id: str, parent: str, as_of: str, per_capita: bool):
    from monitor.views.mapdata import value_map_frame

    return value_map_frame(view_context(version), indicator_id, parent, as_of, per_capita=per_capita)


@st.cache_data(show_spinner="正在排名……", max_entries=256)
def cached_rankings(version: DataView, indicator_id: str, parent: str, as_of: str):
    from monitor.views.rankings import region_rankings

    return region_rankings(view_context(version), indicator_id, parent, as_of)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_rollup(version: DataView, indicator_id: str, parent: str, as_of: str):
    from monitor.views.rollup import rollup

    return rollup(view_context(version), indicator_id, parent, until=as_of)



# --------------------------------------------------------------------------- staff pages: cached per store version


@st.cache_data(show_spinner=False, max_entries=64)
def cached_completeness(version: int, scope: str, month: str):
    from monitor.store.history import completeness

    ctx = get_context()
    return completeness(ctx.store, ctx.config, ctx.regions, scope, month)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_batches(version: int) -> pd.DataFrame:
    from monitor.store.history import list_batches

    return list_batches(get_context().store)


@st.cache_data(show_spinner="正在读取批次……", max_entries=32)
def cached_batch(version: int, batch_id: int, limit: int) -> tuple[int, pd.DataFrame, frozenset[str]]:
    """A batch's number of values, its first ``limit`` rows (old → new) and the regions it touched."""
    from monitor.store.history import batch_regions, batch_row_count, batch_rows

    store = get_context().store
    return (batch_row_count(store, batch_id), batch_rows(store, batch_id, limit=limit),
            frozenset(batch_regions(store, batch_id)))


@st.cache_data(show_spinner=False, max_entries=32)
def cached_rollback_preview(version: int, batch_id: int, day: date) -> tuple[int, int, list[str], str | None] | None:
    """What rolling back a batch on ``day`` would do: values restored, values removed, one sentence
    per later batch that re-reported values unchanged (「批次 7 于……再次报送了相同数值，回滚后保留」),
    and what it would change in closed periods (a 更正 that needs a reason: 「会修改已关账期间的 1 个
    数值，2024年6月自 2024年8月14日 起已关账」; None: nothing); None when it would refuse (the
    rollback button says why when pressed)."""
    from monitor.errors import HistoryError
    from monitor.store.history import rollback_preview
    from monitor.store.writer import rollback_closed_changes, rollback_corrections

    store = get_context().store
    try:
        preview = rollback_preview(store, batch_id)
        corrected = rollback_corrections(store, batch_id, day)
    except HistoryError:
        return None
    closed = rollback_closed_changes(corrected) if not corrected.empty else None
    return preview.restored, preview.removed, preview.sentences(), closed
