"""Does the registry say all that the documents say? The clauses of a policy document that carry a
number, a deadline or a responsible unit, and whether indicators.yaml covers each one.

The rule, applied to a document's text folded as quotes are (config._fold_for_quote: no spaces,
half-width punctuation):

* a **responsibility** clause is a task paragraph: the text from the previous bracket or heading
  up to a bracket that names who is responsible (〔市科技局、市市场监管局按职责分工负责〕,
  （省市场监管局牵头，……）). A task (type: milestone) covers it when the task's clause is quoted
  from that paragraph;
* a **number** is digits with a unit of count or money (700件, 6.8件, 10%, 5万元, 20项, 12个);
  a **deadline** is a date outside such a bracket (12月20日之前, 2023年12月底前, 到2025年). Either is
  covered when a quote of the registry (a clause, a baseline's or history's clause, an
  interpretation's alternative clause, a set-aside clause) spans it.

A clause may instead be set aside in the yaml (``set_aside``: clause, reason). What no entry
covers is listed with its sentence so that a reader can find it in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from monitor import POLICIES_DIR
from monitor.domain.config import Config, MilestoneTarget, TargetSet, _fold_for_quote, _quotes

# Nested brackets occur inside: 〔…各设区市、韩城市、杨凌示范区市场监督管理局（知识产权局）按职责负责落实〕.
RESPONSIBILITY = re.compile(
    r"〔[^〔〕]*?(?:负责|牵头)[^〔〕]*?〕"
    r"|\((?:[^()]|\([^()]*\))*?(?:负责|牵头)(?:[^()]|\([^()]*\))*?\)"
)
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?(?:万|亿)?(?:件|家|项|个|人|元|%|次|倍|届|名)")
DEADLINE = re.compile(r"\d{1,2}月\d{1,2}日(?:之前|前)|\d{4}年\d{1,2}月底前|到\d{4}年(?!度)底?")
# Where a task paragraph may begin: (四), 三, (folded 三、), 12. (not the 2. of 2.2件).
HEADING = re.compile(r"\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+,|(?<![\d.])\d{1,2}\.(?!\d)")
SENTENCE_END = re.compile(r";|\.(?!\d)|(?<!\d)\.|——")

Kind = Literal["responsibility", "number", "deadline"]
KIND_CN = {"responsibility": "责任单位", "number": "数值", "deadline": "时限"}


@dataclass(frozen=True)
class Clause:
    """A mark (the number, date or bracket) and the clause it sits in, as positions in the folded
    document."""

    seed: str
    kind: Kind
    mark: str
    mark_span: tuple[int, int]
    span: tuple[int, int]
    text: str

    def describe(self) -> str:
        return f"{self.seed}［{KIND_CN[self.kind]}「{self.mark}」］{self.text}"


def fold(text: str) -> str:
    return _fold_for_quote(text)


def document_clauses(seed: str, text: str) -> list[Clause]:
    """Every clause of a (folded) document that carries a number, a deadline or a responsible unit."""
    clauses: list[Clause] = []
    brackets = list(RESPONSIBILITY.finditer(text))
    previous_end = 0
    for m in brackets:
        heads = [h.start() for h in HEADING.finditer(text, previous_end, m.start())]
        start = max([previous_end, *heads])
        clauses.append(Clause(seed, "responsibility", m.group(), m.span(), (start, m.end()), text[start:m.end()]))
        previous_end = m.end()

    def inside_bracket(pos: int) -> bool:
        return any(b.start() <= pos < b.end() for b in brackets)

    ends = [0, *(e.end() for e in SENTENCE_END.finditer(text)), len(text)]
    for kind, pattern in (("number", NUMBER), ("deadline", DEADLINE)):
        for m in pattern.finditer(text):
            if kind == "deadline" and inside_bracket(m.start()):
                continue  # a task's own deadline: part of its responsibility clause
            start = max(e for e in ends if e <= m.start())
            end = min(e for e in ends if e >= m.end())
            clauses.append(Clause(seed, kind, m.group(), m.span(), (start, end), text[start:end]))
    return sorted(clauses, key=lambda c: (c.mark_span, c.kind))


def _occurrences(document: str, quote: str) -> list[tuple[int, int]]:
    folded = fold(quote)
    spans, at = [], document.find(folded)
    while folded and at >= 0:
        spans.append((at, at + len(folded)))
        at = document.find(folded, at + 1)
    return spans


def sets_of(config: Config, seed: str) -> list[TargetSet]:
    return [s for s in config.target_sets if seed in s.source.seeds]


def uncovered(config: Config, seed: str, policies_dir: Path = POLICIES_DIR) -> list[Clause]:
    """The clauses of ``seed`` that no entry of the registry covers or sets aside."""
    document = fold((policies_dir / seed).read_text(encoding="utf-8"))
    quoted: list[tuple[int, int]] = []
    tasks: list[tuple[int, int]] = []
    for tset in sets_of(config, seed):
        for target in tset.targets:
            for _, text in _quotes(target):
                quoted += _occurrences(document, text)
            if isinstance(target, MilestoneTarget):
                tasks += _occurrences(document, target.clause)
        for aside in tset.set_aside:
            if (aside.seed or tset.source.seed) == seed:
                quoted += _occurrences(document, aside.clause)

    def spanned(span: tuple[int, int], by: list[tuple[int, int]]) -> bool:
        return any(s <= span[0] and span[1] <= e for s, e in by)

    missing = []
    for clause in document_clauses(seed, document):
        if spanned(clause.mark_span, quoted):
            continue
        if clause.kind == "responsibility" and any(clause.span[0] <= s and e <= clause.span[1] for s, e in tasks):
            continue
        missing.append(clause)
    return missing


def task_paragraph(config: Config, target: MilestoneTarget, tset: TargetSet,
                   policies_dir: Path = POLICIES_DIR) -> Clause | None:
    """The responsibility clause (task paragraph) of the set's seed document that quotes the task."""
    if not tset.source.seed:
        return None
    document = fold((policies_dir / tset.source.seed).read_text(encoding="utf-8"))
    spans = _occurrences(document, target.clause)
    for clause in document_clauses(tset.source.seed, document):
        if clause.kind == "responsibility" and any(clause.span[0] <= s and e <= clause.span[1] for s, e in spans):
            return clause
    return None
