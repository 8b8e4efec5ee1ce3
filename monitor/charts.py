"""Every chart of the product, as plotly figures. Pages draw them; exports (PNG, PDF, the
briefing) render the very same figures, so what a meeting sees is what the page showed.

Figures carry their own title, unit, region, "数据截至" month and source line, and use a CJK
font family so server-side exports render Chinese (RECIPES: Noto Sans CJK via fontconfig).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from monitor.evaluation import STATUS_COLORS, Status
from monitor.periods import format_month_cn

FONT_FAMILY = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"
ORIGIN_STYLE = {
    "published": {"name": "公布值", "color": "#1f4e9c", "symbol": "diamond", "size": 10},
    "demo": {"name": "示例数据", "color": "#9aa7b8", "symbol": "circle", "size": 5},
    "upload": {"name": "报送值", "color": "#2a7f62", "symbol": "circle", "size": 6},
}


def _layout(fig: go.Figure, title: str, subtitle: str, source: str, *, height: int = 420) -> go.Figure:
    # Legend and source line sit a fixed number of pixels below the plot, whatever its height, so
    # the source line is never cut off in an export.
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
    )
    fig.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, yshift=-(margin["b"] - 26),
                       showarrow=False, font={"size": 10, "color": "#666"}, xanchor="left", yanchor="top")
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee", zerolinecolor="#ccc")
    return fig


def source_line(has_demo: bool, sources: list[str] | None = None) -> str:
    parts = []
    if sources:
        parts.append("来源：" + "；".join(sorted(set(sources)))[:160])
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
    fig.update_yaxes(title_text=unit)
    has_demo = bool((measure["origin"] == "demo").any()) if not measure.empty else False
    return _layout(fig, f"{region_name} · {title}", f"单位：{unit}　数据截至{format_month_cn(as_of)}",
                   source_line(has_demo, sources))


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
        text=[f"{v:,.2f}".rstrip("0").rstrip(".") for v in data["value"]], textposition="outside",
        hovertemplate="%{y}<br>%{x:,.2f}" + unit + "<extra></extra>",
    ))
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
                   source_line(has_demo), height=height)


def gap_figure(frame: pd.DataFrame, *, title: str, unit: str, as_of: str, has_demo: bool) -> go.Figure:
    """Gap to target per region (positive = short of target), as bars."""
    data = frame.dropna(subset=["gap"]).sort_values("gap", ascending=False)
    colors = ["#c0392b" if g > 0 else "#2e8b57" for g in data["gap"]]
    fig = go.Figure(go.Bar(x=data["region_name"], y=data["gap"], marker={"color": colors}, name="差距",
                           hovertemplate="%{x}<br>差距 %{y:,.2f}" + unit + "<extra></extra>"))
    fig.update_yaxes(title_text=f"距目标差距（{unit}，正数为未达）")
    return _layout(fig, title, f"单位：{unit}　数据截至{format_month_cn(as_of)}", source_line(has_demo))


def status_figure(counts: dict[str, int], *, title: str, as_of: str) -> go.Figure:
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
    return _layout(fig, title, f"数据截至{format_month_cn(as_of)}", "", height=180)
