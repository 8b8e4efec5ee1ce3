"""One indicator of one region in detail: its measure over time against a target, the figure
that draws it, and the observations behind it with their origin."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from monitor.domain.periods import format_month_cn
from monitor.domain.sources import publisher_of
from monitor.domain.yeartodate import YTD_SUFFIX, span_label, ytd_id
from monitor.evaluation import Evaluation, evaluate_target, measure_path
from monitor.evaluation.applied import scale_for_region
from monitor.store.history import official_corrections
from monitor.store.notes import FLAG_LABEL, FLAG_STATES, ValueKey, batch_notes, notes_by_value
from monitor.store.series import as_series, indicator_values, year_to_date_values
from monitor.views.charts import trajectory_figure

ORIGIN_LABELS = {"published": "公布值", "estimated": "推算", "demo": "示例数据", "upload": "报送值"}
# The observations frame as people read it (指标详情, its download): one Chinese header per column.
OBSERVATION_HEADERS = {"month": "月份", "span": "口径", "value": "数值", "origin": "类型", "source": "来源",
                       "source_url": "原文链接",
                       "note": "备注", "flag": FLAG_LABEL, "population_year": "人口年份", "correction": "更正"}


@dataclass(frozen=True)
class IndicatorDetail:
    figure: go.Figure
    evaluation: Evaluation | None
    # month, value, origin, source_url, note, flag (observations_for_people: in Chinese); note: the value's
    # own note, the reason its batch's warnings were accepted, and people's comments (monitor/store/notes.py)
    observations: pd.DataFrame
    adjusted: str | None
    population_note: str | None


def _with_origin(points: pd.Series, values: pd.DataFrame) -> pd.DataFrame:
    origin = dict(zip(values["month"], values["origin"]))
    frame = pd.DataFrame({"month": list(points.index), "value": points.to_numpy(dtype="float64")})
    # a point with no value of its own (the 0 a running total starts from) is computed, not demo
    frame["origin"] = [origin.get(m, "computed") for m in frame["month"]]
    return frame


def correction_text(row) -> str:
    """What the 更正 cell says of a corrected value: its reason and the value it replaced."""
    old = "" if pd.isna(row.old_value) else f"，原值 {row.old_value:,.10g}"
    return f"更正：{row.reason}（{row.closed_on:%Y-%m-%d} 关账后修改{old}）"


def observations_table(values: pd.DataFrame, year_to_date: pd.DataFrame | None = None,
                       corrections: pd.DataFrame | None = None) -> pd.DataFrame:
    """month, value, origin (the store's code: published, demo, upload …), source_url, note
    (population_year for a per-capita series), newest first; with a monthly flow's reported 1–N月累计
    values, a ``span`` column that tells them from the months' own amounts (「当月」, 「1—6月累计」).
    With ``corrections`` (monitor/store/history.py official_corrections, for the values' and the
    1–N月累计's ids) among them, a ``correction`` column saying which values are 更正 and why."""
    marks: dict[tuple[bool, str], str] = {}
    if corrections is not None:
        for row in corrections.itertuples():
            marks[(str(row.indicator_id).endswith(YTD_SUFFIX), row.month)] = correction_text(row)

    def table_of(frame: pd.DataFrame, to_date: bool = False) -> pd.DataFrame:
        table = frame[["month", "value", "origin", "source_url", "note"]].reset_index(drop=True)
        if marks:
            table["correction"] = [marks.get((to_date, m), "") for m in table["month"]]
        return table

    table = table_of(values)
    if "population_year" in values.columns:
        table["population_year"] = values["population_year"].astype("Int64").reset_index(drop=True)
    if year_to_date is not None and not year_to_date.empty:
        table.insert(1, "span", "当月")
        reported = table_of(year_to_date, to_date=True)
        reported.insert(1, "span", [span_label(m)[5:] for m in year_to_date["month"]])
        table = pd.concat([table, reported], ignore_index=True)
        return table.sort_values(["month", "span"], ascending=[False, True]).reset_index(drop=True)
    return table.sort_values("month", ascending=False).reset_index(drop=True)


def stored_id(indicator_id: str, span: object) -> str:
    """The id a row of the observations table is stored (and noted) under: a reported 1–N月累计
    value under the flow's year-to-date series, every other row under the indicator's own id."""
    return ytd_id(indicator_id) if isinstance(span, str) and span != "当月" else indicator_id


def value_keys(observations: pd.DataFrame, indicator_id: str, region: str) -> list[tuple[str, ValueKey]]:
    """Each row of the observations table as (what a person reads: 「2026年10月」, 「2026年1—10月累计」,
    the key its notes are kept under), in the table's order."""
    spans = observations["span"] if "span" in observations.columns else [None] * len(observations)
    keys = []
    for month, span in zip(observations["month"], spans):
        label = format_month_cn(month) + (f"（{span}）" if isinstance(span, str) and span != "当月" else "")
        keys.append((label, ValueKey(region, stored_id(indicator_id, span), month)))
    return keys


def with_notes(table: pd.DataFrame, notes: pd.DataFrame, from_batches: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """The observations table with each value's notes in ``note`` (its own, then the batch's reason
    for accepting warnings, then people's comments, joined by 「；」) and its flag 跟踪核实 in ``flag``
    ('open', 'cleared' or None)."""
    spans = table["span"] if "span" in table.columns else pd.Series([None] * len(table), index=table.index)
    ids = [stored_id(indicator_id, span) for span in spans]
    comments = {(i, m): c for i, m, c in zip(notes["indicator_id"], notes["month"], notes["comments"])}
    flags = {(i, m): f for i, m, f in zip(notes["indicator_id"], notes["month"], notes["flag"])}
    reasons = {(i, m): n for i, m, n in zip(from_batches["indicator_id"], from_batches["month"], from_batches["note"])}

    def joined(*texts) -> str | None:
        kept = [t for t in texts if isinstance(t, str) and t]
        return "；".join(dict.fromkeys(kept)) or None

    keys = list(zip(ids, table["month"]))
    table = table.copy()
    table["note"] = [joined(own, reasons.get(k), comments.get(k)) for own, k in zip(table["note"], keys)]
    position = table.columns.get_loc("note") + 1
    table.insert(position, "flag", [flags.get(k) for k in keys])
    return table


def observations_for_people(observations: pd.DataFrame) -> pd.DataFrame:
    """``IndicatorDetail.observations`` with Chinese headers, each origin in words (公布值, 示例数据 …)
    and the flag as 待核实 / 已核实, as 指标详情 shows it and its download writes it."""
    words = observations["origin"].map(ORIGIN_LABELS).fillna(observations["origin"])
    frame = observations.assign(origin=words)
    if "flag" in frame.columns:
        frame["flag"] = frame["flag"].map(lambda f: FLAG_STATES.get(f, "") if isinstance(f, str) else "")
    if "note" in frame.columns:
        frame["note"] = frame["note"].map(lambda n: n if isinstance(n, str) else "")
    if "source_url" in frame.columns:  # a missing link is an empty cell, never the word None
        frame["source_url"] = frame["source_url"].map(lambda u: u if isinstance(u, str) else "")
        # who published it, by name (an address is not something to read); the link beside it
        frame.insert(list(frame.columns).index("source_url"), "source",
                     frame["source_url"].map(lambda u: publisher_of(u) if u else ""))
    return frame.rename(columns=OBSERVATION_HEADERS)


def indicator_detail(ctx, indicator_id: str, region: str, as_of: str, *, set_id: str | None = None,
                     target_id: str | None = None) -> IndicatorDetail:
    config = ctx.config
    ind = config.indicator(indicator_id)
    region_name = ctx.regions[region].name
    values = indicator_values(ctx.store, config, ind.id, [region], ctx.population, until=as_of)
    reported_to_date = year_to_date_values(ctx.store, config, ind.id, [region], until=as_of)
    series = as_series(values, region)
    target = None
    adjusted = None
    if set_id and target_id:
        tset = config.target_set(set_id)
        original = next(t for t in tset.targets if t.id == target_id)
        target, adjusted = scale_for_region(ctx, original, tset.region_of(original), region)
    evaluation = None
    sources = sorted({u for u in values["source_url"].dropna() if str(u).lower().startswith(("http://", "https://"))})
    if target is not None:
        reference = None
        ref_frame = None
        if target.type == "above_reference":
            ref_values = indicator_values(ctx.store, config, ind.id, [target.reference_region], ctx.population,
                                          until=as_of)
            reference = as_series(ref_values, target.reference_region)
            ref_frame = ref_values[["month", "value"]]
        to_date = as_series(reported_to_date, region)
        evaluation = evaluate_target(target, ind, series, as_of, reference=reference, year_to_date=to_date)
        path = measure_path(target, ind, series, as_of, year_to_date=to_date)
        # a running total at a month with only a 1–N月累计 is as demo (or real) as that value
        measure = _with_origin(path.points, pd.concat([reported_to_date, values], ignore_index=True))
        line_start = (path.t0, path.baseline) if path.t0 and path.baseline is not None else None
        line_end = (path.deadline, path.target) if path.target is not None else None
        projection = (path.deadline, evaluation.projection) if evaluation.projection is not None else None
        title = ind.name if path.measure == ind.name else f"{ind.name}（{path.measure}）"
        figure = trajectory_figure(
            measure, title=title, region_name=region_name, unit=ind.unit, as_of=as_of,
            baseline=line_start, target=line_end, projection=projection, reference=ref_frame,
            reference_name=ctx.regions[target.reference_region].name if ref_frame is not None else None,
            sources=sources,
        )
    else:
        measure = _with_origin(series, values)
        figure = trajectory_figure(measure, title=ind.name, region_name=region_name, unit=ind.unit, as_of=as_of,
                                   sources=sources)
    corrections = (official_corrections(ctx.store, [ind.id, ind.id + YTD_SUFFIX], [region])
                   if ind.kind != "derived" else None)
    noted_ids = [ind.id, ytd_id(ind.id)]
    table = with_notes(observations_table(values, reported_to_date, corrections),
                       notes_by_value(ctx.store, [region], noted_ids), batch_notes(ctx.store, [region], noted_ids),
                       ind.id)
    return IndicatorDetail(figure, evaluation, table, adjusted, population_caption(values))


def population_caption(values: pd.DataFrame) -> str | None:
    """Which population years a per-capita series divides by, said truthfully: a month before the
    first figure on file takes the nearest (earliest) year, and the caption says which months."""
    if "population_year" not in values.columns or values.empty:
        return None
    used = values.dropna(subset=["population_year"])
    if used.empty:
        return None
    years = sorted({int(y) for y in used["population_year"]})
    text = "人口取 " + "、".join(str(y) for y in years) + " 年常住人口（各月取当年或之前最近一年"
    earlier = used[used["month"].str[:4].astype(int) < used["population_year"].astype(int)]
    if not earlier.empty:
        last = str(earlier["month"].max())
        first_year = int(earlier["population_year"].min())
        text += f"；{format_month_cn(last)}及以前没有当年或更早的人口数据，取最近的{first_year}年"
    return text + "）"

