"""monitor.output.briefing and ``python -m etl briefing``: real PDFs from the demo store, read back with
poppler (pdftotext, pdffonts, pdfinfo) as a person or a search would read them."""

from __future__ import annotations

import base64
import contextlib
import io
import re
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from cli.main import main
from monitor.context import open_context
from monitor.evaluation.targetset import evaluate_target_set
from monitor.output.briefing import Briefing, build_briefing, build_context, html_to_pdf, print_svg, render_html
from monitor.output.export import figure_svg
from monitor.store.milestones import TaskStatus, read_updates, task_table
from monitor.views.charts import trajectory_figure
from monitor.views.formatting import format_value

JINCHENG_TITLE = "晋城市知识产权强市建设目标监测简报（数据截至2025年12月）"


def poppler(tool: str, path: Path, *args: str) -> str:
    return subprocess.run([tool, *args, str(path)] + (["-"] if tool == "pdftotext" else []), capture_output=True,
                          text=True, check=True).stdout


def flat(text: str) -> str:
    """pdftotext's text without whitespace (table cells wrap anywhere), compatibility forms folded."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.fixture(scope="module")
def ctx(copy_demo_store):
    return open_context(store_path=copy_demo_store("briefing_store"))


@pytest.fixture(scope="module")
def jincheng(ctx, tmp_path_factory) -> tuple[Briefing, Path]:
    briefing = build_briefing(ctx, "jincheng_2025", "140500", "2025-12", generated_at=datetime(2026, 1, 5, 9, 30))
    path = tmp_path_factory.mktemp("briefing") / briefing.file_name
    path.write_bytes(briefing.pdf)
    return briefing, path


def test_the_briefing_is_an_a4_pdf_titled_for_jincheng_and_the_month(jincheng):
    briefing, path = jincheng
    assert briefing.title == JINCHENG_TITLE
    info = poppler("pdfinfo", path)
    assert "(A4)" in info
    text = flat(poppler("pdftotext", path))
    assert flat(JINCHENG_TITLE) in text
    assert "生成时间:2026年01月05日09:30" in text
    assert "晋市政办〔2020〕47号" in text


def test_every_jincheng_target_is_listed_with_its_target_current_value_and_explanation(ctx, jincheng):
    _, path = jincheng
    text = flat(poppler("pdftotext", path))
    frame = evaluate_target_set(ctx, "jincheng_2025", "2025-12", "140500")
    assert len(frame) == 7 + 18  # the seven targets and the plan's 18 tasks
    for row in frame[frame["type"] != "milestone"].itertuples():
        for expected in (row.indicator_name, row.target_text, f"{format_value(row.current)}{row.unit}",
                         row.explanation, row.status):
            assert flat(expected) in text, expected
    # The 指标 column is narrow: a task's title wraps and pdftotext interleaves the cells line by line.
    for row in frame[frame["type"] == "milestone"].itertuples():
        assert flat(row.indicator_name)[:4] in text, row.indicator_name
    assert "持续推进" in text


def test_the_summary_counts_targets_by_status(ctx, jincheng):
    _, path = jincheng
    text = flat(poppler("pdftotext", path))
    frame = evaluate_target_set(ctx, "jincheng_2025", "2025-12", "140500")
    targets = frame[frame["type"] != "milestone"]["status"].value_counts()
    tasks = frame[frame["type"] == "milestone"]["task_status"].value_counts()
    assert "共7项目标、18项任务" in text  # the plan's 7 targets and 18 tasks, counted apart
    for status, n in targets.items():
        assert f"{status}{n}项" in text, text[:400]
    for status, n in tasks.items():  # in the task vocabulary (未报告, 已完成 …), not as 无数据
        assert f"{status}{n}项" in text, text[:400]
    assert "无数据18项" not in text


def test_each_target_has_its_trajectory_and_the_cities_of_shanxi_compared(jincheng):
    briefing, path = jincheng
    assert briefing.chart_count == 14  # 7 trajectories + 7 rankings of the 11 cities
    text = flat(poppler("pdftotext", path))
    assert text.count("晋城市·有效发明专利拥有量") >= 1  # the trajectory's own title, as on the page
    assert "山西省各市有效发明专利拥有量排名" in text
    for city in ("太原市", "大同市", "运城市", "吕梁市"):
        assert city in text


def test_the_briefing_embeds_the_cjk_font_and_numbers_its_pages(jincheng):
    _, path = jincheng
    fonts = poppler("pdffonts", path).splitlines()[2:]
    cjk = [line for line in fonts if "Noto-Sans-CJK" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # emb
    pages = int(next(line.split()[-1] for line in poppler("pdfinfo", path).splitlines() if line.startswith("Pages:")))
    assert pages >= 8
    text = flat(poppler("pdftotext", path))
    assert "第1页/共" + str(pages) + "页" in text and f"第{pages}页/共{pages}页" in text


def test_demo_values_sources_and_the_policy_document_are_footnoted(jincheng):
    _, path = jincheng
    text = flat(poppler("pdftotext", path))
    assert "示例数据提示" in text and "虚构" in text
    assert "含示例数据(虚构,仅供演示)" in text  # in the page footer too
    assert "数据来源与口径" in text and "政策文件" in text
    assert "《晋城市全面推进知识产权强市建设行动方案》(晋市政办〔2020〕47号,晋城市人民政府办公室,2020年9月14日)" in text
    assert ".txt" not in text and "data/policies" not in text  # cited by title, not by our file name
    assert "原文:「到2025年,全市有效发明专利拥有量达到700件」" in text
    assert "解读:按年度登记量理解" in text  # the disputed reading of 作品著作权登记数量达到60件


def test_a_paraphrased_document_is_cited_by_its_publisher_and_never_quoted(ctx, tmp_path):
    tset = ctx.config.target_set("shaanxi_outline_2025")
    variables, _, _ = build_context(ctx, tset.id, "610000", "2025-12", with_charts=False)
    html = render_html(variables)
    assert f"转述：{tset.targets[0].clause}（据杨凌示范区管委会刊载的文本，非原文）" in html
    assert "原文：「" not in html and "条文为转述，据杨凌示范区管委会刊载的文本整理" in html
    assert tset.source.url not in html


def test_sources_are_named_by_publisher_and_document_number_never_by_address_or_file(ctx, tmp_path):
    # The national plan is paraphrased from a page, and its demo carries published values read
    # from a dozen web pages: all of them cited by name.
    briefing = build_briefing(ctx, "national_14th_plan", "100000", "2025-12")
    path = tmp_path / briefing.file_name
    path.write_bytes(briefing.pdf)
    text = flat(poppler("pdftotext", path))
    assert "http" not in text and "www." not in text and "data/" not in text and ".txt" not in text
    assert "国发〔2021〕20号" in text  # the plan's 文号
    assert "据澳门月刊刊载的文本整理,非原文" in text  # the page the paraphrase was taken from, by name
    cited = text.split("标注「公布值」的数值引自公开报道或统计公报,来源:", 1)[1].split("。", 1)[0]
    assert "光明网" in cited and cited.endswith("及其他公开报道")  # published values, by who published them


def test_a_task_set_lists_its_overdue_tasks_with_their_lead_departments(ctx, tmp_path):
    tset = ctx.config.target_set("shanxi_tasks_2022_2023")
    briefing = build_briefing(ctx, tset.id, "140000", "2024-06")
    path = tmp_path / "tasks.pdf"
    path.write_bytes(briefing.pdf)
    text = flat(poppler("pdftotext", path))
    overdue = [v for v in task_table(tset, read_updates(ctx.store), "2024-06") if v.status is TaskStatus.OVERDUE]
    assert overdue
    assert f"有{len(overdue)}项已过完成时限仍未完成" in text
    for task in overdue:
        # Table cells wrap and pdftotext interleaves neighbouring cells line by line: compare the
        # start of each title and each department on its own.
        assert flat(task.title)[:10] in text, task.title
        for department in task.lead:
            assert department in text, department
    assert briefing.chart_count == 0


def page_pixels(svg: bytes, path: Path) -> bytes:
    """The SVG laid out in a briefing-like page by WeasyPrint, rasterised by poppler."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    path.write_bytes(html_to_pdf(f'<html><body><img src="{uri}" style="width: 178mm"></body></html>'))
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(path), str(path.with_suffix(""))], check=True)
    with Image.open(path.with_suffix(".png")) as image:
        return image.convert("RGB").tobytes()


def test_a_chart_is_printed_as_the_same_picture_and_text_with_its_styles_as_attributes(tmp_path):
    months = pd.date_range("2020-09", "2025-12", freq="MS").strftime("%Y-%m")
    measure = pd.DataFrame({"month": months, "value": [400 + 4.6 * i for i in range(len(months))],
                            "origin": ["demo"] * 40 + ["published"] * (len(months) - 40)})
    svg = figure_svg(trajectory_figure(measure, title="有效发明专利拥有量", region_name="晋城市", unit="件",
                                       as_of="2025-12", baseline=("2020-09", 400.0), target=("2025-12", 700.0)))
    printed = print_svg(svg)
    leftover = re.findall(rb' style="[^"]{0,60}', printed)
    assert b" style=" in svg and not leftover, leftover[:3]
    assert len(printed) < len(svg) and b"ns0:" not in printed
    assert page_pixels(printed, tmp_path / "printed.pdf") == page_pixels(svg, tmp_path / "plotly.pdf")
    text = flat(poppler("pdftotext", tmp_path / "printed.pdf"))
    assert text == flat(poppler("pdftotext", tmp_path / "plotly.pdf")) and "晋城市·有效发明专利拥有量" in text


# --------------------------------------------------------------------------- python -m etl briefing


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(copy_demo_store) -> str:
    return str(copy_demo_store("briefing_cli_store"))


def test_cli_writes_the_briefing_of_a_region(db, tmp_path):
    out = tmp_path / "briefing.pdf"
    code, stdout, stderr = run("--db", db, "briefing", "--region", "140500", "--target-set", "jincheng_2025",
                               "--as-of", "2025-12", "--out", str(out))
    assert code == 0, stderr
    assert f"已生成 {out}" in stdout and JINCHENG_TITLE in stdout
    assert flat(JINCHENG_TITLE) in flat(poppler("pdftotext", out))


def test_cli_batch_mode_writes_one_briefing_per_city_of_the_province(db, tmp_path):
    code, stdout, stderr = run("--db", db, "briefing", "--all-cities-of", "山西省", "--target-set",
                               "shanxi_tasks_2022_2023", "--as-of", "2024-06", "--out-dir", str(tmp_path / "out"))
    assert code == 0, stderr
    written = sorted((tmp_path / "out").glob("*.pdf"))
    cities = ["太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市", "忻州市", "临汾市", "吕梁市"]
    assert len(written) == stdout.count("已生成") >= len(cities)
    for city in cities:
        [path] = [p for p in written if f"_{city}_" in p.name]
        # the province's set for a city: a reference, and the title says so
        assert flat(f"{city}对照山西省共建知识产权强省工作要点目标监测简报（参考") in flat(poppler("pdftotext", path, "-l", "1"))


@pytest.mark.parametrize(("args", "message"), [
    (("--region", "999999", "--target-set", "jincheng_2025"), "「999999」不是已知地区"),
    (("--region", "晋城", "--target-set", "no_such_set"), "没有目标集「no_such_set」"),
    (("--region", "山西省", "--target-set", "jincheng_2025"), "不适用：目标集为晋城市制定，不用于上级或更高层级的地区（山西省）"),
    (("--all-cities-of", "火星省", "--target-set", "jincheng_2025"), "「火星省」不是已知地区"),
])
def test_cli_refuses_an_unknown_region_or_target_set_with_exit_code_2(db, tmp_path, args, message):
    code, _, stderr = run("--db", db, "briefing", *args, "--as-of", "2025-12", "--out-dir" if "--all-cities-of" in args
                          else "--out", str(tmp_path / "x"))
    assert code == 2
    assert message in stderr
    assert not (tmp_path / "x").exists()
