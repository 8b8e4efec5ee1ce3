"""简报: an A4 PDF briefing of one target set for one region and as-of month.

The content comes from the same core calls the pages make (``evaluate_target_set``,
``indicator_detail``, ``compare_regions``, ``task_table``) and the charts from the same builders
(``monitor.views.charts``), rendered through the shared export server (``monitor.output.export``). The
document is HTML + CSS (``templates/briefing.html.j2``) printed to PDF by the same Chromium that drew
the charts, which embeds the CJK font and numbers the pages (docs/decisions.md D10).
"""

from __future__ import annotations

import base64
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.domain import clock
from monitor.domain.config import MilestoneTarget, TargetSet
from monitor.domain.periods import format_month_cn
from monitor.domain.provenance import annotate
from monitor.domain.sources import PUBLIC_REPORTS, source_names
from monitor.domain.yeartodate import YTD_SUFFIX, span_label
from monitor.evaluation import STATUS_COLORS, STATUS_ORDER, Status
from monitor.evaluation.targetset import evaluate_target_set
from monitor.output.export import PrintLayout, cjk_font, prepare_printing, print_pdf, render_many, warm_up
from monitor.store.history import official_corrections
from monitor.store.milestones import TaskStatus, read_updates, task_table
from monitor.store.readings import read_readings
from monitor.views.charts import progress_label
from monitor.views.comparison import compare_regions, ranking_figure
from monitor.views.detail import indicator_detail
from monitor.views.formatting import format_value, missing, status_color
from monitor.views.overview import status_counts, task_counts
from monitor.views.valuenotes import open_flags_table

TEMPLATES = Path(__file__).parent / "templates"
# Charts are drawn this wide (CSS px) and scaled to the 178 mm text width: 13 px text prints at
# about 8 pt.
CHART_WIDTH = 820
# top, right, bottom, left (mm): the template's @page margin, which holds the printed header and footer
PAGE_MARGINS_MM = (18, 16, 20, 16)
DEMO_NOTICE = ("本简报含示例数据：标注「示例数据」的数值为系统生成的虚构数值，仅供演示，不得作为工作依据；"
               "标注「公布值」的数值引自公开报道，来源见文末。")


@dataclass(frozen=True)
class Briefing:
    title: str
    file_name: str
    pdf: bytes
    html: str
    chart_count: int
    layout: PrintLayout  # page margins, header and footer the html was printed with
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per step, for the benchmark


def _ink(status: str) -> str:
    """Text colour on a status colour: dark on the pale ones."""
    return "#333" if status in (Status.NOT_STARTED.value, Status.NO_DATA.value) else "white"


def briefing_topic(tset: TargetSet, set_region_name: str) -> str:
    """「知识产权强市建设」 from 「晋城市知识产权强市建设（2025年目标）」: the short title without its
    region and its bracketed period."""
    topic = re.sub(r"（[^）]*）$", "", tset.short_title).strip()
    return topic[len(set_region_name):] if topic.startswith(set_region_name) and topic != set_region_name else topic


def briefing_title(ctx, set_id: str, region: str, as_of: str) -> str:
    """「晋城市知识产权强市建设目标监测简报（数据截至2025年12月）」."""
    tset = ctx.config.target_set(set_id)
    set_name = ctx.regions[tset.region].name
    topic = briefing_topic(tset, set_name)
    if region != tset.region:  # another region: the set's targets as a reference, never its own plan
        return (f"{ctx.regions[region].name}对照{set_name}{topic}目标监测简报（参考，数据截至"
                f"{format_month_cn(as_of)}）")
    return f"{ctx.regions[region].name}{topic}目标监测简报（数据截至{format_month_cn(as_of)}）"


def briefing_file_name(ctx, set_id: str, region: str, as_of: str) -> str:
    return f"简报_{ctx.regions[region].name}_{set_id}_{as_of}.pdf"


def _chart_uris(figs: list) -> list[str]:
    """The figures as SVG data URIs, drawn in one batch: vector on paper, their text searchable, and
    quicker to draw and print than PNGs sharp enough for print."""
    return ["data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")
            for data in render_many(figs, "svg", width=CHART_WIDTH)]


class _ChartDrawer:
    """Draws a briefing's charts on a thread of its own while the targets are still evaluated:
    whatever has been handed in by the time the browser is free goes in one batch, and a batch costs
    one page reload (monitor/output/export.py's ``render_many``)."""

    def __init__(self) -> None:
        self._pending: list[tuple[list, Future]] = []
        self._ready = threading.Condition()
        self._closed = False
        self.seconds = 0.0  # spent drawing
        self._thread = threading.Thread(target=self._run, name="briefing-charts", daemon=True)
        self._thread.start()

    def draw(self, figs: list) -> Future:
        """A future of the figures' data URIs."""
        future: Future = Future()
        with self._ready:
            self._pending.append((figs, future))
            self._ready.notify()
        return future

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()

    def _run(self) -> None:
        # Waits for the browser the caller started (warm_up) and opens the tab the PDF is printed in,
        # while the first targets are still evaluated.
        prepare_printing()
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
            started = time.perf_counter()
            try:
                uris = _chart_uris([fig for figs, _ in batch for fig in figs])
            except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
                for _, future in batch:
                    future.set_exception(e)
                continue
            finally:
                self.seconds += time.perf_counter() - started
            for figs, future in batch:
                future.set_result(uris[:len(figs)])
                uris = uris[len(figs):]


def _province_for_comparison(ctx, region: str) -> str | None:
    r = ctx.regions[region]
    if r.level == "province":
        return region
    if r.level in ("city", "zone") and r.parent and ctx.regions[r.parent].level == "province":
        return r.parent
    return None  # 全国: no cities to compare


def _target_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for number, row in enumerate(frame.itertuples(), start=1):
        milestone = row.type == "milestone"
        current = "—"
        if not milestone and not missing(row.current):
            current = f"{format_value(row.current)}{row.unit}"
        progress = (progress_label(row.progress, row.status) or "—") if not milestone else "—"  # 超额, never 1763%
        rows.append({
            "number": number, "name": row.indicator_name, "target": row.target_text or "—",
            "adjusted": row.adjusted, "current": current,
            "period": format_month_cn(row.current_period) if not milestone and not missing(row.current_period) else None, "progress": progress, "status": row.status,
            "label": row.status_label,
            "color": status_color(row.status), "ink": _ink(row.status),
            "explanation": row.explanation or "",
            "has_demo": bool(row.has_demo) if not missing(row.has_demo) else False, "clause": row.clause,
        })
    return rows


def _silent(step: str) -> None:
    pass


CORRECTIONS_LISTED = 8


def corrections_line(ctx, region: str, as_of: str) -> str | None:
    """The briefing's line on 更正: values of ``region`` changed after their period closed and
    approved in the as-of month or since (a briefing is made after its month ends, so this covers
    what changed between the previous briefing's month and this one; a correction approved
    during the as-of month may appear in two consecutive briefings, never in none). None: none."""
    found = official_corrections(ctx.store, region_codes=[region],
                                 approved_since=datetime.fromisoformat(f"{as_of}-01"))
    if found.empty:
        return None
    items = []
    for row in found.head(CORRECTIONS_LISTED).itertuples():
        base = row.indicator_id.removesuffix(YTD_SUFFIX)
        ind = ctx.config.indicator(base)
        period = span_label(row.month) if row.indicator_id.endswith(YTD_SUFFIX) else format_month_cn(row.month)
        items.append(f"{ind.name}{period} {format_value(row.old_value, ind.decimals)} → "
                     f"{format_value(row.value, ind.decimals)}{ind.unit}（{row.reason}）")
    more = f"等 {len(found)} 项" if len(found) > CORRECTIONS_LISTED else ""
    return (f"更正：自{format_month_cn(as_of)}以来，{ctx.regions[region].name}已关账期间的以下数值经审核后更正："
            + "；".join(items) + more + "。")


def build_context(ctx, set_id: str, region: str, as_of: str, *, generated_at: datetime | None = None,
                  with_charts: bool = True, progress=_silent) -> tuple[dict, int, dict[str, float]]:
    """Everything the template shows; returns (template variables, number of charts, seconds per step).
    ``progress`` is told each step as it starts (「评估目标」, 「绘制走势图 3/7」, …)."""
    progress("评估目标状态")
    seconds: dict[str, float] = {"evaluate": 0.0}
    started = time.perf_counter()
    drawer = _ChartDrawer() if with_charts else None
    if drawer is not None:
        warm_up()  # the browser boots while the targets are evaluated
    try:
        with ctx.store.reading():  # one connection for the fifty-odd reads
            variables, charts = _gather(ctx, set_id, region, as_of, generated_at, progress, seconds,
                                        started, draw=drawer.draw if drawer is not None else None)
        step = time.perf_counter()
        progress("等待图表绘制完成")
        for section in variables["sections"]:
            drawn = section.pop("charts")
            uris = drawn.result() if drawn is not None else [None]
            section["trajectory"], section["comparison"] = uris[0], (uris[1] if len(uris) > 1 else None)
    finally:
        if drawer is not None:
            drawer.close()
    seconds["charts"] = drawer.seconds if drawer is not None else 0.0
    seconds["charts_waited"] = time.perf_counter() - step
    return variables, charts, seconds


def _gather(ctx, set_id: str, region: str, as_of: str, generated_at: datetime | None, progress,
            seconds: dict[str, float], started: float, draw) -> tuple[dict, int]:
    """The template's variables, each section's charts as what ``draw(figures)`` returned (a future
    of their data URIs) under "charts"; ``draw`` None: no charts."""
    config = ctx.config
    tset = config.target_set(set_id)
    region_name = ctx.regions[region].name
    frame = annotate(evaluate_target_set(ctx, set_id, as_of, region), tset, read_readings(ctx.store))
    counts = status_counts(frame)
    province = _province_for_comparison(ctx, region)
    seconds["evaluate"] += time.perf_counter() - started

    sections = []
    sources: list[str] = []  # the pages published values were read from; cited by publisher
    indicators = []
    charts = 0
    has_demo = bool(frame["has_demo"].fillna(False).astype(bool).any())
    has_published = bool(frame["has_published"].fillna(False).astype(bool).any())
    compared: set[str] = set()
    charted = [row for row in frame.itertuples() if row.type != "milestone"]
    for number, row in enumerate(charted, start=1):
        progress(f"指标 {number}/{len(charted)}：{row.indicator_name}（评估与绘图）")
        step = time.perf_counter()
        target = next(t for t in tset.targets if t.id == row.target_id)
        ind = config.indicator(target.indicator)
        if ind not in indicators:
            indicators.append(ind)
        detail = indicator_detail(ctx, ind.id, region, as_of, set_id=set_id, target_id=target.id)
        published = detail.observations[detail.observations["origin"] == "published"]
        sources.extend(published["source_url"].dropna())
        has_demo = has_demo or bool((detail.observations["origin"] == "demo").any())
        comparison = None
        if province is not None and ind.id not in compared:
            compared.add(ind.id)
            cities = compare_regions(ctx, ind.id, province, as_of, set_id)
            comparison = ranking_figure(ctx, cities, province, ind.id, as_of)  # None: no city has a value
        seconds["evaluate"] += time.perf_counter() - step
        # The browser draws this target's charts while the next target is evaluated.
        figs = [detail.figure] + ([comparison] if comparison is not None else [])
        drawn = draw(figs) if draw is not None else None
        charts += 1 + (comparison is not None)
        sections.append({
            "name": row.indicator_name, "status": row.status, "label": row.status_label, "color": status_color(row.status),
            "ink": _ink(row.status),
            "target": row.target_text, "adjusted": row.adjusted, "explanation": row.explanation,
            "clause": row.clause, "quote": row.quote, "interpretation": row.interpretation,
            "reading_note": row.reading_note, "derived": row.derived,
            "charts": drawn,
            "population_note": detail.population_note,
        })

    overdue = []
    milestones = [t for t in tset.targets if isinstance(t, MilestoneTarget)]
    if milestones:
        for view in task_table(tset, read_updates(ctx.store), as_of):
            if view.status is TaskStatus.OVERDUE:
                overdue.append({
                    "number": view.number or "", "title": view.title, "lead": list(view.lead),
                    "cooperating": "、".join(view.cooperating) or "—",
                    "deadline": f"{view.deadline:%Y年%m月%d日}" if view.deadline else "持续推进",
                    "last": f"{view.last_update:%Y-%m-%d}：{view.last_note}" if view.last_update else "无进展记录",
                })
        has_demo = has_demo or any("示例" in str(t["last"]) for t in overdue)

    # values someone asked to verify (monitor/store/notes.py), in the region and the regions below it
    flagged = open_flags_table(ctx, {region, *(r.code for r in ctx.regions.descendants(region))}, until=as_of)

    generated_at = generated_at or clock.now()
    set_region_name = ctx.regions[tset.region].name
    # Cited by title, 文号, issuer and date, a paraphrased document (转述) by who published the text;
    # never an address, never the file name of the product's own copy (monitor/domain/sources.py).
    document = {
        "title": tset.title, "doc_number": tset.doc_number or "（无文号）", "issuer": tset.issuer,
        "date": f"{tset.date:%Y年%-m月%-d日}" if tset.date else None, "label": tset.document_label,
        "verbatim": tset.verbatim, "publisher": tset.source_publisher,
    }
    variables = {
        "title": briefing_title(ctx, set_id, region, as_of),
        "region_name": region_name, "set_region_name": set_region_name, "is_other_region": region != tset.region,
        "as_of_cn": format_month_cn(as_of), "generated_at": f"{generated_at:%Y年%m月%d日 %H:%M}",
        "document": document, "note": tset.note, "font": cjk_font(),
        "counts": [{"label": s.value, "n": counts.get(s.value, 0), "color": STATUS_COLORS[s], "ink": _ink(s.value)}
                   for s in STATUS_ORDER],
        "only_milestones": bool((frame["type"] == "milestone").all()),
        # targets and tasks counted apart, each in its own words (总览 does the same)
        "total": int((frame["type"] != "milestone").sum()), "tasks": task_counts(frame),
        "task_total": int((frame["type"] == "milestone").sum()), "rows": _target_rows(frame), "sections": sections,
        "province_name": ctx.regions[province].name if province else None,
        "has_milestones": bool(milestones), "milestone_count": len(milestones), "overdue": overdue,
        "indicators": [{"name": i.name, "unit": i.unit, "description": i.description} for i in indicators],
        "sources": [n for n in source_names(sources) if n != PUBLIC_REPORTS],
        "other_sources": PUBLIC_REPORTS in source_names(sources), "has_demo": has_demo, "has_published": has_published,
        "demo_notice": DEMO_NOTICE,
        "flagged": flagged.to_dict("records"),
        "corrections": corrections_line(ctx, region, as_of),
    }
    return variables, charts


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env


def render_html(variables: dict) -> str:
    return _environment().get_template("briefing.html.j2").render(**variables)


def print_layout(variables: dict) -> PrintLayout:
    """The page margins and what Chromium prints in them: region and document at the top, the page
    number 「第 N 页 / 共 M 页」 and the 示例数据 mark at the bottom (templates/briefing_margins.html.j2)."""
    margins = _environment().get_template("briefing_margins.html.j2").make_module(variables)
    return PrintLayout(margins_mm=PAGE_MARGINS_MM, header=str(margins.header()), footer=str(margins.footer()))


def briefing_pdf(variables: dict) -> tuple[str, PrintLayout, bytes]:
    """The briefing's HTML, its page layout, and the PDF Chromium prints of them."""
    html, layout = render_html(variables), print_layout(variables)
    return html, layout, print_pdf(html, layout)


def build_briefing(ctx, set_id: str, region: str, as_of: str, *, generated_at: datetime | None = None,
                   progress=_silent) -> Briefing:
    """The briefing as a PDF. Raises ``ExportSetupError`` when the CJK font or chromium is missing.
    ``progress(step)`` is called as each step starts, for a page to show while the PDF is built."""
    cjk_font()  # fail before any work when the font is missing
    variables, charts, seconds = build_context(ctx, set_id, region, as_of, generated_at=generated_at,
                                               progress=progress)
    progress("打印 PDF")
    step = time.perf_counter()
    html, layout, pdf = briefing_pdf(variables)
    seconds["pdf"] = time.perf_counter() - step
    return Briefing(variables["title"], briefing_file_name(ctx, set_id, region, as_of), pdf, html, charts, layout, seconds)
