"""The sidebar every read page draws (target set, region, as-of month, published day) and the
drill-down state: the choices kept across pages and handed over when a click opens 指标详情."""

from __future__ import annotations

import streamlit as st

from monitor.context import Context
from monitor.domain import clock
from monitor.domain.geo import map_children
from monitor.domain.periods import format_month_cn
from monitor.store.history import publication_dates
from pages._caches import cached_months
from pages._context import context_or_stop, data_version


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
    months = cached_months(data_version())
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
    st.session_state[_ALTERNATIVE_KEY] = None
    province = ctx.regions[r.parent] if r.level in ("city", "zone") and r.parent else None
    city = ctx.regions[r.parent] if r.level == "county" and r.parent else None
    up = ctx.regions[city.parent] if city is not None and city.parent else None
    if province is not None and province.level == "province":
        labels = {"siblings": f"{province.name}各市（同级比较）", "children": f"{r.name}各区县"}
        if not ctx.regions.children(region):
            labels.pop("children")
        scope = _scope_control(labels)
        parent = province.code if scope == "siblings" else region
    elif up is not None and up.level == "province":  # a county: its city's counties, or the province's cities
        scope = _scope_control({"siblings": f"{city.name}各区县（同级比较）", "up": f"{up.name}各市"})
        parent = up.code if scope == "up" else city.code
    if parent is None:
        st.info(f"请在侧边栏选择全国、一个省或一个市：{view}比较全国各省、一个省的各市，或一个市的各区县。")
        st.stop()
    level_name = {"country": "各省", "province": "各市"}.get(ctx.regions[parent].level, "各区县")
    return parent, ctx.regions[parent].name, level_name



_ALTERNATIVE_KEY = "_regional_alternative"


def _scope_control(labels: dict[str, str]) -> str:
    """The 比较范围 control (same level first); remembers the other level for ``offer_other_level``."""
    scope = st.segmented_control("比较范围", list(labels), format_func=labels.get, key="regional_scope",
                                 default="siblings") or "siblings"
    scope = scope if scope in labels else "siblings"
    other = next((k for k in labels if k != scope), None)
    st.session_state[_ALTERNATIVE_KEY] = (other, labels[other].removesuffix("（同级比较）")) if other else None
    return scope


def offer_other_level(message: str) -> None:
    """Every region a regional view compares has no data (晋城's counties under its city set): say so
    and, where the sidebar's region can be compared at another level, switch to it in one click."""
    alternative = st.session_state.get(_ALTERNATIVE_KEY)
    with st.container(border=True):
        st.markdown(f"**{message}**")
        if alternative:
            key, label = alternative
            st.button(f"改看{label}", key="other_level", type="primary", icon=":material/swap_horiz:",
                      on_click=st.session_state.__setitem__, args=("regional_scope", key))


def selected_customdata(event) -> list | None:
    """The customdata of the point or cell clicked in a chart drawn with on_select, or None."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        data = point.get("customdata")
        if data:
            return list(data)
    return None
