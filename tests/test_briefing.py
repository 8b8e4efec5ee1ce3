"""monitor.output.briefing and ``python -m etl briefing``: real PDFs from the demo store, read back with
poppler (pdftotext, pdffonts, pdfinfo) as a person or a search would read them."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from cli.main import main
from monitor.context import open_context
from monitor.evaluation.targetset import evaluate_target_set
from monitor.output.briefing import Briefing, build_briefing, build_context, render_html
from monitor.output.export import print_pdf_in_own_browser
from monitor.store.milestones import TaskStatus, read_updates, task_table
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


def page_texts(path: Path, top: float = 0, bottom: float = 842, *, layout: bool = False) -> list[str]:
    """Each page's text, as ``flat`` reads it; only what lies between ``top`` and ``bottom`` (points
    from the top of the A4 page) when they are given; ``layout``: read line by line across the page,
    not column by column."""
    pages = int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", path), re.M).group(1))
    crop = ["-x", "0", "-y", str(int(top)), "-W", "596", "-H", str(int(bottom - top))] + (["-layout"] if layout else [])
    return [flat(poppler("pdftotext", path, "-f", str(n), "-l", str(n), *crop)) for n in range(1, pages + 1)]


MM = 72 / 25.4  # points


def test_the_briefing_embeds_its_fonts_and_numbers_its_pages(jincheng):
    # Chromium embeds the CJK font as Type 3 subsets without its name, so pdffonts cannot name Noto
    # Sans CJK: every font embedded, and the Chinese read back (tests/test_export.py checks that
    # the same print draws Chinese glyphs, not boxes).
    _, path = jincheng
    fonts = poppler("pdffonts", path).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb
    footers, headers = page_texts(path, top=842 - 20 * MM), page_texts(path, bottom=18 * MM)  # in the margins
    assert len(footers) >= 8
    for number, (header, footer) in enumerate(zip(headers, footers, strict=True), start=1):
        assert footer == f"含示例数据(虚构,仅供演示)第{number}页/共{len(footers)}页知识产权指标监测"
        assert header == "晋城市·晋城市全面推进知识产权强市建设行动方案数据截至2025年12月"


def test_the_target_table_repeats_its_header_row_on_the_next_page(jincheng):
    _, path = jincheng
    pages = page_texts(path, layout=True)
    header = "序号指标目标及期限当前值进度状态说明"
    assert header in pages[0] and "二、目标完成情况" in pages[0]
    continued = next(page for page in pages[1:] if "三、逾期任务" in page)  # 25 rows do not fit on one page
    assert header in continued and continued.index(header) < continued.index("三、逾期任务")


def test_the_charts_are_printed_as_vector_drawings_with_their_text(jincheng):
    _, path = jincheng
    assert poppler("pdfimages", path, "-list").splitlines()[2:] == []  # no picture anywhere
    assert "晋城市·有效发明专利拥有量" in flat(poppler("pdftotext", path))


def test_a_browser_of_its_own_prints_the_same_briefing(jincheng, tmp_path):
    # the fallback when kaleido's server cannot be reached (another kaleido version)
    briefing, path = jincheng
    own = tmp_path / "own.pdf"
    own.write_bytes(print_pdf_in_own_browser(briefing.html, briefing.layout))
    assert page_texts(own) == page_texts(path)


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
