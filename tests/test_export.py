"""monitor.output.export: charts rendered by the real chromium with the real CJK font, no mocks.

The PNG is a real image of twice the export size with drawn content; the PDF holds the Chinese
text with its font embedded; several threads exporting at once each get their own figure back.
HTML printed to PDF (``print_pdf``) is read back with poppler: A4, header rows repeated, pages
numbered, Chinese printed as Chinese glyphs, not boxes.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import unicodedata
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from monitor.output.export import (
    EXPORT_WIDTH,
    KALEIDO_ONE_PAGE_VERSION,
    PNG_SCALE,
    PrintLayout,
    figure_pdf,
    figure_png,
    figure_svg,
    print_pdf,
    print_pdf_in_own_browser,
    render,
    render_many,
)
from monitor.views.charts import comparison_figure, trajectory_figure

ROOT = Path(__file__).parent.parent


def jincheng_figure(height: int = 420, title: str = "有效发明专利拥有量"):
    months = pd.date_range("2020-09", "2025-12", freq="MS").strftime("%Y-%m")
    measure = pd.DataFrame({"month": months, "value": [400 + 4.6 * i for i in range(len(months))],
                            "origin": ["demo"] * len(months)})
    fig = trajectory_figure(measure, title=title, region_name="晋城市", unit="件", as_of="2025-12",
                            baseline=("2020-09", 400.0), target=("2025-12", 700.0))
    fig.update_layout(height=height)
    return fig


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text without whitespace. Chromium maps some glyphs to the look-alike Kangxi radicals
    (⽬ U+2F6C for 目); NFKC folds them back."""
    path = tmp_path / "chart.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(unicodedata.normalize("NFKC", text).split())


def test_png_is_a_2x_image_of_the_export_size_with_drawn_content():
    data = figure_png(jincheng_figure())
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (EXPORT_WIDTH * PNG_SCALE, 420 * PNG_SCALE)
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 200  # lines, markers, anti-aliased CJK text; a blank chart has a handful


def test_pdf_is_vector_with_the_chinese_title_unit_and_month_as_text(tmp_path):
    data = figure_pdf(jincheng_figure())
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    for expected in ("晋城市", "有效发明专利拥有量", "单位:件", "数据截至2025年12月", "目标700", "示例数据"):  # NFKC: ：→:
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(tmp_path / "chart.pdf")], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb: every font embedded


def test_svg_keeps_the_chinese_text_and_names_the_cjk_font():
    svg = figure_svg(jincheng_figure()).decode("utf-8")
    assert "有效发明专利拥有量" in svg and "Noto Sans CJK SC" in svg


def test_threads_exporting_at_once_each_get_their_own_figure():
    # Each figure has its own height (so its own PNG size) and its own title (in its SVG).
    figures = {i: jincheng_figure(height=300 + 40 * i, title=f"图{i}号") for i in range(4)}
    results: dict[int, list] = {i: [] for i in figures}
    errors = []

    def export(i: int) -> None:
        try:
            for _ in range(3):
                results[i].append(Image.open(io.BytesIO(figure_png(figures[i]))).size)
                results[i].append(figure_svg(figures[i]).decode("utf-8"))
        except Exception as e:  # surfaced below: an exception in a thread would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=export, args=(i,)) for i in figures]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, got in results.items():
        sizes, svgs = got[0::2], got[1::2]
        assert sizes == [(EXPORT_WIDTH * PNG_SCALE, (300 + 40 * i) * PNG_SCALE)] * 3, i
        assert all(f"图{i}号" in svg and all(f"图{j}号" not in svg for j in figures if j != i) for svg in svgs), i


def test_comparison_chart_exports_with_every_city_name(tmp_path):
    frame = pd.DataFrame({"region_name": ["太原市", "晋城市", "大同市"], "value": [2750.0, 690.0, 1357.0],
                          "target": [None, 700.0, None], "status": [None, "未达成", None]})
    fig = comparison_figure(frame, title="山西省各市有效发明专利拥有量排名", unit="件", as_of="2025-12", has_demo=True)
    text = pdf_text(figure_pdf(fig), tmp_path)
    for city in ("太原市", "晋城市", "大同市"):
        assert city in text, city


def svg_elements(data: bytes) -> list[tuple]:
    """An SVG as (tag, attributes, text) per element: attribute order and plotly's random ids aside."""
    uid = re.search(rb'id="defs-([0-9a-f]+)"', data).group(1)
    root = ET.fromstring(re.sub(rb"\btrace[0-9a-f]{6}\b", b"traceUID", data.replace(uid, b"UID")))
    return [(e.tag, tuple(sorted(e.attrib.items())), (e.text or "").strip()) for e in root.iter()]


def test_a_batch_drawn_in_one_page_is_what_each_figure_drawn_alone_is():
    cities = pd.DataFrame({"region_name": ["太原市", "晋城市", "大同市"], "value": [2750.0, 690.0, 1357.0],
                           "target": [None, 700.0, None], "status": [None, "未达成", None]})
    figs = [jincheng_figure(), comparison_figure(cities, title="山西省各市有效发明专利拥有量排名", unit="件",
                                                 as_of="2025-12", has_demo=True), jincheng_figure(300, "第三张")]
    batch = render_many(figs, "svg")
    assert [svg_elements(b) for b in batch] == [svg_elements(render(f, "svg")) for f in figs]


def test_the_one_page_batch_runs_on_the_kaleido_it_was_written_for():
    # monitor/output/export.py reaches into kaleido's private API for it: an upgrade needs a look
    assert version("kaleido") == KALEIDO_ONE_PAGE_VERSION


def test_unknown_format_is_refused():
    from monitor.errors import ExportError

    with pytest.raises(ExportError, match="不支持的导出格式"):
        render(jincheng_figure(), "gif")


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


CHECK = ("from monitor.errors import ExportSetupError\n"
         "from monitor.output.export import check_export_setup\n"
         "try:\n    check_export_setup()\nexcept ExportSetupError as e:\n    print('REFUSED', e)\n"
         "else:\n    print('OK')\n")


def test_without_a_cjk_font_exports_fail_loudly_instead_of_drawing_boxes(tmp_path):
    # A fontconfig configuration that knows no font directory: what a machine without fonts sees.
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig><cachedir>{tmp_path}/cache</cachedir></fontconfig>')
    result = run_python(CHECK, {"FONTCONFIG_FILE": str(conf)})
    assert result.stdout.startswith("REFUSED"), result.stdout + result.stderr
    assert "未找到中文字体" in result.stdout and "fonts-noto-cjk" in result.stdout


def test_without_the_browser_exports_fail_loudly():
    result = run_python(CHECK, {"BROWSER_PATH": "/nonexistent/chromium"})
    assert result.stdout.startswith("REFUSED"), result.stdout + result.stderr
    assert "/nonexistent/chromium" in result.stdout


def test_with_font_and_browser_the_setup_check_passes():
    assert run_python(CHECK, {}).stdout.strip() == "OK"


def test_the_status_bar_keeps_a_plot_area_of_its_own():
    from monitor.views.charts import status_figure

    fig = status_figure({"已达成": 3, "未达成": 4}, title="目标状态分布", as_of="2026-10")
    margin = fig.layout.margin
    assert fig.layout.height - margin.t - margin.b >= 60  # was 180 − 80 − 110 < 0: a hairline


# --------------------------------------------------------------------------- HTML printed to PDF

FOOTER = ('<div style="width: 100%; text-align: center; font-size: 8pt; font-family: \'Noto Sans CJK SC\'">'
          '第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</div>')
LONG_TABLE = ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>"
              "@page { size: A4; margin: 18mm 16mm 20mm 16mm; } html { font-family: 'Noto Sans CJK SC'; }"
              "thead { display: table-header-group; } tr { break-inside: avoid; }</style></head><body>"
              "<h1>晋城市知识产权指标</h1><table><thead><tr><th>序号</th><th>指标名称</th></tr></thead><tbody>"
              + "".join(f"<tr><td>第{i}行</td><td>有效发明专利拥有量</td></tr>" for i in range(1, 121))
              + "</tbody></table></body></html>")


def poppler(tool: str, path: Path, *args: str) -> str:
    return subprocess.run([tool, *args, str(path)] + (["-"] if tool == "pdftotext" else []), capture_output=True,
                          text=True, check=True).stdout


def page_texts(data: bytes, path: Path) -> list[str]:
    """Each page's text, whitespace removed and NFKC-folded (see ``pdf_text``)."""
    path.write_bytes(data)
    pages = int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", path), re.M).group(1))
    return ["".join(unicodedata.normalize("NFKC", poppler("pdftotext", path, "-f", str(n), "-l", str(n))).split())
            for n in range(1, pages + 1)]


@pytest.fixture(scope="module")
def long_table(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("print") / "table.pdf"
    path.write_bytes(print_pdf(LONG_TABLE, PrintLayout(footer=FOOTER)))
    return path


def test_printed_html_is_an_a4_pdf_with_every_font_embedded(long_table):
    assert "(A4)" in poppler("pdfinfo", long_table)
    fonts = poppler("pdffonts", long_table).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb: every font embedded


def test_a_table_longer_than_a_page_repeats_its_header_row_on_every_page(long_table):
    pages = page_texts(long_table.read_bytes(), long_table)
    assert len(pages) >= 3
    assert pages[0].startswith("晋城市知识产权指标序号指标名称第1行")
    for page in pages:
        assert "序号指标名称" in page, page[:80]
    assert all(f"第{i}行" in "".join(pages) for i in range(1, 121))


def test_every_page_is_numbered_of_the_total_in_the_footer(long_table):
    pages = page_texts(long_table.read_bytes(), long_table)
    for number, page in enumerate(pages, start=1):
        assert page.endswith(f"第{number}页/共{len(pages)}页"), page[-40:]


def test_a_browser_of_its_own_prints_the_same_text(long_table, tmp_path):
    # the fallback when kaleido's server cannot be reached (another kaleido version)
    own = print_pdf_in_own_browser(LONG_TABLE, PrintLayout(footer=FOOTER))
    assert page_texts(own, tmp_path / "own.pdf") == page_texts(long_table.read_bytes(), long_table)
    assert "(A4)" in poppler("pdfinfo", tmp_path / "own.pdf")


GLYPHS = ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page { size: A4; margin: 20mm; }"
          "p { font: 80pt 'Noto Sans CJK SC'; margin: 0; break-after: page; }</style></head>"
          "<body><p>晋</p><p>城</p></body></html>")
PRINT_GLYPHS = ("import sys\nfrom monitor.output.export import PrintLayout, print_pdf_in_own_browser\n"
                "sys.stdout.buffer.write(print_pdf_in_own_browser(sys.stdin.read(), PrintLayout(footer='')))")


def glyph_ink(data: bytes, tmp_path: Path) -> tuple[int, int, int]:
    """The two pages of ``GLYPHS`` (one character each, drawn large) at 40 dpi: the dark pixels of
    each, and the pixels where the two differ. A CJK glyph at 80 pt has some 600 dark pixels here
    and two of them differ in as many; a missing glyph's box, about a hundred."""
    (tmp_path / "glyphs.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "glyphs.pdf"), str(tmp_path / "glyph")], check=True)
    pictures = []
    for png in sorted(tmp_path.glob("glyph-*.png")):
        with Image.open(png) as image:
            pictures.append(image.convert("L").tobytes())
    first, second = pictures
    return (sum(v < 128 for v in first), sum(v < 128 for v in second),
            sum(abs(a - b) > 64 for a, b in zip(first, second, strict=True)))


GLYPH_INK = 400


def test_chinese_is_printed_as_chinese_glyphs_not_boxes(tmp_path):
    first, second, differing = glyph_ink(print_pdf(GLYPHS, PrintLayout(footer="")), tmp_path)
    assert min(first, second, differing) > GLYPH_INK, (first, second, differing)


def test_without_a_cjk_font_the_glyph_check_sees_boxes(tmp_path):
    # What the test above guards against: a fontconfig that knows only DejaVu (no CJK) prints 晋 and
    # 城 as two small boxes, while pdftotext may still read the characters back.
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    assert dejavu.is_dir(), "fonts-dejavu-core is missing: scripts/setup.sh --dev installs it"
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{dejavu}</dir><cachedir>{tmp_path}/cache</cachedir>'
                    "</fontconfig>")
    printed = subprocess.run([sys.executable, "-c", PRINT_GLYPHS], input=GLYPHS.encode(), cwd=ROOT,
                             env={**os.environ, "FONTCONFIG_FILE": str(conf)}, capture_output=True, timeout=120,
                             check=True).stdout
    first, second, differing = glyph_ink(printed, tmp_path)
    assert max(first, second, differing) < GLYPH_INK, (first, second, differing)
