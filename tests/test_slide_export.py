"""Exports fit for slides: every exported chart names region, target set and
as-of month, carries the 示例数据 mark when a demo value is drawn, cites sources by name (文号,
publishers; never a URL or a file path) and leaves room for its longest labels. Rendered by the
real chromium; the PDF's text read back with pdftotext."""

from __future__ import annotations

import io
import re
import unicodedata

import pandas as pd
from PIL import Image

from monitor.domain.sources import source_names
from monitor.output.export import ExportLabel, _text_px, figure_pdf, figure_png, slide_figure
from monitor.views.charts import comparison_figure, source_line, trajectory_figure
from tests.test_export import pdf_text

JINCHENG = ExportLabel("晋城市", "晋城市知识产权强市建设（2025年目标）", "晋市政办〔2020〕47号", "2025-12")
URL = "https://www.cnipa.gov.cn/art/2021/1/22/art_53_156390.html"


def trajectory(origin: str, sources: list[str] | None = None):
    months = pd.date_range("2021-01", "2025-12", freq="MS").strftime("%Y-%m")
    measure = pd.DataFrame({"month": months, "value": [400 + 5.0 * i for i in range(len(months))],
                            "origin": [origin] * len(months)})
    return trajectory_figure(measure, title="有效发明专利拥有量", region_name="晋城市", unit="件", as_of="2025-12",
                             baseline=("2021-01", 400.0), target=("2025-12", 700.0), sources=sources)


def texts(fig) -> str:
    return " ".join([fig.layout.title.text or ""] + [a.text or "" for a in fig.layout.annotations])


def test_sources_are_named_by_publisher_never_by_url_or_file_path():
    names = source_names([URL, "http://shanxishangren.com/a.html", "data/policies/003_d749e9a744f654f6.txt",
                          "http://www.stats.gov.cn/x", "http://english.sipo.gov.cn/y",
                          "http://www.xzkl.gov.cn/klxzw/a.html", "https://www.gov.cn/b.htm"])
    # a county's site is a government site, not 中国政府网 (www.gov.cn)
    assert names == ["国家知识产权局", "国家统计局", "地方政府网站", "中国政府网", "公开报道"]
    line = source_line(True, [URL, "data/policies/003_d749e9a744f654f6.txt"])
    assert line == "来源：国家知识产权局　含示例数据（虚构，仅供演示）"


def test_an_exported_pdf_names_region_set_month_demo_mark_and_sources_by_name(tmp_path):
    fig = trajectory("demo", [URL])
    text = pdf_text(figure_pdf(slide_figure(fig, JINCHENG)), tmp_path)
    for expected in ("晋城市", "晋城市知识产权强市建设（2025年目标）", "数据截至2025年12月",
                     "来源：晋市政办〔2020〕47号；国家知识产权局", "示例数据"):
        assert unicodedata.normalize("NFKC", expected) in text, expected  # as pdf_text folds it
    assert "http" not in text and "cnipa" not in text and ".txt" not in text


def test_the_demo_mark_is_on_a_figure_with_demo_values_only():
    demo = slide_figure(trajectory("demo"), JINCHENG)
    published = slide_figure(trajectory("published", [URL]), JINCHENG)
    assert any(a.name == "demo_mark" for a in demo.layout.annotations)
    assert not any(a.name == "demo_mark" for a in published.layout.annotations)
    assert "示例数据" not in texts(published).replace("<b>", "")
    assert "来源：晋市政办〔2020〕47号；国家知识产权局" in texts(published)
    # the page's own figure is left as it was: the stamp is on the exported copy
    assert not any(a.name == "footer" for a in trajectory("demo").layout.annotations)


def test_an_exported_ranking_leaves_room_for_its_longest_region_name():
    frame = pd.DataFrame({"region_name": ["晋城市", "太原市", "山西转型综合改革示范区"],
                          "value": [700.0, 900.0, 120.0], "target": [700.0, None, None],
                          "status": ["已达成", None, None]})
    fig = comparison_figure(frame, title="山西省各市有效发明专利拥有量排名", unit="件", as_of="2025-12", has_demo=True)
    assert fig.layout.margin.l < _text_px("山西转型综合改革示范区", 13)  # the page's figure would clip it
    out = slide_figure(fig, ExportLabel("山西省各市", JINCHENG.target_set, JINCHENG.doc_number, "2025-12"))
    assert out.layout.margin.l >= _text_px("山西转型综合改革示范区", 13)
    footer = next(a for a in out.layout.annotations if a.name == "footer")
    assert footer.yshift + out.layout.margin.b >= 30  # two footer lines inside the figure
    assert re.search(r"山西省各市.*数据截至2025年12月", footer.text)
    image = Image.open(io.BytesIO(figure_png(out, scale=1)))
    assert image.size == (out.layout.width, out.layout.height)
