"""The registry says all that the documents say: every clause of the five documents in
data/policies/ that carries a number, a deadline or a responsible unit is covered by a target or
task of indicators.yaml, or set aside there with a reason (rule: monitor/views/coverage.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from monitor.domain.config import MilestoneTarget
from monitor.views.coverage import document_clauses, fold, sets_of, task_paragraph, uncovered

POLICIES = Path(__file__).parent.parent / "data" / "policies"
DOCUMENTS = sorted(p.name for p in POLICIES.glob("*.txt"))


def clauses(seed: str, kind: str) -> list:
    text = fold((POLICIES / seed).read_text(encoding="utf-8"))
    return [c for c in document_clauses(seed, text) if c.kind == kind]


def without(config, set_id: str, *, target: str | None = None, set_aside: int | None = None):
    """The config with one task or one set-aside clause removed from a set."""
    sets = []
    for tset in config.target_sets:
        if tset.id == set_id:
            changes = {}
            if target:
                changes["targets"] = [t for t in tset.targets if t.id != target]
            if set_aside is not None:
                changes["set_aside"] = [a for i, a in enumerate(tset.set_aside) if i != set_aside]
            tset = tset.model_copy(update=changes)
        sets.append(tset)
    return config.model_copy(update={"target_sets": sets})


def test_there_are_the_five_documents_and_each_belongs_to_a_target_set(config):
    assert len(DOCUMENTS) == 5
    for seed in DOCUMENTS:
        assert sets_of(config, seed), f"{seed} is the source of no target set"


@pytest.mark.parametrize("seed", DOCUMENTS)
def test_every_clause_with_a_number_deadline_or_responsible_unit_is_covered_or_set_aside(config, seed):
    missing = uncovered(config, seed, POLICIES)
    assert not missing, "indicators.yaml 未覆盖、也未搁置这些条文：\n" + "\n".join(c.describe() for c in missing)


@pytest.mark.parametrize(("seed", "tasks"), [
    ("000_a5fbfb3f62f4700d.txt", 18), ("001_148d2c6f0c237998.txt", 18), ("002_2ca2b7ff21c6fab6.txt", 19),
    ("003_d749e9a744f654f6.txt", 17), ("004_d03b6dd1b66d5dd2.txt", 16),
])
def test_the_rule_finds_every_task_paragraph_of_a_document(seed, tasks):
    found = clauses(seed, "responsibility")
    assert len(found) == tasks
    assert all(re.search(r"负责|牵头", c.mark) for c in found)


def test_the_rule_finds_the_numbers_of_the_jincheng_targets_and_its_subsidies():
    numbers = [c.mark for c in clauses("003_d749e9a744f654f6.txt", "number")]
    assert numbers[:7] == ["700件", "3件", "15000件", "10件", "5件", "26件", "60件"]
    assert "3000元" in numbers and "5-10万元" in numbers and "50%" in numbers
    deadlines = [c.mark for c in clauses("004_d03b6dd1b66d5dd2.txt", "deadline")]
    assert deadlines == ["12月20日之前"]


def test_a_task_left_out_of_the_registry_is_reported_with_its_paragraph(config):
    assert uncovered(config, "003_d749e9a744f654f6.txt", POLICIES) == []
    missing = uncovered(without(config, "jincheng_2025", target="jc_t05"), "003_d749e9a744f654f6.txt", POLICIES)
    assert [c.kind for c in missing] == ["responsibility"]
    assert missing[0].text.startswith("5.鼓励和引导企事业单位建立健全职务发明管理制度")
    assert missing[0].mark == "〔市工信局,市市场监管局按职责分工负责〕"
    assert "［责任单位「〔市工信局" in missing[0].describe()


def test_a_number_neither_covered_nor_set_aside_is_reported_with_its_sentence(config):
    tset = config.target_set("shaanxi_2022")
    at = next(i for i, a in enumerate(tset.set_aside) if "12个设区市" in a.clause)
    missing = uncovered(without(config, "shaanxi_2022", set_aside=at), "004_d03b6dd1b66d5dd2.txt", POLICIES)
    assert [(c.kind, c.mark) for c in missing] == [("number", "12个")]
    assert "加强对全省12个设区市(区)秦创原创新促进中心的支持力度" in missing[0].text


def test_a_copy_of_a_document_is_checked_against_the_same_tasks(config):
    tasks = config.target_set("shanxi_tasks_2022_2023")
    assert tasks.source.seeds == ["000_a5fbfb3f62f4700d.txt", "001_148d2c6f0c237998.txt"]
    # Where the copy's wording differs (task 1 has an extra 评估), it is set aside pointing at the task.
    first = next(a for a in tasks.set_aside if "sxt_01" in a.see)
    assert first.seed == "001_148d2c6f0c237998.txt" and "评估" in first.reason
    at = tasks.set_aside.index(first)
    missing = uncovered(without(config, "shanxi_tasks_2022_2023", set_aside=at), "001_148d2c6f0c237998.txt", POLICIES)
    assert [c.text[:20] for c in missing] == ["1.强化知识产权评估顶层设计与区域协同,"]


def test_every_set_aside_clause_says_why(config):
    asides = [(s.id, a) for s in config.target_sets for a in s.set_aside]
    assert len(asides) >= 15
    for set_id, aside in asides:
        assert len(aside.reason) >= 8, (set_id, aside.clause)


def _units(text: str) -> str:
    return fold(text).replace("(", "").replace(")", "")


def test_each_task_names_only_units_its_paragraph_names_and_the_deadline_it_states(config):
    checked = 0
    for tset in config.target_sets:
        if not tset.source.seed:
            continue
        for task in tset.targets:
            if not isinstance(task, MilestoneTarget):
                continue
            paragraph = task_paragraph(config, task, tset, POLICIES)
            if paragraph is None:
                assert task.id == "sn22_annual_report"  # the covering letter's request, not a task paragraph
                continue
            bracket = _units(paragraph.mark)
            for unit in [*task.lead, *task.cooperating, *task.national]:
                assert _units(unit) in bracket, f"{task.id}: 「{unit}」 not in {paragraph.mark}"
            stated = re.search(r"(\d{4})年(\d{1,2})月底前完成", paragraph.mark)
            if stated:
                assert task.deadline == date(int(stated[1]), 12, 31) and not task.ongoing, task.id
            elif "持续推进" in paragraph.mark:
                assert task.ongoing and task.deadline is None, task.id
            checked += 1
    assert checked == 72  # 18 + 17 + 19 + 18 tasks of the four seed documents (not the report)


def test_a_clause_is_shown_as_a_quotation_only_when_it_is_checked_against_a_document(config):
    jincheng = config.target_set("jincheng_2025")
    assert jincheng.quote("到 2025 年") == "原文：「到 2025 年」"
    outline = config.target_set("shaanxi_outline_2025")
    shown = outline.quote(outline.targets[0].clause)
    assert shown.startswith("转述：") and "「" not in shown and "据杨凌示范区管委会刊载的文本" in shown
    assert outline.source.url not in shown  # by publisher, never by address (monitor/domain/sources.py)
    assert outline.verbatim is False and jincheng.verbatim is True


def test_the_document_is_cited_by_title_number_issuer_and_date(config):
    assert config.target_set("jincheng_2025").document_label == (
        "《晋城市全面推进知识产权强市建设行动方案》（晋市政办〔2020〕47号，晋城市人民政府办公室，2020年9月14日）")
    assert config.target_set("shaanxi_2022").document_label.endswith("（陕知发〔2022〕38号，陕西省知识产权局，印发日期不详）")
    assert "无文号" in config.target_set("shaanxi_outline_2025").document_label


def test_the_14th_plan_directions_say_they_are_not_targets_of_the_document(config):
    plan = {t.id: t for t in config.target_set("shanxi_14th_plan").targets}
    for target_id, base in (("sx14_invention_per_10k", 4.4), ("sx14_patent_intensive_share", 6.5)):
        target = plan[target_id]
        assert target.derived and "不是规划设定的目标" in target.derived and "缺失" in target.derived
        assert target.baseline.value == base
        assert "2025" not in target.clause  # quotes what the plan says: the baseline, not a 2025 goal
    assert plan["sx14_protection_satisfaction"].clause == "知识产权保护社会满意度逐年提高"
