"""indicators.yaml: the real file against its source documents, a small valid config, and a folder
of broken copies of it (tests/data/config_broken/), one problem each."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from monitor.domain.config import (
    Config,
    MilestoneTarget,
    RatioFormula,
    SumFormula,
    load_config,
    normalise_name,
    parse_config,
)
from monitor.errors import ConfigError

HERE = Path(__file__).parent
ROOT = HERE.parent
POLICIES = ROOT / "data" / "policies"
MINIMAL = HERE / "data" / "config_minimal.yaml"
BROKEN = HERE / "data" / "config_broken"


def targets_by_id(config: Config, set_id: str) -> dict:
    return {t.id: t for t in config.target_set(set_id).targets}


def fold(text: str) -> str:
    """Copies of a document differ in spacing, markdown and full/half-width forms, not in wording."""
    return re.sub(r"[\s*#>]", "", unicodedata.normalize("NFKC", text))


def line_of(text: str, marker: str, nth: int = 1) -> int:
    """The 1-based number of the line holding the nth occurrence of ``marker``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[nth - 1]


# --------------------------------------------------------------------------- the real file


def test_the_real_config_loads_and_every_region_it_names_is_in_the_registry(config, regions):
    assert set(config.target_set_by_id) >= {
        "jincheng_2025", "shaanxi_2022", "shanxi_14th_plan", "shanxi_tasks_2022_2023",
    }
    for tset in config.target_sets:
        for target in tset.targets:
            assert tset.region_of(target) in regions


def test_jincheng_2025_holds_the_seven_targets_of_the_action_plan(config):
    jincheng = config.target_set("jincheng_2025")
    assert jincheng.region == "140500"
    assert jincheng.doc_number == "晋市政办〔2020〕47号"
    got = {(t.indicator, t.type, t.value, t.deadline) for t in jincheng.targets if not isinstance(t, MilestoneTarget)}
    assert got == {
        ("invention_patents", "at_least", 700, "2025-12"),
        ("invention_patents_per_10k", "at_least", 3, "2025-12"),
        ("trademarks", "at_least", 15000, "2025-12"),
        ("gi_trademarks", "at_least", 10, "2025-12"),
        ("gi_products", "at_least", 5, "2025-12"),
        ("agri_gi", "at_least", 26, "2025-12"),
        ("copyright_registrations", "at_least", 60, "2025-12"),
    }


def test_each_jincheng_target_quotes_the_number_it_sets(config):
    for target in config.target_set("jincheng_2025").targets:
        if not isinstance(target, MilestoneTarget):
            assert f"{target.value:g}" in target.clause


def test_jincheng_2025_holds_the_17_tasks_of_section_four_with_their_departments(config):
    tasks = [t for t in config.target_set("jincheng_2025").targets if isinstance(t, MilestoneTarget)]
    assert sorted({t.number for t in tasks}) == list(range(1, 18))
    assert all(t.ongoing and t.deadline is None for t in tasks)  # the plan gives no task deadlines
    by_id = {t.id: t for t in tasks}
    assert by_id["jc_t01"].lead == ["市科技局", "市市场监管局", "市财政局"]
    assert by_id["jc_t03"].lead[-1] == "各县（市、区）政府"
    assert "“贯标”全覆盖" in by_id["jc_standard_full_coverage"].clause


def test_shaanxi_2022_has_its_quantitative_targets(config):
    targets = targets_by_id(config, "shaanxi_2022")
    got = {
        tid: (t.type, t.indicator, t.value)
        for tid, t in targets.items()
        if t.type in ("at_least", "increase", "growth")
    }
    assert got == {
        "sn22_high_value_per_10k": ("at_least", "high_value_patents_per_10k", 6.8),
        "sn22_new_gi": ("increase", "geographic_indications", 3),
        "sn22_pledge_smes_growth": ("growth", "pledge_smes", 10),
        "sn22_demo_pilot_units": ("at_least", "demo_pilot_units", 40),
        "sn22_advantage_enterprises": ("increase", "advantage_enterprises", 20),
        "sn22_demonstration_enterprises": ("increase", "demonstration_enterprises", 10),
        "sn22_standard_units": ("increase", "standard_certified_units", 150),
        "sn22_patent_navigation": ("increase", "patent_navigation_projects", 20),
    }
    assert {t.deadline for t in targets.values() if not isinstance(t, MilestoneTarget)} == {"2022-12"}


def test_shaanxi_2022_has_its_directional_targets(config):
    targets = targets_by_id(config, "shaanxi_2022")
    satisfaction = targets["sn22_protection_satisfaction"]
    assert (satisfaction.type, satisfaction.indicator, satisfaction.reference_region) == (
        "above_reference", "protection_satisfaction", "100000")
    steady = {tid: t.indicator for tid, t in targets.items() if t.type == "steady_increase"}
    assert steady == {
        "sn22_industrialisation_rate": "patent_industrialisation_rate",
        "sn22_patent_intensive_share": "patent_intensive_share",
        "sn22_gi_users": "gi_authorized_users",  # 新增一批专用标志用标企业
    }


def test_shaanxi_2022_holds_its_tasks_for_the_year_with_the_divisions_of_the_document(config):
    tasks = {t.id: t for t in config.target_set("shaanxi_2022").targets if isinstance(t, MilestoneTarget)}
    assert len(tasks) == 18  # 16 paragraphs with a bracket of divisions (one of them two tasks) and the report
    assert {t.deadline for t in tasks.values()} == {date(2022, 12, 31), date(2022, 12, 20)}
    city_bureaus = "各设区市、韩城市、杨凌示范区市场监督管理局（知识产权局）"
    assert tasks["sn22_strong_province_outline"].lead == ["办公室", "政策法规处", "规划协调处", city_bureaus]
    clauses = {t.clause for t in tasks.values()}
    for named in ("制定《省知识产权局2022年法治政府建设工作要点》", "举办首届秦创原高价值专利大赛",
                  "制定全省《2022年知识产权行政保护工作方案》", "开展全省知识产权保护社会满意度调查和保护水平评估",
                  "编印《知识产权质押融资服务指导手册》", "印发全省知识产权公共服务事项清单",
                  "推动设区市商标受理窗口全覆盖", "高规格、高质量举办“一带一路”知识产权论坛"):
        assert named in clauses, named


def test_shaanxi_2022_report_is_due_on_20_december(config):
    report = targets_by_id(config, "shaanxi_2022")["sn22_annual_report"]
    assert report.deadline == date(2022, 12, 20)
    assert "12月20日之前" in report.clause


def _deadlines_in_document() -> dict[int, date | None]:
    """Task number -> deadline as 晋政办发〔2022〕73号 states it (None for 持续推进)."""
    text = (POLICIES / "000_a5fbfb3f62f4700d.txt").read_text(encoding="utf-8")
    found: dict[int, date | None] = {}
    for number, body in re.findall(r"(?m)^(\d{1,2})\. (.*?)(?=^\d{1,2}\. |^#|\Z)", text, flags=re.S):
        flat = fold(body)
        year = re.search(r"(\d{4})年12月底前完成", flat)
        found[int(number)] = date(int(year.group(1)), 12, 31) if year else None
        assert year or "持续推进" in flat, f"task {number}: no deadline in the document"
    return found


def test_shanxi_2022_2023_has_18_tasks_with_the_deadlines_of_the_document(config):
    tasks = config.target_set("shanxi_tasks_2022_2023").targets
    assert all(isinstance(t, MilestoneTarget) for t in tasks)
    assert [t.number for t in tasks] == list(range(1, 19))
    in_document = _deadlines_in_document()
    assert len(in_document) == 18
    assert {t.number: t.deadline for t in tasks} == in_document
    for task in tasks:
        assert task.ongoing == (task.deadline is None)
    assert {t.deadline for t in tasks} == {date(2022, 12, 31), date(2023, 12, 31), None}


def test_every_quote_from_a_seed_document_occurs_in_that_document(config):
    checked = 0
    for tset in config.target_sets:
        if not tset.source.seed:
            continue
        document = fold((POLICIES / tset.source.seed).read_text(encoding="utf-8"))
        for target in tset.targets:
            quotes = [target.clause]
            if getattr(target, "baseline", None) is not None and target.baseline.clause:
                quotes.append(target.baseline.clause)
            quotes += [past.clause for past in getattr(target, "history", []) if past.clause]
            if target.interpretation is not None and target.interpretation.alternative_clause:
                quotes.append(target.interpretation.alternative_clause)
            for quote in quotes:
                assert fold(quote) in document, f"{tset.id} › {target.id}: {quote}"
                checked += 1
        for aside in tset.set_aside:
            text = fold((POLICIES / (aside.seed or tset.source.seed)).read_text(encoding="utf-8"))
            assert fold(aside.clause) in text, f"{tset.id} › set_aside: {aside.clause}"
            checked += 1
    assert checked >= 110  # four seed documents, 95 targets and tasks, 15 set aside: the loop really ran


def test_a_derived_indicator_is_computed_from_base_indicators_only(config):
    assert config.base_indicators("invention_patents_per_10k") == ["invention_patents"]
    assert config.base_indicators("trademarks_per_10k_entities") == ["trademarks", "market_entities"]
    assert config.base_indicators("geographic_indications") == ["gi_trademarks", "gi_products", "agri_gi"]
    assert isinstance(config.indicator("trademarks_per_10k_entities").formula, RatioFormula)
    assert isinstance(config.indicator("geographic_indications").formula, SumFormula)


# --------------------------------------------------------------------------- names and aliases


@pytest.mark.parametrize(
    ("written", "indicator_id"),
    [
        ("有效商标注册量", "trademarks"),  # an alias
        ("有效注册商标量", "trademarks"),  # the name
        ("trademarks", "trademarks"),  # the id
        ("Invention_Patents", "invention_patents"),  # case and underscores
        (" 有效 发明专利\u3000", "invention_patents"),  # spaces, full-width space
        ("国内（不含港澳台）发明专利有效量", "invention_patents"),  # full-width brackets
        ("国内【不含港澳台】发明专利有效量", "invention_patents"),  # other brackets
        ("ＰＣＴ国际专利申请", "pct_applications"),  # full-width letters
        ("地理标志集体/证明商标", "gi_trademarks"),
        ("每万人口发明专利拥有量", "invention_patents_per_10k"),
        ("发明专利授权量", "invention_grants"),
    ],
)
def test_an_indicator_is_found_by_id_name_or_alias_however_it_is_written(config, written, indicator_id):
    assert config.resolve_indicator(written) == indicator_id


@pytest.mark.parametrize("written", ["有效发明", "专利", "", "invention patents per capita"])
def test_an_unknown_indicator_name_resolves_to_nothing(config, written):
    assert config.resolve_indicator(written) is None


def test_normalise_name_folds_width_brackets_spaces_and_case():
    assert normalise_name("ＰＣＴ（国际） 申请\u3000量") == "pct国际申请量"
    assert normalise_name("《专利》·导航—项目") == "专利导航项目"
    assert normalise_name("有效商标注册量") == "有效商标注册量"


def test_names_that_differ_only_in_spacing_or_width_are_the_same_name(regions):
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "aliases: [每万人发明专利拥有量]", "aliases: [每万人发明专利拥有量, 有效　发明专利]")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, regions=regions)
    assert [p.message for p in caught.value.problems] == [
        "名称「有效　发明专利」同时属于指标 invention_patents，名称必须唯一"]


# --------------------------------------------------------------------------- a small config


def test_a_small_complete_config_loads(regions):
    small = load_config(MINIMAL, regions=regions)
    assert [i.id for i in small.indicators] == ["invention_patents", "invention_patents_per_10k"]
    assert [t.id for t in small.target_set("jincheng_2025").targets] == ["jc_invention_patents", "jc_task_funding"]


@dataclass(frozen=True)
class Broken:
    file: str
    where: tuple[str, ...]  # what the location must name
    says: tuple[str, ...]  # what the message must say
    line_at: str  # the problem's line is the one holding this text ...
    fix: tuple[str, str]  # ... and replacing this text with that corrects the file
    nth: int = 1  # ... its nth occurrence


TARGET = ("目标集 jincheng_2025", "目标 jc_invention_patents")
BROKEN_FILES = [
    Broken("yaml_syntax_error.yaml", ("YAML 语法",), ("expected ',' or ']'", "while parsing a flow sequence"),
           "unit: 件", ("[有效发明专利\n", "[有效发明专利]\n")),
    Broken("unknown_key.yaml", (*TARGET, "字段 valeu"), ("不认识的字段", "700"),
           "valeu: 700", ("        valeu: 700\n", "")),
    Broken("wrong_type.yaml", (*TARGET, "字段 value"), ("应为数字", "'abc'"),
           "value: abc", ("value: abc", "value: 700")),
    Broken("unknown_indicator.yaml", (*TARGET, "字段 indicator"), ("不存在的指标「invention_patent」",),
           "indicator: invention_patent", ("invention_patent\n", "invention_patents\n")),
    Broken("unknown_region.yaml", (*TARGET, "字段 region"), ("地区代码「140599」不在地区库中",),
           'region: "140599"', ('"140599"', '"140500"')),
    Broken("target_without_clause.yaml", (*TARGET, "字段 clause"), ("缺少必填字段",),
           "- id: jc_invention_patents",
           ("deadline: 2025-12\n", "deadline: 2025-12\n        clause: 到 2025 年，全市有效发明专利拥有量达到 700 件\n")),
    Broken("clause_not_in_seed.yaml", (*TARGET, "字段 clause"),
           ("引文「到 2025 年，全市有效发明专利拥有量达到 800 件", "未在来源文件 003_d749e9a744f654f6.txt 中找到"),
           "clause: 到 2025 年", ("800 件", "700 件")),
    Broken("milestone_without_deadline.yaml", ("目标集 jincheng_2025", "目标 jc_task_funding"),
           ("没有 deadline 的任务必须写 ongoing: true",),
           "- id: jc_task_funding", ("deadline: null", "deadline: 2025-12-31")),
    Broken("duplicate_target_id.yaml", (*TARGET, "字段 id"),
           ("目标 id「jc_invention_patents」已在目标集 jincheng_2025 中使用",),
           "- id: jc_invention_patents", ("jc_invention_patents\n        type: milestone", "jc_task_funding\n        type: milestone"),
           nth=2),
    Broken("derived_without_formula.yaml", ("指标 invention_patents_per_10k",), ("派生指标（kind: derived）必须给出 formula",),
           "- id: invention_patents_per_10k",
           ("decimals: 2\n", "decimals: 2\n    formula: {numerator: invention_patents, denominator: population, scale: 10000}\n")),
    Broken("source_without_seed_or_url.yaml", ("目标集 jincheng_2025", "字段 source"),
           ("来源必须给出 seed（data/policies/ 下的文件名）或 url",),
           "source: {}", ("source: {}", "source: {seed: 003_d749e9a744f654f6.txt}")),
    Broken("stored_without_plausible_max.yaml", ("指标 invention_patents",),
           ("非派生指标必须给出 plausible_max",), "- id: invention_patents",
           ("    decimals: 0\n", "    decimals: 0\n    plausible_max: 1000000000\n")),
    Broken("alias_shared.yaml", ("指标 invention_patents_per_10k", "字段 aliases"),
           ("名称「有效发明专利」同时属于指标 invention_patents，名称必须唯一",),
           "aliases: [每万人发明专利拥有量, 有效发明专利]", (", 有效发明专利]", "]")),
    Broken("switch_unknown_indicator.yaml", (*TARGET, "字段 interpretation", "字段 switch", "字段 indicator"),
           ("不存在的指标「invention_patent」",),
           "switch: {indicator", ("switch: {indicator: invention_patent}", "switch: {start: 2021-01}")),
    Broken("set_aside_not_in_seed.yaml", ("目标集 jincheng_2025", "字段 set_aside", "字段 clause"),
           ("搁置条文「对每件授权发明专利一次性给予 4000 元资助", "未在来源文件 003_d749e9a744f654f6.txt 中找到"),
           "给予 4000 元资助", ("给予 4000 元资助", "给予 3000 元资助")),
    Broken("set_aside_without_reason.yaml", ("目标集 jincheng_2025", "字段 set_aside"), ("缺少必填字段",),
           "- clause: 对每件授权发明专利",
           ("        see: [jc_invention_patents]", "        reason: 资助标准，不是目标\n        see: [jc_invention_patents]")),
    Broken("set_aside_unknown_see.yaml", ("目标集 jincheng_2025", "字段 set_aside", "字段 see"),
           ("see 引用了本目标集中不存在的目标「jc_invention_patent」",),
           "see: [jc_invention_patent]", ("jc_invention_patent]", "jc_invention_patents]")),
]


def test_every_broken_file_has_its_expected_problem_listed():
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(b.file for b in BROKEN_FILES)


@pytest.mark.parametrize("broken", BROKEN_FILES, ids=lambda b: b.file)
def test_a_broken_config_is_refused_with_where_and_what(broken, regions):
    path = BROKEN / broken.file
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, regions=regions)
    error = caught.value
    assert len(error.problems) == 1, error
    problem = error.problems[0]
    for part in broken.where:
        assert part in problem.location
    for part in broken.says:
        assert part in problem.message
    assert problem.line == line_of(text, broken.line_at, broken.nth)
    # what a person reads: the file, how many problems, the line, the place and the message
    shown = str(error)
    assert f"配置文件 {path} 有 1 处错误" in shown
    assert f"第 {problem.line} 行" in shown and problem.location in shown and problem.message in shown


@pytest.mark.parametrize("broken", BROKEN_FILES, ids=lambda b: b.file)
def test_the_broken_config_corrected_loads(broken, regions, tmp_path):
    old, new = broken.fix
    text = (BROKEN / broken.file).read_text(encoding="utf-8")
    assert text.count(old) == 1
    fixed = text.replace(old, new)
    # one problem per file: corrected, it is the small valid config again
    assert fixed.split("\n", 2)[2] == MINIMAL.read_text(encoding="utf-8").split("\n", 2)[2]
    path = tmp_path / broken.file
    path.write_text(fixed, encoding="utf-8")
    assert load_config(path, regions=regions).target_set("jincheng_2025").region == "140500"


def test_a_yaml_syntax_error_points_at_line_and_column_and_where_the_construct_began(regions):
    path = BROKEN / "yaml_syntax_error.yaml"
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, regions=regions)
    problem = caught.value.problems[0]
    # PyYAML stops at the colon of the next line; the bracket was opened on the line before
    assert (problem.line, problem.column) == (line_of(text, "unit: 件"), len("    unit:"))
    assert f"始于第 {line_of(text, 'aliases: [有效发明专利')} 行" in problem.message


def test_a_missing_field_inside_a_formula_is_reported_once_against_that_field(regions):
    text = MINIMAL.read_text(encoding="utf-8").replace(", scale: 10000}", "}")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, regions=regions)
    [problem] = caught.value.problems
    assert problem.location == "指标 invention_patents_per_10k › 字段 formula › 字段 scale"
    assert problem.message == "缺少必填字段"
    assert problem.line == line_of(text, "formula:")


def test_every_problem_is_reported_in_one_pass(regions):
    text = (MINIMAL.read_text(encoding="utf-8")
            .replace("indicator: invention_patents\n", "indicator: invention_patent\n")
            .replace("达到 700 件", "达到 800 件")
            .replace('    region: "140500"\n    targets', '    region: "149999"\n    targets'))
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="copy.yaml", regions=regions)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 3
    assert any("不存在的指标「invention_patent」" in m for m in messages)
    assert any("未在来源文件" in m for m in messages)
    assert any("地区代码「149999」不在地区库中" in m for m in messages)
    assert str(caught.value).startswith("配置文件 copy.yaml 有 3 处错误")


def test_a_config_file_that_does_not_exist_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="找不到该文件"):
        load_config(tmp_path / "indicators.yaml")


def test_a_config_that_is_not_a_mapping_is_refused():
    with pytest.raises(ConfigError, match="应为映射"):
        parse_config("- just\n- a list\n")


@pytest.mark.parametrize(("change", "says"), [
    (("unit: 件\n", "unit: \"%\"\n"), "单位为 % 的指标 plausible_max 不能超过 100"),
    (("scale: 10000}\n", "scale: 10000}\n    plausible_max: 100\n"), "派生指标由分项计算、不导入，不设 plausible_max"),
    (("plausible_max: 1000000000\n", "plausible_max: .inf\n"), "plausible_max"),
])
def test_a_plausible_maximum_must_fit_its_indicator(change, says, regions, tmp_path):
    text = MINIMAL.read_text(encoding="utf-8")
    assert text.count(change[0]) == 1
    path = tmp_path / "c.yaml"
    path.write_text(text.replace(*change), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, regions=regions)
    assert says in str(caught.value)


def test_every_stored_indicator_of_the_real_file_declares_a_plausible_maximum(regions):
    config = load_config(regions=regions)
    for indicator in config.indicators:
        assert (indicator.plausible_max is None) == (indicator.kind == "derived"), indicator.id
        if indicator.unit == "%":
            assert indicator.plausible_max == 100


def test_the_small_config_of_the_unit_tests_is_an_excerpt_of_the_real_file(config, small_config):
    """tests/data/small/indicators.yaml stands in for indicators.yaml where the whole is not the
    point: each of its indicators and targets is the real file's, as it is today (the sets leave
    out their set-aside clauses, which name targets the excerpt does not have)."""
    for indicator in small_config.indicators:
        assert indicator == config.indicator(indicator.id), indicator.id
    for small_set in small_config.target_sets:
        real = config.target_set(small_set.id)
        kept = {"targets", "set_aside"}
        assert small_set.model_dump(exclude=kept) == real.model_dump(exclude=kept), small_set.id
        real_targets = {t.id: t for t in real.targets}
        assert all(t == real_targets[t.id] for t in small_set.targets), small_set.id
