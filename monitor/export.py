"""Figures to PNG, PDF and SVG bytes, rendered on the server by one shared headless chromium.

kaleido 1.x drives a real browser. Starting one per export costs ~3 s, so one sync server is
started on first use and reused (~0.2 s per chart). That server is not thread-safe: with several
threads exporting at once, results get swapped between callers (RECIPES, "Plotly → PNG/PDF").
Streamlit runs every session, and every deferred download, in its own thread, so every export
here goes through one lock.

Chinese text needs a CJK font that chromium finds through fontconfig; without one every glyph is
an empty box. Exports therefore check for the font (and the browser) first and raise
``ExportSetupError`` instead of producing a picture of boxes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio

from monitor.charts import FONT_FAMILY
from monitor.errors import ExportError, ExportSetupError

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


def render(fig: go.Figure, fmt: str, *, scale: float = 1, width: int | None = None,
           height: int | None = None) -> bytes:
    """``fig`` as ``fmt`` ("png", "pdf", "svg") bytes; one export at a time, whatever the thread."""
    if fmt not in ("png", "pdf", "svg"):
        raise ExportError(f"不支持的导出格式「{fmt}」（可用：png、pdf、svg）")
    width = width or fig.layout.width or EXPORT_WIDTH
    height = height or fig.layout.height or 450
    with _lock:
        _start_server()
        try:
            return fig.to_image(format=fmt, width=width, height=height, scale=scale)
        except Exception:
            # A crashed or closed browser leaves a dead server behind: start a fresh one, once.
            _stop_server()
            _start_server()
            try:
                return fig.to_image(format=fmt, width=width, height=height, scale=scale)
            except Exception as e:
                raise ExportError(f"图表导出为 {fmt.upper()} 失败：{e}") from e


def figure_png(fig: go.Figure, *, scale: float = PNG_SCALE, width: int | None = None) -> bytes:
    """A PNG for slides: ``scale`` times the export size in pixels (2000 px wide by default)."""
    return render(fig, "png", scale=scale, width=width)


def figure_pdf(fig: go.Figure, *, width: int | None = None) -> bytes:
    """A one-page vector PDF of the figure, fonts embedded."""
    return render(fig, "pdf", width=width)


def figure_svg(fig: go.Figure, *, width: int | None = None) -> bytes:
    return render(fig, "svg", width=width)
