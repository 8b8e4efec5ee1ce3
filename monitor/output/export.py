"""Figures to PNG, PDF and SVG bytes, rendered on the server by one shared headless chromium, which
also prints HTML documents (the briefing) to PDF: ``print_pdf``.

kaleido 1.x drives a real browser. Starting one per export costs ~3 s, so one sync server is
started on first use and reused (~0.2 s per chart). That server is not thread-safe: with several
threads exporting at once, results get swapped between callers (docs/decisions.md D9).
Streamlit runs every session, and every deferred download, in its own thread, so every export
here goes through one lock.

Chinese text needs a CJK font that chromium finds through fontconfig; without one every glyph is
an empty box. Exports therefore check for the font (and the browser) first and raise
``ExportSetupError`` instead of producing a picture of boxes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from monitor.domain.periods import format_month_cn
from monitor.domain.sources import PUBLIC_REPORTS
from monitor.errors import ExportError, ExportSetupError
from monitor.views.charts import FONT_FAMILY

# The width charts are exported at (CSS pixels); the height is the figure's own. PNGs are drawn at
# twice this for slides; PDF and SVG are vector and keep it as their page size.
EXPORT_WIDTH = 1000
PNG_SCALE = 2
# The families in FONT_FAMILY that Debian's packages provide (fonts-noto-cjk, fonts-wqy-microhei).
CJK_FAMILIES = ("Noto Sans CJK SC", "WenQuanYi Micro Hei")
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")

_lock = threading.Lock()
_server_started = False


@cache
def cjk_font() -> str:
    """The CJK family that exports will use; raises ``ExportSetupError`` when none is installed."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True,
                                timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise ExportSetupError(f"无法查询系统字体（fc-list）：{e}。请安装 fontconfig 与 fonts-noto-cjk。") from e
    families = {name.strip() for line in listed.splitlines() for name in line.split(",")}
    for family in CJK_FAMILIES:
        if family in families and family in FONT_FAMILY:
            return family
    raise ExportSetupError("未找到中文字体（需要「Noto Sans CJK SC」或「WenQuanYi Micro Hei」），导出的图表会显示为方框。"
                           "请安装：apt-get install fonts-noto-cjk（或运行 scripts/setup.sh）。")


@cache
def browser_path() -> str:
    """The chromium kaleido will drive; raises ``ExportSetupError`` when there is none."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit
        raise ExportSetupError(f"环境变量 BROWSER_PATH 指向的浏览器「{explicit}」不存在或不可执行。")
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ExportSetupError("未找到 chromium 浏览器，无法导出图表。请安装：apt-get install chromium（或运行 scripts/setup.sh）。")


def check_export_setup() -> None:
    """Raise ``ExportSetupError`` if the CJK font or the browser is missing."""
    cjk_font()
    browser_path()


def _start_server() -> None:
    """Start the shared kaleido server once (call with the lock held)."""
    global _server_started
    if _server_started:
        return
    import kaleido

    check_export_setup()
    os.environ.setdefault("BROWSER_PATH", browser_path())
    # kaleido ignores per-call options once a server runs, and plotly sends a header by default,
    # which would warn on every export.
    pio.defaults.headers = {}
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    _server_started = True


def _stop_server() -> None:
    global _server_started
    import kaleido

    kaleido.stop_sync_server(silence_warnings=True)
    _server_started = False


def shutdown() -> None:
    """Close the shared browser, if it runs. Command-line tools call this before exiting: left to
    kaleido's own atexit hook, the browser's last messages race the interpreter's teardown."""
    with _lock:
        if _server_started:
            _stop_server()


def warm_up() -> None:
    """Start the shared browser and return at once: it boots (~2 s) while the caller computes,
    and the first export waits for it. A briefing calls this before it evaluates anything."""
    with _lock:
        _start_server()


def render(fig: go.Figure, fmt: str, *, scale: float = 1, width: int | None = None,
           height: int | None = None) -> bytes:
    """``fig`` as ``fmt`` ("png", "pdf", "svg") bytes; one export at a time, whatever the thread."""
    return render_many([fig], fmt, scale=scale, width=width, height=height)[0]


def render_many(figs: list[go.Figure], fmt: str, *, scale: float = 1, width: int | None = None,
                height: int | None = None) -> list[bytes]:
    """Each of ``figs`` as ``fmt`` bytes, in one call to the browser (see ``_one_page``)."""
    if fmt not in ("png", "pdf", "svg"):
        raise ExportError(f"不支持的导出格式「{fmt}」（可用：png、pdf、svg）")
    if not figs:
        return []
    specs = [{"fig": fig.to_dict(), "opts": {
        "format": fmt, "scale": scale, "width": width or fig.layout.width or EXPORT_WIDTH,
        "height": height or fig.layout.height or 450}} for fig in figs]
    with _lock:
        _start_server()
        try:
            return _draw(specs)
        except Exception:
            # A crashed or closed browser leaves a dead server behind: start a fresh one, once.
            _stop_server()
            _start_server()
            try:
                return _draw(specs)
            except Exception as e:
                raise ExportError(f"图表导出为 {fmt.upper()} 失败：{e}") from e


# kaleido reloads its page after every figure (~0.15 s, two thirds of what a chart costs). A batch
# is drawn in one page instead, and the page reloaded once: the same pictures (tests/test_export.py
# compares them), three times faster. That reaches into kaleido's private API, so it is used only
# with the version it was written against; any other version draws through the public batch call.
KALEIDO_ONE_PAGE_VERSION = "1.5.0"


@cache
def _one_page_supported() -> bool:
    from importlib.metadata import version

    return version("kaleido") == KALEIDO_ONE_PAGE_VERSION


async def _one_page(self, specs: list[dict]) -> list[bytes]:
    """Bound to kaleido.Kaleido while the shared server runs: every figure of ``specs`` drawn in
    one tab, which is reloaded once at the end."""
    from kaleido import _profiler
    from kaleido._utils import fig_tools

    tab = await self._get_kaleido_tab()
    try:
        images = []
        for spec in specs:
            js = fig_tools.coerce_for_js(spec["fig"], None, spec["opts"])
            profile = _profiler.RenderTaskProfile(js, None, tab.tab.target_id)
            images.append(await asyncio.wait_for(
                tab._calc_fig(js, topojson=None, render_prof=profile, stepper=False), self._timeout))
        return images
    finally:
        await self._return_kaleido_tab(tab)


def _draw(specs: list[dict]) -> list[bytes]:
    """Draw ``specs`` on the running server (call with the lock held)."""
    import kaleido

    if _one_page_supported():
        kaleido.Kaleido._ipmon_one_page = _one_page
        return kaleido._global_server.call_function("_ipmon_one_page", specs)
    with tempfile.TemporaryDirectory(prefix="ipmon-export-") as tmp:
        paths = [Path(tmp) / f"{number}.{spec['opts']['format']}" for number, spec in enumerate(specs)]
        kaleido.write_fig_from_object_sync([{**spec, "path": path} for spec, path in zip(specs, paths, strict=True)],
                                           cancel_on_error=True)
        return [path.read_bytes() for path in paths]


# --------------------------------------------------------------------------- HTML → PDF

# A4 in inches, as Page.printToPDF takes it; margins in millimetres, the document's own (its
# @page rule says the same, and wins: preferCSSPageSize).
A4_INCHES = (8.27, 11.69)
MM_PER_INCH = 25.4
PAGE_NUMBER_FOOTER = '<span class="pageNumber"></span> / <span class="totalPages"></span>'


@dataclass(frozen=True)
class PrintLayout:
    """How ``print_pdf`` lays out a page: margins (mm: top, right, bottom, left) and what Chromium
    draws in the top and bottom margins. Those two are HTML of their own, outside the document:
    its styles do not reach them (Chromium draws them at a tiny default size in a default face),
    and spans of class ``pageNumber`` / ``totalPages`` are filled in per page."""

    margins_mm: tuple[float, float, float, float] = (18, 16, 20, 16)
    header: str = ""
    footer: str = PAGE_NUMBER_FOOTER

    def options(self) -> dict:
        top, right, bottom, left = (mm / MM_PER_INCH for mm in self.margins_mm)
        return {
            "paperWidth": A4_INCHES[0], "paperHeight": A4_INCHES[1], "preferCSSPageSize": True,
            "marginTop": top, "marginRight": right, "marginBottom": bottom, "marginLeft": left,
            "printBackground": True, "displayHeaderFooter": bool(self.header or self.footer),
            # an empty template would print Chromium's own header (date, title) or footer (URL)
            "headerTemplate": self.header or "<span></span>", "footerTemplate": self.footer or "<span></span>",
        }


def print_pdf(html: str, layout: PrintLayout | None = None) -> bytes:
    """``html`` printed to PDF by Chromium (``Page.printToPDF``), in the browser the charts are drawn
    by: no second browser to start. On a kaleido other than the one that reaching into its server was
    written for, a browser of its own is started for the print instead (``print_pdf_in_own_browser``),
    which gives the same document. The HTML must not need the network; fonts come from fontconfig."""
    check_export_setup()
    if not _one_page_supported():
        return print_pdf_in_own_browser(html, layout)
    import kaleido

    options = (layout or PrintLayout()).options()
    with tempfile.TemporaryDirectory(prefix="ipmon-print-") as tmp:
        page = Path(tmp) / "print.html"
        page.write_text(html, encoding="utf-8")

        with _lock:
            _start_server()
            kaleido.Kaleido._ipmon_print = _print_on_server
            try:
                return kaleido._global_server.call_function("_ipmon_print", page.as_uri(), options)
            except Exception:
                _stop_server()  # a crashed browser: a fresh one, once (as render_many does)
                _start_server()
                try:
                    return kaleido._global_server.call_function("_ipmon_print", page.as_uri(), options)
                except Exception as e:
                    raise ExportError(f"PDF 打印失败：{e}") from e


def prepare_printing() -> None:
    """Start the shared browser and open the tab ``print_pdf`` prints in, waiting for both: a
    briefing calls it on its chart thread while the targets are still evaluated."""
    if not _one_page_supported():
        return
    import kaleido

    with _lock:
        _start_server()
        kaleido.Kaleido._ipmon_print_tab = _print_tab
        kaleido._global_server.call_function("_ipmon_print_tab")


async def _print_tab(self):
    """Bound to kaleido.Kaleido: the tab documents are printed in, opened on first use and kept
    (kaleido's own tab is reloaded after every figure and holds its page, so it is left alone)."""
    tab = getattr(self, "_ipmon_tab", None)
    if tab is None:
        tab = await self.create_tab("")
        await tab.send_command("Page.enable")
        self._ipmon_tab = tab
    return tab


async def _print_on_server(self, uri: str, options: dict) -> bytes:
    """Bound to kaleido.Kaleido while the shared server runs."""
    return await _print_in_tab(await _print_tab(self), uri, options)


async def _print_in_tab(tab, uri: str, options: dict) -> bytes:
    """Load ``uri`` in the choreographer ``tab`` (Page domain enabled) and print it."""
    loaded = tab.subscribe_once("Page.loadEventFired")
    navigated = await tab.send_command("Page.navigate", params={"url": uri})
    if "error" in navigated or navigated.get("result", {}).get("errorText"):
        raise ExportError(f"打印页面无法打开：{navigated}")
    await loaded
    printed = await tab.send_command("Page.printToPDF", params=options)
    if "error" in printed:
        raise ExportError(f"Chromium 打印 PDF 失败：{printed['error']}")
    return base64.b64decode(printed["result"]["data"])


def print_pdf_in_own_browser(html: str, layout: PrintLayout | None = None) -> bytes:
    """``print_pdf`` in a headless Chromium started for this print alone (~1 s more), through
    choreographer, the library kaleido drives its browser with; the same PDF. It does not check for
    the CJK font and the browser first: ``print_pdf`` does."""
    import choreographer

    options = (layout or PrintLayout()).options()

    async def run(uri: str) -> bytes:
        async with choreographer.Browser(browser_path(), headless=True) as browser:
            tab = browser.get_tab() or await browser.create_tab("")
            await tab.send_command("Page.enable")
            return await _print_in_tab(tab, uri, options)

    with tempfile.TemporaryDirectory(prefix="ipmon-print-") as tmp:
        page = Path(tmp) / "print.html"
        page.write_text(html, encoding="utf-8")
        outcome: list = []
        # a thread of its own: the caller may already be running an event loop
        worker = threading.Thread(target=lambda: outcome.append(_outcome(run, page.as_uri())), name="print-pdf")
        worker.start()
        worker.join()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise ExportError(f"PDF 打印失败：{result}") from result
    return result


def _outcome(coroutine_function, *args):
    try:
        return asyncio.run(coroutine_function(*args))
    except Exception as e:  # noqa: BLE001 - handed to the waiting caller
        return e


def figure_png(fig: go.Figure, *, scale: float = PNG_SCALE, width: int | None = None) -> bytes:
    """A PNG for slides: ``scale`` times the export size in pixels (2000 px wide by default)."""
    return render(fig, "png", scale=scale, width=width)


def figure_pdf(fig: go.Figure, *, width: int | None = None) -> bytes:
    """A one-page vector PDF of the figure, fonts embedded."""
    return render(fig, "pdf", width=width)


def figure_svg(fig: go.Figure, *, width: int | None = None) -> bytes:
    return render(fig, "svg", width=width)


# --------------------------------------------------------------------------- figures fit for slides

DEMO_MARK = "示例数据"
DEMO_MARK_COLOR = "#c0392b"
_FOOTER_PX = 36  # two footer lines of 10-11 px text below whatever the figure had there


@dataclass(frozen=True)
class ExportLabel:
    """What a figure taken out of the product must say about itself: the region (or regions:
    「山西省各市」), the target set with its 文号, and the as-of month."""

    region: str
    target_set: str | None
    doc_number: str | None
    as_of: str

    def context_line(self) -> str:
        parts = [self.region]
        if self.target_set:
            parts.append(f"目标：{self.target_set}" + (f"（{self.doc_number}）" if self.doc_number else ""))
        parts.append(f"数据截至{format_month_cn(self.as_of)}")
        return "　".join(parts)

    def source_line(self, sources: list[str]) -> str:
        named = [self.doc_number] if self.doc_number else []
        named += [s for s in sources if s not in named]
        return "来源：" + "；".join(named or ["本系统数据库"])


def _text_px(text: str, size: float) -> float:
    """Rough width of ``text`` at ``size`` px: a CJK character is one em, Latin half of one."""
    plain = text.replace("<br>", "\n").split("\n")
    return max((sum(size if ord(ch) > 0x2E7F else size * 0.55 for ch in line) for line in plain), default=0)


def _category_labels(fig: go.Figure) -> list[str]:
    labels: list[str] = []
    for trace in fig.data:
        if getattr(trace, "orientation", None) == "h" or trace.type == "heatmap":
            labels += [str(v) for v in (trace.y if trace.y is not None else []) if v is not None]
    return labels


def slide_figure(fig: go.Figure, label: ExportLabel, *, width: int = EXPORT_WIDTH) -> go.Figure:
    """A copy of ``fig`` that can leave the product: it names region, target set and as-of month,
    carries the 示例数据 mark when a demo value is drawn (``fig.layout.meta``, set by
    monitor.views.charts), a source line by name (文号 and publishers, never a URL or a file path), and
    margins wide and tall enough for its own labels at ``width``, so nothing is clipped."""
    out = go.Figure(fig)
    meta = dict(out.layout.meta or {})
    has_demo = bool(meta.get("has_demo"))
    sources = [s for s in meta.get("sources", []) if s != PUBLIC_REPORTS] + (
        [PUBLIC_REPORTS] if PUBLIC_REPORTS in meta.get("sources", []) else [])
    margin = out.layout.margin
    left, right = margin.l if margin.l is not None else 80, margin.r if margin.r is not None else 80
    top, bottom = margin.t if margin.t is not None else 100, margin.b if margin.b is not None else 80
    size = (out.layout.font.size or 13) if out.layout.font else 13
    # Row labels of horizontal bars and heatmaps: the left margin from the longest one.
    labels = _category_labels(out)
    if labels and out.layout.yaxis.visible is not False:
        left = max(left, int(_text_px(max(labels, key=lambda t: _text_px(t, size)), size * 0.95)) + 24)
    # The title: broken before it runs past the right edge.
    title = out.layout.title.text or ""
    head, _, sub = title.partition("<br><sup>")
    title_px = _text_px(head, size * 1.3)
    if title_px > width - 40 and "　" not in head and " · " in head:
        head = head.replace(" · ", "<br>", 1)
        top += int(size * 1.3 * 1.3)
    out.layout.title.text = head + ("<br><sup>" + sub if sub else "")
    if out.layout.title.yanchor == "top":
        # plotly anchors a two-line title's first line at ``y``: the line above it fell off the top
        out.layout.title.update(yref="container", y=1 - (size * 1.3 + 12) / (out.layout.height or 450), pad={"t": 0})
    # The footer: context and source lines in the bottom margin, below legend and old source line.
    annotations = [a for a in out.layout.annotations if a.name != "source"]
    old = [a for a in out.layout.annotations if a.name == "source"]
    bottom += _FOOTER_PX
    height = (out.layout.height or 450) + _FOOTER_PX + (top - (margin.t if margin.t is not None else 100))
    note = "　含示例数据（虚构，仅供演示）" if has_demo else ""
    if old and old[0].text and "边界：" in old[0].text:
        note += "　边界：" + old[0].text.split("边界：", 1)[1]
    footer = f"{label.context_line()}<br>{label.source_line(sources)}{note}"
    annotations.append(go.layout.Annotation(
        text=footer, xref="paper", yref="paper", x=0, y=0, yshift=-(bottom - 38), xanchor="left", yanchor="top", align="left", showarrow=False,
        font={"size": 10.5, "color": "#555"}, name="footer"))
    if has_demo:
        annotations.append(go.layout.Annotation(
            text=f"<b>{DEMO_MARK}</b>", xref="paper", yref="paper", x=1, y=1, yshift=top - 10, xanchor="right",
            yanchor="top", showarrow=False, font={"size": 14, "color": DEMO_MARK_COLOR},
            bordercolor=DEMO_MARK_COLOR, borderwidth=1.5, borderpad=3, name="demo_mark"))
    out.layout.annotations = annotations  # update_layout would merge into the old ones by index
    out.update_layout(height=height, width=width,
                      margin={"l": left, "r": right, "t": top, "b": bottom})
    return out
