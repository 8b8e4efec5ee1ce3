"""What every page shares: the opened context, the sidebar selections and cached core calls.

Caches are keyed on the store's data_version, so a commit made anywhere (another session, the
CLI) shows up on the next rerun without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import streamlit as st

from monitor.accounts.users import Action
from monitor.context import Context, open_context
from monitor.domain import clock
from monitor.domain.geo import map_children
from monitor.domain.periods import format_month_cn, last_full_month, month_range
from monitor.errors import ConfigError, StoreBusyError, StoreError
from monitor.evaluation import STATUS_COLORS, Status
from monitor.evaluation.targetset import evaluate_target_set
from monitor.store.history import end_of_day, publication_dates
from monitor.store.readings import read_readings, with_readings
from monitor.store.series import indicator_values
from pages import _auth

DEMO_NOTICE = "本页包含**示例数据**（虚构数值，仅供演示，标记为「示例数据」）；标记为「公布值」的数据引自公开报道，来源见数据表。"


@st.cache_resource(show_spinner="正在打开数据库……")
def get_context() -> Context:
    return open_context()


BUSY = "数据库正忙（正在导入），请稍后刷新"


def busy_notice() -> None:
    """What a page says when the store stayed held by another process's write for the whole wait."""
    st.error(f"{BUSY}。另一个程序正在写入数据库（例如导入一个大文件），本页等待后仍未能读取；"
             "导入完成后刷新本页即可看到数据。", icon=":material/hourglass_top:")


def context_or_stop() -> Context:
    """The opened context, once this session may view (pages/_auth.py); else the page stops."""
    _auth.require(Action.VIEW)
    try:
        return get_context()
    except ConfigError as e:
        st.error("指标配置文件有错误，系统无法启动：")
        st.code(str(e), language=None)
        st.stop()
    except StoreBusyError:
        busy_notice()
        st.stop()
    except StoreError as e:
        st.error(f"数据库无法打开：{e}")
        st.stop()


@dataclass(frozen=True)
class DataView:
    """The cache key of everything a page reads: the store's version, and the day whose published
    state is shown (None: the latest data). A commit anywhere bumps the version, so open pages
    show new data on their next run without a restart."""

    version: int
    published_on: date | None = None


def data_version() -> DataView:
    """The first read of every read page: a store held by another process's long write is said
    here, in Chinese, after the store's wait (a later read that meets one is caught in dashboard.py)."""
    try:
        version = context_or_stop().store.data_version()
    except StoreBusyError:
        busy_notice()
        st.stop()
    return DataView(version, st.session_state.get("_kept_published_on"))


def view_context(view: DataView | int) -> Context:
    """The context whose store reads as published at the end of ``view.published_on``, evaluating
    the readings an administrator chose (monitor/store/readings.py; choosing one bumps the version)."""
    ctx = get_context()
    ctx = with_readings(ctx, chosen_readings(view) if isinstance(view, DataView) else None)
    if isinstance(view, DataView) and view.published_on is not None:
        return replace(ctx, store=ctx.store.as_published(end_of_day(view.published_on)))
    return ctx


@st.cache_data(show_spinner=False, max_entries=64)
def chosen_readings(version: DataView) -> dict[str, str]:
    """The readings an administrator chose; choosing one is a write, so the version moves on."""
    return read_readings(get_context().store)


@st.cache_data(show_spinner=False, max_entries=256)
def data_months(version: DataView) -> list[str]:
    ctx = get_context()
    frame = ctx.store.query("SELECT min(month) AS first, max(month) AS last FROM official_observations")  # no month of a pending batch
    first, last = frame["first"].iloc[0], frame["last"].iloc[0]
    if not isinstance(first, str):
        return []
    return month_range(first, min(last, last_full_month()))


@st.cache_data(show_spinner="正在评估目标……", max_entries=512)
def overview(version: DataView, set_id: str, as_of: str, region: str) -> pd.DataFrame:
    return evaluate_target_set(view_context(version), set_id, as_of, region)


@st.cache_data(show_spinner=False, max_entries=512)
def values(version: DataView, indicator_id: str, regions: tuple[str, ...], as_of: str) -> pd.DataFrame:
    ctx = view_context(version)
    return indicator_values(ctx.store, ctx.config, indicator_id, list(regions), ctx.population, until=as_of)


def region_options(ctx: Context, set_region: str) -> list[str]:
    """The set's own region first, then the regions it may be applied to as a reference: a
    province's cities, a city's sibling cities; for a national set, every province (counties are
    drilled into below). Never a region above the set's own: a city's plan is not its province's."""
    region = ctx.regions[set_region]
    if region.level == "country":
        return [set_region, *map_children(ctx.regions, set_region)]
    province = set_region if region.level == "province" else region.parent
    cities = [r.code for r in ctx.regions.cities_of(province) if not r.is_grouping]
    ordered = [set_region, *cities]
    return list(dict.fromkeys(ordered))


def region_label(ctx: Context, code: str) -> str:
    return ctx.regions[code].name


def _hand_back(key: str, options: list, default) -> None:
    """Give the sidebar widget ``key`` the user's last choice before it is drawn.

    Each page file draws the sidebar itself, so after a page switch Streamlit sees new widgets that
    would start from their defaults. The choices are therefore also kept under keys no widget owns
    ("_kept_…") and handed back on every run (Streamlit docs, "Widget behavior": keeping a value
    across pages). A link may carry the first choice: ``?target_set=…&region=…&as_of=…`` (also
    ``city``, ``county``) opens the dashboard on that view; the session's own choices win after."""
    linked = st.query_params.get(key) if f"_kept_{key}" not in st.session_state else None
    for choice in (st.session_state.get(key), st.session_state.get(f"_kept_{key}"), linked):
        if choice in options:
            st.session_state[key] = choice
            return
    st.session_state[key] = default


def sidebar() -> tuple[Context, str, str, str]:
    """Target set, region and as-of month, shared by every page."""
    ctx = context_or_stop()
    months = data_months(data_version())
    if not months:
        st.warning("数据库中还没有观测数据。请在「数据导入」页上传数据（需登录为数据上传员或管理员），或请管理员载入示例数据。")
        st.stop()
    sets = ctx.config.target_sets
    set_ids = [s.id for s in sets]
    _hand_back("target_set", set_ids, set_ids[0])
    set_id = st.sidebar.selectbox("目标集（政策文件）", set_ids, key="target_set",
                                  format_func=lambda i: ctx.config.target_set(i).short_title)
    tset = ctx.config.target_set(set_id)
    options = region_options(ctx, tset.region)
    _hand_back("region", options, tset.region)
    region = st.sidebar.selectbox("地区", options, key="region", format_func=lambda c: region_label(ctx, c))
    if ctx.regions[tset.region].level == "country":
        region = _city_drill(ctx, region)
    region = _county_drill(ctx, region)
    _hand_back("as_of", months, months[-1])
    as_of = st.sidebar.select_slider("截至月份", options=months, key="as_of", format_func=format_month_cn)
    st.session_state.update({"_kept_target_set": set_id, "_kept_region": region, "_kept_as_of": as_of})
    st.sidebar.caption(f"{tset.issuer}　{tset.doc_number or '（无文号）'}")
    published_view(ctx)
    return ctx, set_id, region, as_of


def _keep(key: str) -> None:
    """on_change: remember a sidebar widget's value under a key no widget owns (see _hand_back)."""
    st.session_state[f"_kept_{key}"] = st.session_state[key]


def published_view(ctx: Context) -> None:
    """"As published on day X": show what the dashboard showed then (values later corrected or
    rolled back appear as they were). The choice holds across pages: the widgets are handed
    their kept values before they are drawn, and callbacks keep what the user changes."""
    days = publication_dates(ctx.store)
    with st.sidebar.expander("历史版本", icon=":material/history:",
                             expanded=bool(st.session_state.get("_kept_published_toggle"))):
        st.session_state["published_toggle"] = bool(st.session_state.get("_kept_published_toggle")) and bool(days)
        on = st.toggle("按某日已发布的数据显示", key="published_toggle", disabled=not days,
                       on_change=_keep, args=("published_toggle",))
        day = None
        if on:
            st.session_state["published_day"] = st.session_state.get("_kept_published_day") or days[-1]
            day = st.date_input("发布日期（当日结束时）", key="published_day", min_value=days[0],
                                max_value=max(clock.today(), days[-1]), on_change=_keep,
                                args=("published_day",))
            st.caption("数据库在这些日期有变动：" + "、".join(f"{d:%Y-%m-%d}" for d in days[-5:]))
    st.session_state["_kept_published_on"] = day  # read by data_version(), after the sidebar is drawn
    if day is not None:
        st.info(f"正在查看 {day:%Y年%-m月%-d日} 结束时已发布的数据（历史版本），不是最新数据；之后的导入、修改和回滚不在其中。",
                icon=":material/history:")


def status_badge(status: str, label: str | None = None) -> str:
    """A coloured status pill; ``label`` (e.g. 「已达成（参考）」) is what it reads, the status its colour."""
    color = STATUS_COLORS.get(Status(status), "#999") if status in {s.value for s in Status} else "#999"
    return (f'<span style="background:{color};color:white;padding:2px 8px;border-radius:10px;font-size:0.85em">'
            f'{label or status}</span>')


def task_badge(task_status: str, label: str | None = None) -> str:
    """A task's pill: its own word (已完成, 逾期, 未报告 …), the colour of the status it maps to."""
    from monitor.evaluation.targetset import TASK_STATUS_COLORS

    color = TASK_STATUS_COLORS.get(task_status, "#999")
    return (f'<span style="background:{color};color:white;padding:2px 8px;border-radius:10px;font-size:0.85em">'
            f'{label or task_status}</span>')


def missing(value) -> bool:
    """None, NaN or pandas' NA: a value the page shows as 「—」 or 「无数据」, never as None or nan."""
    return value is None or bool(pd.isna(value)) if not isinstance(value, str) else False


def fmt(value, decimals: int = 2) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@st.cache_data(show_spinner="正在绘图……", max_entries=256)
def cached_detail(version: DataView, indicator_id: str, region: str, as_of: str, set_id: str | None,
                  target_id: str | None):
    from monitor.views.detail import indicator_detail

    return indicator_detail(view_context(version), indicator_id, region, as_of, set_id=set_id, target_id=target_id)


@st.cache_data(show_spinner="正在比较各地区……", max_entries=256)
def cached_comparison(version: DataView, indicator_id: str, province: str, as_of: str, set_id: str):
    from monitor.views.comparison import compare_regions

    return compare_regions(view_context(version), indicator_id, province, as_of, set_id)


# --------------------------------------------------------------------------- regional views (issue 5)


def _city_drill(ctx: Context, region: str) -> str:
    """全国 → province → city: with a national target set and a province chosen, the sidebar offers
    the province's cities (then _county_drill their counties)."""
    if ctx.regions[region].level != "province":
        return region
    options = [region, *map_children(ctx.regions, region)]
    _hand_back("city", options, region)
    chosen = st.sidebar.selectbox("市", options, key="city",
                                  format_func=lambda c: "（全省）" if c == region else ctx.regions[c].name)
    st.session_state["_kept_city"] = chosen
    return chosen


def _county_drill(ctx: Context, region: str) -> str:
    """Province → city → county: with a city chosen, the sidebar offers its counties too."""
    if ctx.regions[region].level != "city" or not ctx.regions.children(region):
        return region
    options = [region, *(r.code for r in ctx.regions.children(region))]
    _hand_back("county", options, region)
    chosen = st.sidebar.selectbox("区县", options, key="county",
                                  format_func=lambda c: "（全市）" if c == region else ctx.regions[c].name)
    st.session_state["_kept_county"] = chosen
    return chosen


def open_detail(ctx: Context, region: str, choice: tuple[str, str]) -> None:
    """Open 指标详情 for ``region`` (a city or a county) on ``choice`` (("target", id) or
    ("indicator", id)): the choices are handed over through the keys the sidebar hands back."""
    r = ctx.regions[region]
    city, county = (r.parent, region) if r.level == "county" else (region, region)
    for key in ("region", "city", "county"):
        st.session_state.pop(key, None)  # the widgets of this page must not win over the hand-over
    # the region box holds the city under a province's or city's set; under a national set it
    # holds the province, and the 市 box the city
    set_id = st.session_state.get("_kept_target_set")
    national = set_id is not None and ctx.regions[ctx.config.target_set(set_id).region].level == "country"
    province = next((a.code for a in [r, *ctx.regions.ancestors(region)] if a.level == "province"), city)
    st.session_state.update({"_kept_region": province if national else city, "_kept_city": city,
                             "_kept_county": county, "detail_choice": choice})
    st.switch_page("pages/indicator.py")


def detail_choice_for(tset, indicator_id: str) -> tuple[str, str]:
    """The 指标详情 choice showing ``indicator_id``: its target in the set, else its bare trend."""
    from monitor.domain.config import MilestoneTarget

    target = next((t for t in tset.targets if not isinstance(t, MilestoneTarget) and t.indicator == indicator_id), None)
    return ("target", target.id) if target is not None else ("indicator", indicator_id)


def map_parent(ctx: Context, region: str) -> str | None:
    """The region whose children a regional view shows for the sidebar's region: 全国 shows its
    provinces, a province its cities, a city its counties, a county its city's counties."""
    r = ctx.regions[region]
    if r.level in ("country", "province", "city"):
        return region
    return r.parent if r.level in ("county", "zone") else None


def regional_scope(ctx: Context, region: str, view: str) -> tuple[str, str, str]:
    """(parent code, parent name, "各省", "各市" or "各区县") of a regional view (地图, 状态矩阵, 排名);
    stops the page with a hint when the sidebar region has no children to compare.

    A city compares with the other cities of its province first (where a city's set and its data
    are), or, chosen above the view, with its own counties."""
    parent = map_parent(ctx, region)
    r = ctx.regions[region]
    province = ctx.regions[r.parent] if r.level in ("city", "zone") and r.parent else None
    if province is not None and province.level == "province":
        labels = {"siblings": f"{province.name}各市（同级比较）", "children": f"{r.name}各区县"}
        if not ctx.regions.children(region):
            labels.pop("children")
        scope = st.segmented_control("比较范围", list(labels), format_func=labels.get, key="regional_scope",
                                     default="siblings") or "siblings"
        parent = province.code if scope == "siblings" or scope not in labels else region
    if parent is None:
        st.info(f"请在侧边栏选择全国、一个省或一个市：{view}比较全国各省、一个省的各市，或一个市的各区县。")
        st.stop()
    level_name = {"country": "各省", "province": "各市"}.get(ctx.regions[parent].level, "各区县")
    return parent, ctx.regions[parent].name, level_name


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


def selected_customdata(event) -> list | None:
    """The customdata of the point or cell clicked in a chart drawn with on_select, or None."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        data = point.get("customdata")
        if data:
            return list(data)
    return None


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
def cached_rollback_preview(version: int, batch_id: int) -> tuple[int, int, list[str]] | None:
    """What rolling back a batch would do: values restored, values removed, and one sentence per
    later batch that re-reported values unchanged (「批次 7 于……再次报送了相同数值，回滚后保留」);
    None when it would refuse (the rollback button says why when pressed)."""
    from monitor.errors import HistoryError
    from monitor.store.history import rollback_preview

    try:
        preview = rollback_preview(get_context().store, batch_id)
    except HistoryError:
        return None
    return preview.restored, preview.removed, preview.sentences()
