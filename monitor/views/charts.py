"""Every chart of the product, as plotly figures. Pages draw them; exports (PNG, PDF, the
briefing) render the very same figures, so what a meeting sees is what the page showed.

Figures carry their own title, unit, region, "数据截至" month and source line, and use a CJK
font family so server-side exports render Chinese (docs/decisions.md D10: Noto Sans CJK via fontconfig).
"""

from __future__ import annotations

import math
import re

import pandas as pd
import plotly.graph_objects as go

from monitor.domain.periods import format_month_cn
from monitor.domain.sources import source_names
from monitor.evaluation import STATUS_COLORS, Status
from monitor.views.formatting import format_value, missing

FONT_FAMILY = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"
ORIGIN_STYLE = {
    "published": {"name": "公布值", "color": "#1f4e9c", "symbol": "diamond", "size": 10},
    "estimated": {"name": "推算（由公布的每万人口值）", "color": "#7b5ea7", "symbol": "diamond-open", "size": 9},
    "demo": {"name": "示例数据", "color": "#9aa7b8", "symbol": "circle", "size": 5},
    "upload": {"name": "报送值", "color": "#2a7f62", "symbol": "circle", "size": 6},
}


def _layout(fig: go.Figure, title: str, subtitle: str, source: str, *, height: int = 420,
            has_demo: bool = False, sources: list[str] | None = None) -> go.Figure:
    # Legend and source line sit a fixed number of pixels below the plot, whatever its height, so
    # the source line is never cut off in an export. ``meta`` keeps what an export stamps on the
    # figure (monitor.output.export.slide_figure): whether a demo value is drawn and the sources by name.
    margin = {"l": 60, "r": 30, "t": 80, "b": 110}
    plot_height = max(height - margin["t"] - margin["b"], 40)
    fig.update_layout(
        title={"text": f"{title}<br><sup>{subtitle}</sup>", "x": 0.01, "xanchor": "left"},
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin=margin,
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -44 / plot_height, "yanchor": "top", "x": 0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        meta={"has_demo": bool(has_demo), "sources": source_names(sources or [])},
    )
    fig.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, yshift=-(margin["b"] - 26),
                       showarrow=False, font={"size": 10, "color": "#666"}, xanchor="left", yanchor="top",
                       name="source")
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee", zerolinecolor="#ccc")
    return fig


def source_line(has_demo: bool, sources: list[str] | None = None) -> str:
    """「来源：国家知识产权局；公开报道　含示例数据（虚构，仅供演示）」: publishers by name, no URLs."""
    parts = []
    names = source_names(sources or [])
    if names:
        parts.append("来源：" + "；".join(names))
    if has_demo:
        parts.append("含示例数据（虚构，仅供演示）")
    return "　".join(parts) if parts else "来源：本系统数据库"


def trajectory_figure(
    measure: pd.DataFrame,
    *,
    title: str,
    region_name: str,
    unit: str,
    as_of: str,
    baseline: tuple[str, float] | None = None,
    target: tuple[str, float] | None = None,
    projection: tuple[str, float] | None = None,
    reference: pd.DataFrame | None = None,
    reference_name: str | None = None,
    sources: list[str] | None = None,
) -> go.Figure:
    """An indicator over time against its target.

    ``measure``: month, value, origin (published/demo/upload) — what the target is judged on.
    ``baseline`` and ``target`` are (month, value) points joined by the straight line the status
    is judged against; ``projection`` extends from the latest value to the deadline.
    """
    fig = go.Figure()
    if not measure.empty:
        fig.add_trace(go.Scatter(x=measure["month"], y=measure["value"], mode="lines", name=title,
                                 line={"color": "#3b6fb6", "width": 2}, hoverinfo="skip", showlegend=False))
        for origin, style in ORIGIN_STYLE.items():
            part = measure[measure["origin"] == origin]
            if part.empty:
                continue
            fig.add_trace(go.Scatter(
                x=part["month"], y=part["value"], mode="markers", name=style["name"],
                marker={"color": style["color"], "symbol": style["symbol"], "size": style["size"]},
                hovertemplate=f"%{{x}}<br>%{{y:,.2f}}{unit}<br>{style['name']}<extra></extra>",
            ))
    if reference is not None and not reference.empty:
        fig.add_trace(go.Scatter(x=reference["month"], y=reference["value"], mode="lines+markers",
                                 name=reference_name or "参照", line={"color": "#b07aa1", "dash": "dot"}))
    if baseline and target:
        fig.add_trace(go.Scatter(x=[baseline[0], target[0]], y=[baseline[1], target[1]], mode="lines",
                                 name="线性进度（基数→目标）", line={"color": "#e39b2d", "dash": "dash"}))
    if baseline:
        fig.add_trace(go.Scatter(x=[baseline[0]], y=[baseline[1]], mode="markers", name="基数",
                                 marker={"color": "#e39b2d", "size": 9, "symbol": "square"}))
    if target:
        fig.add_trace(go.Scatter(x=[target[0]], y=[target[1]], mode="markers+text", name="目标",
                                 marker={"color": "#c0392b", "size": 14, "symbol": "star"},
                                 text=[f"目标 {target[1]:g}"], textposition="top center", cliponaxis=False))
    if projection and not measure.empty:
        last = measure.iloc[-1]
        fig.add_trace(go.Scatter(x=[last["month"], projection[0]], y=[last["value"], projection[1]],
                                 mode="lines+markers", name="趋势外推", line={"color": "#7f8c8d", "dash": "dot"},
                                 marker={"size": 6}))
    fig.update_xaxes(type="category" if measure.empty else "date", tickformat="%Y-%m")
    # no axis title: plotly turns it on its side (a lone 「件」 lying down); the subtitle names the unit
    has_demo = bool((measure["origin"] == "demo").any()) if not measure.empty else False
    return _layout(fig, f"{region_name} · {title}", f"单位：{unit}　数据截至{format_month_cn(as_of)}",
                   source_line(has_demo, sources), has_demo=has_demo, sources=sources)


def comparison_figure(frame: pd.DataFrame, *, title: str, unit: str, as_of: str, has_demo: bool,
                      subtitle_extra: str = "") -> go.Figure:
    """Regions ranked by value, each against its own target where it has one, gaps as bars.

    ``frame``: region_name, value, target (may be NaN), status (may be None).
    """
    data = frame.sort_values("value", ascending=True)
    colors = [STATUS_COLORS.get(Status(s), "#3b6fb6") if isinstance(s, str) and s else "#3b6fb6"
              for s in data.get("status", [None] * len(data))]
    fig = go.Figure(go.Bar(
        x=data["value"], y=data["region_name"], orientation="h", marker={"color": colors}, name="当前值",
        text=[format_value(v) for v in data["value"]], textposition="outside",
        hovertemplate="%{y}<br>%{x:,.2f}" + unit + "<extra></extra>", showlegend=False,
    ))
    # the legend names every bar colour: one entry per status present (a bar without a target: 无目标)
    present = [s for s in data.get("status", pd.Series(dtype=object)).dropna().unique() if s]
    for status in Status:
        if status.value in present:
            fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=f"当前值：{status.value}",
                                 marker={"color": STATUS_COLORS[status]}, hoverinfo="skip"))
    if data.get("status", pd.Series([None] * len(data))).isna().any() or "status" not in data:
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name="当前值（无目标）", marker={"color": "#3b6fb6"},
                             hoverinfo="skip"))
    if "target" in data and data["target"].notna().any():
        fig.add_trace(go.Scatter(x=data["target"], y=data["region_name"], mode="markers", name="目标",
                                 marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#c0392b"}}))
    fig.update_xaxes(title_text=unit)
    values = pd.to_numeric(pd.concat([data["value"], data.get("target", pd.Series(dtype="float64"))]),
                           errors="coerce").dropna()
    if not values.empty and values.min() >= 0:
        fig.update_xaxes(range=[0, values.max() * 1.15])  # room for the value printed after the longest bar
    height = max(360, 34 * len(data) + 160)
    return _layout(fig, title, f"单位：{unit}　数据截至{format_month_cn(as_of)}{subtitle_extra}",
                   source_line(has_demo), height=height, has_demo=has_demo)


def gap_figure(frame: pd.DataFrame, *, title: str, unit: str, as_of: str, has_demo: bool) -> go.Figure:
    """Gap to target per region, one horizontal bar per region (readable for one region or 31):
    red where the region is short of its target, green where it is beyond it; both in the legend."""
    data = frame.dropna(subset=["gap"]).sort_values("gap", ascending=True)
    fig = go.Figure()
    for short, name, color in ((True, "未达目标：还差", "#c0392b"), (False, "已达目标：超出", "#2e8b57")):
        part = data[(data["gap"] > 0) == short]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            x=part["gap"].abs(), y=part["region_name"], orientation="h", name=name, marker={"color": color},
            text=[_hover_value(abs(g), unit) for g in part["gap"]], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}<br>" + name + " %{x:,.2f}" + unit + "<extra></extra>"))
    fig.update_layout(barmode="overlay", bargap=0.35)
    # room right of the longest bar for its label (「110.78件/万人」), which would be cut at the edge
    longest = float(data["gap"].abs().max()) if len(data) else 0.0
    fig.update_xaxes(title_text=f"距目标差距（{unit}）", range=[0, longest * 1.22 or 1])
    height = max(300, 30 * len(data) + 230)
    return _layout(fig, title, f"单位：{unit}　数据截至{format_month_cn(as_of)}", source_line(has_demo), height=height,
                   has_demo=has_demo)


def status_figure(counts: dict[str, int], *, title: str, as_of: str, has_demo: bool = False) -> go.Figure:
    """How many targets per status, as one stacked bar."""
    fig = go.Figure()
    for status in Status:
        n = counts.get(status.value, 0)
        if n:
            fig.add_trace(go.Bar(x=[n], y=["目标"], orientation="h", name=f"{status.value} {n}",
                                 marker={"color": STATUS_COLORS[status]}, text=[f"{status.value} {n}"],
                                 textposition="inside"))
    fig.update_layout(barmode="stack", showlegend=False)
    fig.update_yaxes(visible=False)
    fig.update_xaxes(visible=False)
    fig = _layout(fig, title, f"数据截至{format_month_cn(as_of)}", "", height=180, has_demo=has_demo)
    # no legend and no source line below this one bar: _layout's 110 px bottom margin would leave
    # it no height at all (it was drawn as a hairline)
    return fig.update_layout(margin={"b": 20})


# --------------------------------------------------------------------------- regional maps and grids

NO_DATA_COLOR = STATUS_COLORS[Status.NO_DATA]
MAP_VALUE_SCALE = "Blues"
# plotly's map projection draws 512-px tiles at zoom 0; the zoom is fitted to this width.
_MAP_ASSUMED_WIDTH_PX = 760


def _fit_zoom(bounds: tuple[float, float, float, float], width: int, height: int) -> float:
    """The zoom at which ``bounds`` (lon/lat) fill a ``width`` × ``height`` map (Web Mercator)."""
    lon_min, lat_min, lon_max, lat_max = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_zoom = math.log2(width * 360 / (512 * max(lon_max - lon_min, 1e-6)))
    lat_zoom = math.log2(height * 2 * math.pi / (512 * max(merc(lat_max) - merc(lat_min), 1e-6)))
    return round(min(lon_zoom, lat_zoom) - 0.15, 2)


def _hover_value(value, unit: str) -> str:
    return "无数据" if missing(value) else format_value(value) + unit


def region_map_figure(shapes, frame: pd.DataFrame, *, color_by: str, title: str, unit: str, as_of: str,
                      outline_name: str, has_demo: bool, sources: list[str] | None = None,
                      height: int = 620, width: int | None = None) -> go.Figure:
    """A choropleth of the regions in ``shapes`` (a monitor.domain.geo.RegionShapes) with the parent's outline.

    ``frame``: region_code, region_name, value, period, status, target, explanation (monitor.views.mapdata).
    ``color_by``: "status" (one legend entry per status) or "value" (a colour scale). Regions with no
    value (or status 无数据) are drawn grey and named 无数据 — never coloured as zero. Drawn with
    plotly's tile-free "white-bg" map style, so it needs no network.
    """
    from monitor.domain.geo import WITHOUT_STATISTICS

    drawn = set(shapes.codes)
    data = frame[frame["region_code"].isin(drawn)].copy()
    # Regions with geometry but no row at all still appear, as 无数据.
    absent = [c for c in shapes.codes if c not in set(data["region_code"])]
    if absent:
        names = {f["id"]: f["properties"]["name"] for f in shapes.geojson["features"]}
        from monitor.domain.geo import WITHOUT_STATISTICS_REASON

        data = pd.concat([data, pd.DataFrame({"region_code": absent, "region_name": [names[c] for c in absent],
                                              "status": Status.NO_DATA.value,
                                              "explanation": [WITHOUT_STATISTICS_REASON if c in WITHOUT_STATISTICS
                                                              else None for c in absent]})],
                         ignore_index=True)
    no_value = data["value"].isna() if color_by == "value" else data["status"].isin([None, Status.NO_DATA.value])
    data["shown_value"] = [_hover_value(v, unit) for v in data["value"]]
    data["shown_target"] = [_hover_value(t, unit) if t is not None and t == t else "—" for t in data["target"]]
    data["shown_status"] = data["status"].fillna("—")
    data["shown_explanation"] = data["explanation"].fillna("")
    custom = ["region_code", "region_name", "shown_value", "shown_target", "shown_status", "shown_explanation"]
    hover = ("<b>%{customdata[1]}</b><br>数值：%{customdata[2]}<br>目标：%{customdata[3]}"
             "<br>状态：%{customdata[4]}<br>%{customdata[5]}<extra></extra>")

    def trace(part: pd.DataFrame, **kwargs) -> go.Choroplethmap:
        # Each trace carries only its own regions' features: the page receives every shape once.
        codes = set(part["region_code"])
        features = {"type": "FeatureCollection",
                    "features": [f for f in shapes.geojson["features"] if f["id"] in codes]}
        return go.Choroplethmap(
            geojson=features, locations=part["region_code"], featureidkey="id",
            customdata=part[custom].to_numpy(), hovertemplate=hover,
            marker={"line": {"color": "white", "width": 1}}, **kwargs,
        )

    fig = go.Figure()
    if color_by == "value":
        valued = data[~no_value]
        if not valued.empty:
            fig.add_trace(trace(valued, z=valued["value"], colorscale=MAP_VALUE_SCALE, name="数值",
                                colorbar={"title": {"text": unit}, "thickness": 14, "len": 0.7}))
    else:
        for status in Status:
            part = data[(data["status"] == status.value) & ~no_value]
            if part.empty:
                continue
            fig.add_trace(trace(part, z=[1] * len(part), colorscale=[[0, STATUS_COLORS[status]],
                                                                     [1, STATUS_COLORS[status]]],
                                showscale=False, showlegend=True, name=f"{status.value}（{len(part)}）"))
    missing = data[no_value]
    if not missing.empty:
        fig.add_trace(trace(missing, z=[1] * len(missing), colorscale=[[0, NO_DATA_COLOR], [1, NO_DATA_COLOR]],
                            showscale=False, showlegend=True, name=f"无数据（{len(missing)}）",
                            marker_opacity=0.55))
    # Names in white on dark fills, in black on pale ones (the map's text has no halo to lean on).
    if color_by == "value":
        valued = data[~no_value]
        low, high = valued["value"].min(), valued["value"].max()
        dark = set(valued.loc[(valued["value"] - low) >= 0.55 * (high - low), "region_code"]) if high > low else set()
    else:
        fills = {s.value: STATUS_COLORS[s] for s in Status}
        dark = set(data.loc[~no_value & data["status"].map(lambda st: _is_dark(fills.get(st, "#ffffff"))),
                            "region_code"])
    dark -= set(_LABEL_OFFSETS)  # a name set off over the sea is on white
    labels = region_labels(shapes)
    for ink, on_dark in (("#222", False), ("#fff", True)):
        chosen = [label for label in labels if (label[0] in dark) is on_dark]
        if chosen:
            fig.add_trace(go.Scattermap(lon=[c[1] for c in chosen], lat=[c[2] for c in chosen],
                                        text=[c[3] for c in chosen], mode="text", hoverinfo="skip",
                                        textfont={"size": 10, "color": ink}, name="地区名称", showlegend=False))
    from monitor.domain.geo import outline_path

    lons, lats = outline_path(shapes.outline)
    if lons:
        fig.add_trace(go.Scattermap(lon=lons, lat=lats, mode="lines", line={"color": "#333", "width": 2},
                                    hoverinfo="skip", name=f"{outline_name}边界", showlegend=False))
    bounds = shapes.bounds
    if shapes.parent == "100000":
        bounds = _standard_map_of_china(fig, shapes, lons, lats)
    lon_min, lat_min, lon_max, lat_max = bounds
    fig.update_layout(map={"style": "white-bg", "domain": {"x": [0, 1], "y": [0, 1]},
                           "center": {"lon": (lon_min + lon_max) / 2,
                                                           "lat": (lat_min + lat_max) / 2},
                           "zoom": _fit_zoom(bounds, width or _MAP_ASSUMED_WIDTH_PX, height - 190)},
                      clickmode="event+select", dragmode=False)
    subtitle = (f"单位：{unit}　" if unit else "") + f"数据截至{format_month_cn(as_of)}　灰色：无数据"
    fig = _layout(fig, title, subtitle, source_line(has_demo, sources) + "　边界：高德地图行政区划数据", height=height,
                  has_demo=has_demo, sources=sources)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80, "b": 110}, legend={"y": -0.02, "yanchor": "top"})
    fig.layout.annotations[0].update(y=-0.12)
    if shapes.parent == "100000":  # the inset's frame and name, after the source line (annotation 0)
        fig.add_annotation(text="南海诸岛", x=0.9, y=0.035, xref="paper", yref="paper", showarrow=False,
                           font={"size": 11, "color": "#333"}, bgcolor="rgba(255,255,255,0.8)")
        fig.add_shape(type="rect", xref="paper", yref="paper", x0=0.80, x1=0.995, y0=0.02, y1=0.34,
                      line={"color": "#666", "width": 1})
    return fig


# The national map's smallest regions are a few pixels wide: their names are set off their
# neighbours', over the sea (degrees of longitude, latitude), as printed maps of China do.
_LABEL_OFFSETS = {"120000": (1.8, -0.6), "310000": (1.6, 0.0), "810000": (1.5, -0.8), "820000": (-1.3, -1.0)}


def _is_dark(color: str) -> bool:
    """Whether white text reads better than black on ``color`` ("#rrggbb")."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 150


def region_labels(shapes) -> list[tuple[str, float, float, str]]:
    """(code, lon, lat, name): where each region's name is written on a map, and the name: 「太原」, 「内蒙古」 (short names keep
    neighbouring labels apart), at the pole of inaccessibility of the region's largest part, the
    point of it farthest from its edge (a ring-shaped 河北 gets its label on land, not in 北京)."""
    from shapely.geometry import shape
    from shapely.ops import polylabel

    from monitor.domain.regions import short_name_of

    placed = []
    for feature in shapes.geojson["features"]:
        geom = shape(feature["geometry"])
        if geom.is_empty:
            continue
        part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        point = polylabel(part, tolerance=0.02) if part.geom_type == "Polygon" else part.representative_point()
        dx, dy = _LABEL_OFFSETS.get(feature["id"], (0, 0))
        placed.append((geom.area, feature["id"], round(point.x + dx, 3), round(point.y + dy, 3),
                       short_name_of(feature["properties"]["name"])))
    # The map drops a label that would overlap one placed before it: the smallest regions go first,
    # so 天津 keeps its name beside 河北 (which has room to spare).
    return [p[1:] for p in sorted(placed)]


def _standard_map_of_china(fig: go.Figure, shapes, outline_lons: list, outline_lats: list) -> tuple:
    """What a map of all China needs to be a 标准地图 rather than a 问题地图: the maritime boundary
    on the main map, and 南海诸岛 in an inset (a second map of the same land and line, bottom right).
    Returns the main map's bounds (the islands south of the main map are in the inset)."""
    from monitor.domain.geo import NATIONAL_MAIN_MIN_LAT, SOUTH_CHINA_SEA_BOUNDS, maritime_boundary

    sea_lons, sea_lats = maritime_boundary()
    line = {"color": "#333", "width": 1.6}
    fig.add_trace(go.Scattermap(lon=sea_lons, lat=sea_lats, mode="lines", line=line, hoverinfo="skip",
                                name="海上边界", showlegend=False))
    # the inset: every region's shape as a plain grey land mass, the outline and the maritime line
    land = {"type": "FeatureCollection", "features": shapes.geojson["features"]}
    fig.add_trace(go.Choroplethmap(geojson=land, locations=[f["id"] for f in land["features"]], featureidkey="id",
                                   z=[1] * len(land["features"]), colorscale=[[0, "#e8e8e8"], [1, "#e8e8e8"]],
                                   showscale=False, showlegend=False, hoverinfo="skip",
                                   marker={"line": {"color": "#bbb", "width": 0.5}}, subplot="map2"))
    for lons, lats, name in ((outline_lons, outline_lats, "全国边界（南海诸岛）"), (sea_lons, sea_lats, "海上边界（南海诸岛）")):
        if lons:
            fig.add_trace(go.Scattermap(lon=lons, lat=lats, mode="lines", line={"color": "#333", "width": 1},
                                        hoverinfo="skip", name=name, showlegend=False, subplot="map2"))
    lon_min, lat_min, lon_max, lat_max = SOUTH_CHINA_SEA_BOUNDS
    fig.update_layout(map2={"style": "white-bg", "domain": {"x": [0.80, 0.995], "y": [0.02, 0.34]},
                            "center": {"lon": (lon_min + lon_max) / 2, "lat": (lat_min + lat_max) / 2},
                            "zoom": _fit_zoom(SOUTH_CHINA_SEA_BOUNDS, 150, 190)})
    full = shapes.bounds
    return (full[0], max(full[1], NATIONAL_MAIN_MIN_LAT), full[2], full[3])


def progress_label(progress, status: str | None) -> str | None:
    """Progress as a cell or card reads it, never contradicting the status's colour: beyond the
    target 「超额」 (the exact 1763 % says nothing a reader needs); short of it never 「100%」 (99.6 %
    reads 99%); None without a progress figure."""
    if not isinstance(progress, (int, float)) or progress != progress:
        return None
    reached = status == Status.ACHIEVED.value
    if progress > 1 + 1e-9:
        return "超额" if reached else "99%"  # past the line's end yet not reached: cannot read as done
    if reached:
        return "100%"
    return f"{min(math.floor(progress * 100 + 1e-9), 99)}%"


_WORD = re.compile(r"[A-Za-z0-9.%/]+|.", re.S)
# Words of the indicators' names a label never breaks inside (「地理标志商<br>标」 reads as nonsense);
# longer words first, as they are matched in this order.
_TERMS = tuple(sorted((
    "每万人口", "每万户", "高价值", "发明专利", "外观设计", "专利", "有效量", "拥有量", "授权量", "受理量", "申请",
    "注册商标", "商标", "注册量", "市场主体", "数量", "地理标志", "保护产品", "农产品", "登记量", "登记", "总数",
    "专用标志", "用标企业", "作品", "著作权", "知识产权", "质押融资", "金额", "项目数", "惠及", "中小企业",
    "密集型", "产业", "增加值", "占GDP比重", "比重", "版权", "使用费", "进出口", "总额", "产业化率", "企业",
    "省级", "转化项目", "转让", "次数", "示范试点", "城市", "园区", "县（区）", "优势企业", "示范企业", "贯标单位",
    "专利导航", "人才", "保护", "社会满意度", "行政处罚", "案件", "侵权纠纷", "行政裁决", "民事一审", "服判息诉率",
    "国际", "有效",
), key=len, reverse=True))


def _unbreakable(text: str) -> set[int]:
    """Positions inside a word of ``_TERMS`` or a Latin word or number, where no line may break."""
    inside: set[int] = set()
    taken = [False] * len(text)
    for term in _TERMS:
        start = text.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(term)
                inside.update(range(start + 1, end))
            start = text.find(term, end)
    for m in re.finditer(r"[A-Za-z0-9.%/]+", text):
        inside.update(range(m.start() + 1, m.end()))
    return inside


def _wrap(text: str, width: int) -> str:
    """Break a long Chinese label into lines of about ``width`` characters (axis labels do not
    wrap), at word boundaries: 「专利密集型<br>产业增加值<br>占GDP比重」, 「地理标志<br>商标」, never
    「GD/P比重」 or 「地理标志商/标」. A run longer than ``width`` with no boundary is broken anyway."""
    inside = _unbreakable(text)

    def cost(part: str) -> float:  # Latin letters and digits are about half as wide
        return sum(0.5 if ch.isascii() else 1.0 for ch in part)

    lines, start = [], 0
    while cost(text[start:]) > width:
        fits = [i for i in range(start + 1, len(text)) if cost(text[start:i]) <= width]
        breaks = [i for i in fits if i not in inside]
        cut = breaks[-1] if breaks else (fits[-1] if fits else start + 1)
        lines.append(text[start:cut])
        start = cut
    lines.append(text[start:])
    return "<br>".join(line for line in lines if line)


GRID_KEYS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def grid_column_keys(grid) -> list[tuple[str, str]]:
    """(key, indicator name) per column of a phone's grid: its columns are too narrow for names."""
    return [(GRID_KEYS[i] if i < len(GRID_KEYS) else str(i + 1), grid.target_labels[t])
            for i, t in enumerate(grid.targets)]


def status_grid_figure(grid, *, title: str, as_of: str, has_demo: bool, keyed: bool = False) -> go.Figure:
    """Regions (rows, in the grid's order) × targets (columns), each cell coloured by status and
    labelled with progress; hover gives the explanation. ``grid``: a monitor.views.grid.StatusGrid.
    ``keyed``: columns headed ①②③… (a phone's width; ``grid_column_keys`` says which is which)."""
    statuses = list(Status)
    status = grid.matrix("status")
    progress = grid.matrix("progress")
    explanation = grid.matrix("explanation")
    index = {s.value: i for i, s in enumerate(statuses)}
    z = status.apply(lambda col: col.map(lambda s: index.get(s, index[Status.NO_DATA.value])))
    n = len(statuses)
    scale = []
    for i, s in enumerate(statuses):  # a stepped scale: each status index gets exactly its colour
        scale += [[i / n, STATUS_COLORS[s]], [(i + 1) / n, STATUS_COLORS[s]]]

    def label(p, s) -> str:
        return progress_label(p, s) or (s if isinstance(s, str) else "—")

    text = [[label(progress.iat[r, c], status.iat[r, c]) for c in range(status.shape[1])]
            for r in range(status.shape[0])]
    names = {code: grid.cells.loc[grid.cells["region_code"] == code, "region_name"].iloc[0] for code in grid.regions}
    behind = grid.behind_counts()
    rows = [f"{names[c]}（滞后{behind[c]}）" for c in grid.regions]
    cols = ([k for k, _ in grid_column_keys(grid)] if keyed
            else [_wrap(grid.target_labels[t], 5) for t in grid.targets])
    shown = grid.matrix("status_label")  # a reference's verdict reads 「已达成（参考）」
    custom = [[[grid.regions[r], grid.targets[c], shown.iat[r, c] or "—", explanation.iat[r, c] or ""]
               for c in range(status.shape[1])] for r in range(status.shape[0])]
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype="float64"), x=cols, y=rows, zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
        text=text, texttemplate="%{text}", textfont={"size": 12, "color": "white"}, xgap=2, ygap=2,
        customdata=custom, hovertemplate="<b>%{y}</b> · %{x}<br>状态：%{customdata[2]}<br>%{customdata[3]}<extra></extra>",
    ))
    # zmin/zmax put each index in the middle of its step of the scale.
    fig.data[0].update(zmin=0, zmax=n, z=z.to_numpy(dtype="float64") + 0.5)
    present = set(status.stack().dropna())
    for s in statuses:  # a legend of the statuses shown, as markers without points
        if s.value not in present:
            continue
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=s.value,
                                 marker={"color": STATUS_COLORS[s], "size": 12, "symbol": "square"}))
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(side="top", showgrid=False, tickangle=0)
    height = max(380, 34 * len(rows) + 250)
    fig = _layout(fig, title, f"格内数字为进度（基数→目标已完成的比例）　数据截至{format_month_cn(as_of)}",
                  source_line(has_demo), height=height, has_demo=has_demo)
    top = 95 + 15 * (1 + max((c.count("<br>") for c in cols), default=0))
    fig.update_layout(margin={"l": 110 if keyed else 150, "r": 10 if keyed else 20, "t": top, "b": 90},
                      clickmode="event+select",
                      legend={"y": -0.04, "yanchor": "top"})
    # The column labels sit above the cells: the title goes to the very top, not mid-margin.
    fig.update_layout(title={"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 14}})
    fig.update_xaxes(tickfont={"size": 11})
    fig.layout.annotations[0].update(y=-0.16)
    return fig


# A title line breaks after these (or before 「（」): 「晋城市 ·|有效发明专利拥有量」, 「单位：件　|数据截至…」.
_TITLE_BREAKS_AFTER = frozenset("·　：、，）")
_LINE_SPACING = 1.3  # plotly's, in font sizes


def _em(token: str) -> float:
    return 0.6 * len(token) if token[0].isascii() else 1.0  # a Latin letter or digit is about 0.6 em


def _title_lines(text: str, em: float) -> list[str]:
    """``text`` in lines of at most ``em`` font sizes: its pieces between separators packed into lines,
    a piece longer than a line broken where it reaches the end, never inside a Latin word or number."""
    pieces, piece = [], []
    for token in _WORD.findall(text):
        if piece and (piece[-1] in _TITLE_BREAKS_AFTER or token == "（"):
            pieces.append(piece)
            piece = []
        piece.append(token)
    pieces.append(piece)
    lines, line = [], []
    for piece in pieces:
        if line and sum(map(_em, line + piece)) > em:
            lines.append(line)
            line = []
        for token in piece:
            if line and sum(map(_em, line)) + _em(token) > em:
                lines.append(line)
                line = []
            line.append(token)
    return [s for s in ("".join(line).strip() for line in [*lines, line]) if s]


def fit_title(fig: go.Figure, width: int) -> go.Figure:
    """The figure with its title and subtitle broken into lines that fit ``width`` px (plotly does not
    wrap a title: on a phone it runs off the right edge). The top margin and the height grow by
    the lines added, so the plot keeps its size; a title that already fits comes back as it is."""
    text = fig.layout.title.text
    if not text:
        return fig
    size = fig.layout.title.font.size or (fig.layout.font.size or 12) * 1.4
    usable = width * (1 - (fig.layout.title.x or 0)) - 12
    parts = text.split("<br>")
    lines = []
    for part in parts:
        sup = re.fullmatch(r"<sup>(.*)</sup>", part)
        if sup:  # plotly draws <sup> at 70 %
            lines += [f"<sup>{line}</sup>" for line in _title_lines(sup.group(1), usable / (0.7 * size))]
        else:
            lines += _title_lines(part, usable / size)
    if len(lines) == len(parts):
        return fig
    added = round((len(lines) - len(parts)) * _LINE_SPACING * size)
    fitted = go.Figure(fig)
    # from the top down: plotly's "auto" place would let the added lines rise above the figure
    fitted.update_layout(title={"text": "<br>".join(lines), "yref": "container", "y": 1, "yanchor": "top",
                                "pad": {"t": 24}},
                         margin_t=(fig.layout.margin.t or 80) + added, height=(fig.layout.height or 450) + added)
    return fitted
