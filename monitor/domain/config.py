"""indicators.yaml: the contract for indicators and policy targets.

The file loads into strict pydantic models (unknown keys are errors, nothing defaults silently)
and is then checked against the region registry, the indicator list and the policy documents
themselves: every quoted clause must occur in the seed document it cites.
Every problem is collected and reported with the target set, the target, the field and the
YAML line, so an editor can fix them all in one pass.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor import DEFAULT_CONFIG, POLICIES_DIR
from monitor.domain.periods import parse_month
from monitor.domain.sources import publisher_of
from monitor.errors import ConfigError, ConfigProblem

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


# --------------------------------------------------------------------------- indicators


class RatioFormula(StrictModel):
    """numerator ÷ denominator × scale. ``denominator`` is another indicator id or ``population``
    (常住人口 of the region, the latest year at or before the period)."""

    numerator: str
    denominator: str
    scale: float = Field(gt=0)

    @property
    def parts(self) -> list[str]:
        return [self.numerator] + ([] if self.denominator == "population" else [self.denominator])


class SumFormula(StrictModel):
    """The sum of other indicators in the same unit (e.g. all kinds of geographic indication)."""

    sum: list[str] = Field(min_length=2)

    @property
    def parts(self) -> list[str]:
        return list(self.sum)


def _formula_kind(value: Any) -> str:
    """A mapping with ``sum`` is a SumFormula, anything else a ratio: deciding up front means a
    mistake is reported once, against the formula meant, not once per possible formula."""
    if isinstance(value, dict):
        return "sum_formula" if "sum" in value else "ratio_formula"
    return "sum_formula" if isinstance(value, SumFormula) else "ratio_formula"


Formula = Annotated[
    Annotated[RatioFormula, Tag("ratio_formula")] | Annotated[SumFormula, Tag("sum_formula")],
    Discriminator(_formula_kind),
]


class Indicator(StrictModel):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str
    aliases: list[str]
    unit: str
    description: str = Field(min_length=4, description="口径: what is counted and how")
    kind: Literal["stock", "flow", "derived"]
    frequency: Literal["monthly", "annual"]
    direction: Literal["higher", "lower"]
    aggregation: Literal["sum", "recompute", "none"]
    decimals: int = Field(ge=0, le=4)
    formula: Formula | None = None
    outlier_threshold: float | None = Field(
        default=None, gt=0, description="month-on-month relative change that triggers a warning"
    )
    plausible_max: float | None = Field(
        default=None, gt=0, allow_inf_nan=False,
        description="the largest value a file may give (stored indicators); a larger one is an error",
    )

    @model_validator(mode="after")
    def _formula_matches_kind(self) -> Indicator:
        if self.kind == "derived" and self.formula is None:
            raise ValueError("派生指标（kind: derived）必须给出 formula")
        if self.kind != "derived" and self.plausible_max is None:
            raise ValueError("非派生指标必须给出 plausible_max（一个地区一个月可能的最大值，超过即视为错误）")
        if self.kind == "derived" and self.plausible_max is not None:
            raise ValueError("派生指标由分项计算、不导入，不设 plausible_max")
        if self.unit == "%" and self.plausible_max is not None and self.plausible_max > 100:
            raise ValueError(f"单位为 % 的指标 plausible_max 不能超过 100（现为 {self.plausible_max:g}）")
        if self.kind != "derived" and self.formula is not None:
            raise ValueError("只有派生指标（kind: derived）才能有 formula")
        if isinstance(self.formula, RatioFormula) and self.aggregation != "recompute":
            raise ValueError("比值类派生指标的 aggregation 必须是 recompute（省级值由分子分母重算）")
        return self

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]


# --------------------------------------------------------------------------- targets


class Source(StrictModel):
    """Where a target set comes from: a seed document under data/policies/ (its clauses are quoted
    and checked word for word) or a URL (its clauses are paraphrases, shown as 转述)."""

    seed: str | None = None
    copies: list[str] = Field(
        default_factory=list, description="other files under data/policies/ holding the same document"
    )
    url: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Source:
        if not self.seed and not self.url:
            raise ValueError("来源必须给出 seed（data/policies/ 下的文件名）或 url")
        if self.url and not re.match(r"^https?://", self.url):
            raise ValueError(f"url「{self.url}」应以 http:// 或 https:// 开头")
        if self.copies and not self.seed:
            raise ValueError("copies 只能与 seed 一起使用（同一文件在 data/policies/ 下的其他副本）")
        return self

    @property
    def seeds(self) -> list[str]:
        """Every file under data/policies/ that holds this document, the seed first."""
        return [self.seed, *self.copies] if self.seed else []


class Baseline(StrictModel):
    value: float
    period: Month
    clause: str | None = Field(default=None, description="quoted text the baseline comes from")


class ReadingSwitch(StrictModel):
    """How the alternative reading of a target is evaluated: the fields that change. Only what the
    data allows: another indicator that exists, another type or period over the same data."""

    indicator: str | None = None
    type: Literal["at_least", "at_most", "increase", "growth", "steady_increase"] | None = None
    start: Month | None = None
    value: float | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ReadingSwitch:
        if not self.model_dump(exclude_none=True):
            raise ValueError("switch 至少要改变一个字段（indicator、type、start 或 value）")
        return self


class Interpretation(StrictModel):
    """A clause that can be read two ways: the reading the registry uses, the other one, and,
    where the data allows, how to evaluate the other one (an administrator chooses on 总览)."""

    reading: str = Field(min_length=4, description="the reading the target as written follows")
    alternative: str = Field(min_length=4, description="the other reading an office could defend")
    alternative_clause: str | None = Field(
        default=None, description="quoted text that supports the alternative (checked like clause)"
    )
    switch: ReadingSwitch | None = Field(
        default=None, description="the alternative as field changes; absent when the data cannot show it"
    )


class _TargetBase(StrictModel):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    clause: str = Field(min_length=4, description="the sentence of the document, quoted")
    note: str | None = None
    interpretation: Interpretation | None = None


class _IndicatorTarget(_TargetBase):
    indicator: str
    region: str | None = Field(default=None, description="defaults to the target set's region")
    start: Month = Field(description="first month of the period the document covers")
    deadline: Month
    baseline: Baseline | None = None
    history: list[Baseline] = Field(
        default_factory=list, description="earlier values the document gives, shown for context"
    )
    derived: str | None = Field(
        default=None,
        description="set when the document gives no target here and the registry tracks a direction "
        "of its own: why, and what the document does say (shown instead of a target)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> _IndicatorTarget:
        if self.deadline < self.start:
            raise ValueError(f"deadline {self.deadline} 早于 start {self.start}")
        if self.baseline and self.baseline.period > self.deadline:
            raise ValueError("baseline.period 不能晚于 deadline")
        return self


class LevelTarget(_IndicatorTarget):
    """达到 X: the level is at or above (at_least) or at or below (at_most) ``value`` by the deadline."""

    type: Literal["at_least", "at_most"]
    value: float


class IncreaseTarget(_IndicatorTarget):
    """新增 X: the increase of a stock, or the sum of a flow, between start and deadline."""

    type: Literal["increase"]
    value: float = Field(gt=0)


class GrowthTarget(_IndicatorTarget):
    """增长 X% 以上: the year of the deadline against the year before, in percent."""

    type: Literal["growth"]
    value: float = Field(description="percent, e.g. 10 for 增长10%以上")


class ReferenceTarget(_IndicatorTarget):
    """超过全国平均水平: above the value of a reference region in the same period."""

    type: Literal["above_reference"]
    reference_region: str


class SteadyTarget(_IndicatorTarget):
    """稳步提升: higher at the deadline than at the start, with no number given."""

    type: Literal["steady_increase"]


class MilestoneTarget(_TargetBase):
    """A task to be done by a deadline; ``deadline: null`` with ``ongoing: true`` is 持续推进."""

    type: Literal["milestone"]
    number: int | None = Field(default=None, ge=1)
    title: str
    region: str | None = None
    lead: list[str] = Field(min_length=1, description="牵头/负责 departments")
    cooperating: list[str]
    national: list[str] = Field(default_factory=list, description="national-level responsible offices")
    deadline: date | None
    ongoing: bool

    @model_validator(mode="after")
    def _deadline_or_ongoing(self) -> MilestoneTarget:
        if self.ongoing and self.deadline is not None:
            raise ValueError("持续推进（ongoing: true）的任务不应有 deadline")
        if not self.ongoing and self.deadline is None:
            raise ValueError("没有 deadline 的任务必须写 ongoing: true（持续推进）")
        return self


Target = Annotated[
    LevelTarget | IncreaseTarget | GrowthTarget | ReferenceTarget | SteadyTarget | MilestoneTarget,
    Field(discriminator="type"),
]
IndicatorTarget = LevelTarget | IncreaseTarget | GrowthTarget | ReferenceTarget | SteadyTarget

TARGET_TYPE_LABELS = {
    "at_least": "达到（不低于）",
    "at_most": "不高于",
    "increase": "新增",
    "growth": "同比增长",
    "above_reference": "超过参照地区",
    "steady_increase": "稳步提升",
    "milestone": "任务节点",
}


class SetAside(StrictModel):
    """A clause of the document that carries a number, a deadline or a responsible unit and is
    deliberately not a target or task here, with the reason (tests/test_registry_coverage.py)."""

    clause: str = Field(min_length=2, description="quoted from the document")
    reason: str = Field(min_length=4)
    seed: str | None = Field(default=None, description="which file, when not the set's seed (a copy)")
    see: list[str] = Field(default_factory=list, description="targets of this set that cover it instead")


class TargetSet(StrictModel):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    short_title: str
    issuer: str
    doc_number: str | None = Field(description="文号; null only when the document has none")
    date: date | None
    source: Source
    region: str = Field(description="the region the document governs; targets default to it")
    note: str | None = None
    targets: list[Target] = Field(min_length=1)
    set_aside: list[SetAside] = Field(default_factory=list)

    @field_validator("region")
    @classmethod
    def _six_digits(cls, v: str) -> str:
        if not re.fullmatch(r"\d{6}", v):
            raise ValueError(f"地区代码「{v}」应为六位数字")
        return v

    def region_of(self, target: Target) -> str:
        return target.region or self.region

    @property
    def verbatim(self) -> bool:
        """Whether the clauses are quotations checked against a document in data/policies/
        (otherwise they paraphrase the page at ``source.url``)."""
        return self.source.seed is not None

    @property
    def document_label(self) -> str:
        """「《title》（文号，issuer，date）」: the document as a reader cites it."""
        parts = [self.doc_number or "无文号", self.issuer]
        parts.append(f"{self.date:%Y年%-m月%-d日}" if self.date else "印发日期不详")
        return f"《{self.title}》（{'，'.join(parts)}）"

    def quote(self, text: str) -> str:
        """A clause as it may be shown: 「…」 only when it is a checked quotation."""
        if self.verbatim:
            return f"原文：「{text}」"
        return f"转述：{text}（据{self.source_publisher}刊载的文本，非原文）"

    @property
    def source_publisher(self) -> str | None:
        """Who published the page a paraphrased set was taken from (「澳门月刊」), by name: a reader
        is never shown the address (monitor/domain/sources.py)."""
        return publisher_of(self.source.url) if self.source.url else None


MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", description="MM-DD")]
DueRule = Annotated[int, Field(ge=1, le=28)] | MonthDay


def due_on(rule: int | str, month: str) -> date:
    """The day by which ``month``'s figures are due under ``rule``: a day of the month (1–28) is
    that day of the following month (monthly figures); ``MM-DD`` is that date of the following
    year (annual figures, which are recorded in December of their year)."""
    month = parse_month(month)
    year, number = int(month[:4]), int(month[5:7])
    if isinstance(rule, str) and not rule.isdigit():
        return date(year + 1, int(rule[:2]), int(rule[3:5]))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return date(year, number, int(rule))


class DueDays(StrictModel):
    """When figures are due, by frequency."""

    monthly: Annotated[int, Field(ge=1, le=28, description="day of the following month")]
    annual: MonthDay = Field(description="MM-DD of the following year")

    @field_validator("annual")
    @classmethod
    def _real_day(cls, value: str) -> str:
        try:
            date(2001, int(value[:2]), int(value[3:5]))  # a year without 29 February
        except ValueError:
            raise ValueError(f"「{value}」不是每年都有的日期（应为 MM-DD，如 03-31）") from None
        return value


class Reporting(StrictModel):
    """The reporting calendar: when each indicator's figures for a period are due (``due`` by
    frequency, ``indicator_due`` for exceptions), and when a period closes: ``close_after_days``
    after its due date; a later change to its values is a 更正 (monitor/store/writer.py). None:
    periods never close."""

    due: DueDays
    indicator_due: dict[str, DueRule] = Field(default_factory=dict,
                                              description="indicator id → due day (monthly) or MM-DD (annual)")
    close_after_days: int | None = Field(ge=0, description="days after the due date a period closes; null: never")

    def rule(self, indicator: Indicator) -> int | str:
        """The indicator's due rule: a day of the following month, or MM-DD of the following year."""
        if indicator.id in self.indicator_due:
            return self.indicator_due[indicator.id]
        return self.due.monthly if indicator.frequency == "monthly" else self.due.annual

    def due_date(self, indicator: Indicator, month: str) -> date:
        """The day by which the indicator's figures for ``month`` are due (inclusive)."""
        return due_on(self.rule(indicator), month)

    def closes_on(self, indicator: Indicator, month: str) -> date | None:
        """The day the indicator's period ``month`` closes (None: never): from that day on, a
        change to its values is a correction (``closes_on(close_after_days, due)``)."""
        return closes_on(self.close_after_days, self.due_date(indicator, month))


def closes_on(close_after_days: int | None, due: date) -> date | None:
    """The day a period due on ``due`` closes: ``close_after_days`` later (None: never)."""
    return None if close_after_days is None else due + timedelta(days=close_after_days)


# a config without a ``reporting`` block (a test's, a copy's): monthly by the 15th, annual by 31
# March, periods never close
DEFAULT_REPORTING = Reporting(due=DueDays(monthly=15, annual="03-31"), close_after_days=None)


class Config(StrictModel):
    version: Literal[1]
    reporting: Reporting = DEFAULT_REPORTING
    indicators: list[Indicator] = Field(min_length=1)
    target_sets: list[TargetSet] = Field(min_length=1)

    @cached_property
    def indicator_by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    @cached_property
    def target_set_by_id(self) -> dict[str, TargetSet]:
        return {s.id: s for s in self.target_sets}

    def indicator(self, indicator_id: str) -> Indicator:
        return self.indicator_by_id[indicator_id]

    def target_set(self, set_id: str) -> TargetSet:
        return self.target_set_by_id[set_id]

    @cached_property
    def indicator_name_index(self) -> dict[str, str]:
        """Every name and alias (and id), normalised, to its indicator id."""
        index: dict[str, str] = {}
        for ind in self.indicators:
            for name in [ind.id, *ind.names]:
                index[normalise_name(name)] = ind.id
        return index

    def resolve_indicator(self, text: str) -> str | None:
        """An indicator id, name or alias to the id, or None if unknown."""
        return self.indicator_name_index.get(normalise_name(text))

    def with_readings(self, choices: dict[str, str]) -> Config:
        """This config with the targets in ``choices`` (target id → "alternative") evaluated by
        their interpretation's alternative reading; unknown ids and other values are ignored."""
        if not any(v == "alternative" for v in choices.values()):
            return self
        sets = []
        for tset in self.target_sets:
            targets = [alternative_target(t) if choices.get(t.id) == "alternative" and _switchable(t) else t
                       for t in tset.targets]
            sets.append(tset.model_copy(update={"targets": targets}))
        return Config(version=self.version, reporting=self.reporting, indicators=self.indicators,
                      target_sets=sets)

    def base_indicators(self, indicator_id: str) -> list[str]:
        """The stored indicators a (possibly derived) indicator is computed from."""
        ind = self.indicator(indicator_id)
        if ind.formula is None:
            return [ind.id]
        return [base for part in ind.formula.parts for base in self.base_indicators(part)]


def _switchable(target) -> bool:
    return target.interpretation is not None and target.interpretation.switch is not None


_TARGET_CLASSES = {"at_least": LevelTarget, "at_most": LevelTarget, "increase": IncreaseTarget,
                   "growth": GrowthTarget, "steady_increase": SteadyTarget}


def alternative_target(target):
    """The target as its interpretation's alternative reading evaluates it (same id, clause and
    interpretation). Raises pydantic's ValidationError when the switch does not make a target."""
    data = target.model_dump() | target.interpretation.switch.model_dump(exclude_none=True)
    cls = _TARGET_CLASSES[data["type"]]
    return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields})


_NAME_NOISE = re.compile(r"[\s\u3000（）()【】\[\]<>《》:：·,，、\-—_/]")


def normalise_name(text: str) -> str:
    """Fold an indicator header for matching: no spaces or brackets, half-width, lower case."""
    folded = "".join(
        chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in str(text)
    )
    return _NAME_NOISE.sub("", folded).lower()


# --------------------------------------------------------------------------- loading


# Tags pydantic puts into an error location for the branch of a union it validated against.
_UNION_TAGS = frozenset(TARGET_TYPE_LABELS) | {"ratio_formula", "sum_formula"}


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps the composed node tree so problems can carry line numbers."""


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a pydantic error location through the YAML node tree as far as it goes."""
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                if part in _UNION_TAGS:
                    continue  # a discriminator tag such as 'at_least' has no node of its own
                return node  # a missing field: point at the mapping that lacks it
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
    return node


def _describe(data: Any, loc: tuple[Any, ...]) -> str:
    """Turn ('target_sets', 1, 'targets', 3, 'at_least', 'value') into Chinese with ids."""
    parts: list[str] = []
    cursor: Any = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if key in ("target_sets", "targets", "indicators") and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            idx = loc[i + 1]
            seq = cursor.get(key, []) if isinstance(cursor, dict) else []
            item = seq[idx] if isinstance(seq, list) and idx < len(seq) else None
            label = {"target_sets": "目标集", "targets": "目标", "indicators": "指标"}[key]
            ident = item.get("id") if isinstance(item, dict) else None
            parts.append(f"{label} {ident}" if ident else f"{label}（第 {idx + 1} 个）")
            cursor = item
            i += 2
            continue
        if isinstance(cursor, dict) and key in cursor:
            cursor = cursor[key]
            parts.append(f"字段 {key}")
        elif isinstance(key, str) and key in _UNION_TAGS:
            pass  # the discriminator branch: not a field the user wrote
        else:
            parts.append(f"字段 {key}")
            cursor = None
        i += 1
    return " › ".join(parts) if parts else "（文件顶层）"


_PYDANTIC_CN = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "string_type": "应为文本",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为映射（key: value）",
    "model_type": "应为映射（key: value）",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不对",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "date_type": "应为日期 YYYY-MM-DD",
    "union_tag_invalid": "type 取值无效",
    "union_tag_not_found": "缺少 type 字段",
    "too_short": "不能为空",
    "greater_than": "应大于下限",
    "greater_than_equal": "低于下限",
    "less_than_equal": "高于上限",
}


def _problem_from_pydantic(err: dict, data: Any, root: yaml.Node | None) -> ConfigProblem:
    loc = tuple(err["loc"])
    node = _node_at(root, loc)
    kind = err["type"]
    msg = err["msg"]
    if kind == "value_error":
        message = msg.removeprefix("Value error, ")
    else:
        label = _PYDANTIC_CN.get(kind, "取值无效")
        detail = ""
        if kind == "literal_error":
            detail = f"：{err.get('ctx', {}).get('expected', '')}"
        elif kind in ("union_tag_invalid",):
            detail = f"：{err.get('ctx', {}).get('expected_tags', '')}"
        elif kind == "string_pattern_mismatch":
            pattern = err.get("ctx", {}).get("pattern", "")
            detail = "：应为 YYYY-MM" if "\\d{4}-" in pattern else "：应为小写英文、数字和下划线"
        value = err.get("input")
        shown = "" if kind in ("missing",) or isinstance(value, (dict, list)) else f"（当前值：{value!r}）"
        message = f"{label}{detail}{shown}"
    line = node.start_mark.line + 1 if node is not None else None
    col = node.start_mark.column + 1 if node is not None else None
    return ConfigProblem(_describe(data, loc), message, line, col)


def load_config(path: Path | str | None = None, *, regions=None, policies_dir: Path | None = None) -> Config:
    """Read, validate and cross-check indicators.yaml. Raises ConfigError listing every problem.

    ``regions`` is a RegionRegistry; when given, every region code used must exist in it.
    """
    path = Path(path or DEFAULT_CONFIG)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, [ConfigProblem("文件", "找不到该文件")]) from None
    except UnicodeDecodeError as e:
        raise ConfigError(source, [ConfigProblem("文件", f"不是 UTF-8 编码：{e}")]) from None
    return parse_config(text, source=source, regions=regions, policies_dir=policies_dir)


def parse_config(text: str, *, source: str = "<text>", regions=None, policies_dir: Path | None = None) -> Config:
    try:
        root = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        # PyYAML notices an unclosed bracket or quote only where it stops making sense, often a
        # line later: say where the construct it was reading began.
        began = e.context_mark
        context = e.context or "请检查缩进、冒号和引号"
        if e.context and began is not None and (mark is None or began.line != mark.line):
            context += f"，始于第 {began.line + 1} 行第 {began.column + 1} 列"
        raise ConfigError(
            source,
            [
                ConfigProblem(
                    "YAML 语法",
                    f"{e.problem or e}（{context}）",
                    mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None,
                )
            ],
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigProblem("（文件顶层）", "应为映射，包含 version、indicators、target_sets")])
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        problems = [_problem_from_pydantic(err, data, root) for err in e.errors()]
        raise ConfigError(source, problems) from None
    problems = _cross_check(config, data, root, regions, policies_dir or POLICIES_DIR)
    if problems:
        raise ConfigError(source, problems)
    return config


def _cross_check(config: Config, data: dict, root, regions, policies_dir: Path) -> list[ConfigProblem]:
    """Checks that span objects: ids unique, references known, clauses found in their documents."""
    problems: list[ConfigProblem] = []

    def add(loc: tuple, message: str) -> None:
        node = _node_at(root, loc)
        problems.append(
            ConfigProblem(
                _describe(data, loc),
                message,
                node.start_mark.line + 1 if node is not None else None,
                node.start_mark.column + 1 if node is not None else None,
            )
        )

    ids = config.indicator_by_id
    for dup, n in Counter(i.id for i in config.indicators).items():
        if n > 1:
            add(("indicators",), f"指标 id「{dup}」重复 {n} 次")
    owner: dict[str, str] = {}
    for idx, ind in enumerate(config.indicators):
        for name in [ind.id, *ind.names]:
            key = normalise_name(name)
            if key in owner and owner[key] != ind.id:
                add(("indicators", idx, "aliases"), f"名称「{name}」同时属于指标 {owner[key]}，名称必须唯一")
            owner.setdefault(key, ind.id)
        if ind.formula:
            for ref in ind.formula.parts:
                if ref not in ids:
                    add(("indicators", idx, "formula"), f"引用了不存在的指标「{ref}」")
                elif ids[ref].kind == "derived":
                    add(("indicators", idx, "formula"), f"「{ref}」本身是派生指标，公式只能引用基础指标")
                elif isinstance(ind.formula, SumFormula) and ids[ref].unit != ind.unit:
                    add(("indicators", idx, "formula"), f"求和的指标「{ref}」单位 {ids[ref].unit} 与本指标 {ind.unit} 不同")

    for ref, rule in config.reporting.indicator_due.items():
        where = ("reporting", "indicator_due", ref)
        if ref not in ids:
            add(where, f"不存在的指标「{ref}」；可用指标见 indicators 部分")
        elif ids[ref].kind == "derived":
            add(where, f"「{ref}」是派生指标，由分项计算、不报送，不设截止日")
        elif ids[ref].frequency == "monthly" and not isinstance(rule, int):
            add(where, f"「{ref}」按月报送，截止日应为次月的日期 1–28（当前值：{rule!r}）")
        elif ids[ref].frequency == "annual" and isinstance(rule, int):
            add(where, f"「{ref}」按年报送，截止日应为次年的 MM-DD，如 \"03-31\"（当前值：{rule!r}）")

    for dup, n in Counter(s.id for s in config.target_sets).items():
        if n > 1:
            add(("target_sets",), f"目标集 id「{dup}」重复 {n} 次")
    seen_targets: dict[str, str] = {}
    for si, tset in enumerate(config.target_sets):
        if regions is not None and tset.region not in regions:
            add(("target_sets", si, "region"), f"地区代码「{tset.region}」不在地区库中")
        document = None
        documents: dict[str, str] = {}
        for ci, seed in enumerate(tset.source.seeds):
            seed_path = policies_dir / seed
            field_loc = ("seed",) if ci == 0 else ("copies", ci - 1)
            if not seed_path.is_file():
                add(("target_sets", si, "source", *field_loc), f"来源文件 data/policies/{seed} 不存在")
            else:
                documents[seed] = _fold_for_quote(seed_path.read_text(encoding="utf-8"))
        document = documents.get(tset.source.seed) if tset.source.seed else None
        own_ids = {t.id for t in tset.targets}
        for ai, aside in enumerate(tset.set_aside):
            loc = ("target_sets", si, "set_aside", ai)
            seed = aside.seed or tset.source.seed
            if seed not in tset.source.seeds:
                add((*loc, "seed"), f"「{aside.seed or '（未写）'}」不是本目标集的来源文件；应为 source 的 seed 或 copies 之一")
            elif seed in documents and _fold_for_quote(aside.clause) not in documents[seed]:
                add((*loc, "clause"), f"搁置条文「{aside.clause[:30]}…」未在来源文件 {seed} 中找到，请逐字引用原文")
            for ref in aside.see:
                if ref not in own_ids:
                    add((*loc, "see"), f"see 引用了本目标集中不存在的目标「{ref}」")
        for ti, target in enumerate(tset.targets):
            loc = ("target_sets", si, "targets", ti)
            if target.id in seen_targets:
                add((*loc, "id"), f"目标 id「{target.id}」已在目标集 {seen_targets[target.id]} 中使用，必须全局唯一")
            seen_targets.setdefault(target.id, tset.id)
            if document is not None:
                for fld, quoted in _quotes(target):
                    if _fold_for_quote(quoted) not in document:
                        add((*loc, *fld), f"引文「{quoted[:30]}…」未在来源文件 {tset.source.seed} 中找到，请逐字引用原文")
            region_fields = [("region", target.region)]
            if isinstance(target, ReferenceTarget):
                region_fields.append(("reference_region", target.reference_region))
            if regions is not None:
                for fld, code in region_fields:
                    if code is not None and code not in regions:
                        add((*loc, fld), f"地区代码「{code}」不在地区库中")
            if target.interpretation is not None and target.interpretation.switch is not None:
                if isinstance(target, MilestoneTarget):
                    add((*loc, "interpretation", "switch"), "任务节点没有可切换的评估口径，请删去 switch")
                    continue
                try:
                    alternative = alternative_target(target)
                except ValidationError as e:
                    reasons = "；".join(err["msg"].removeprefix("Value error, ") for err in e.errors())
                    add((*loc, "interpretation", "switch"), f"按 switch 改写后不是有效目标：{reasons}")
                else:
                    if target.interpretation.switch.indicator is not None and alternative.indicator not in ids:
                        add((*loc, "interpretation", "switch", "indicator"),
                            f"不存在的指标「{alternative.indicator}」；可用指标见 indicators 部分")
            if isinstance(target, MilestoneTarget):
                continue
            if target.indicator not in ids:
                add((*loc, "indicator"), f"不存在的指标「{target.indicator}」；可用指标见 indicators 部分")
                continue
            ind = ids[target.indicator]
            if isinstance(target, (IncreaseTarget, GrowthTarget)) and isinstance(ind.formula, RatioFormula):
                add((*loc, "type"), f"比值类指标「{ind.name}」不能设新增或增长率目标，请用 at_least")
    return problems


def _quotes(target) -> list[tuple[tuple, str]]:
    """Every quoted text of a target with the location of its field."""
    quotes: list[tuple[tuple, str]] = [(("clause",), target.clause)]
    baseline = getattr(target, "baseline", None)
    if baseline is not None and baseline.clause:
        quotes.append((("baseline", "clause"), baseline.clause))
    for i, past in enumerate(getattr(target, "history", [])):
        if past.clause:
            quotes.append((("history", i, "clause"), past.clause))
    if target.interpretation is not None and target.interpretation.alternative_clause:
        quotes.append((("interpretation", "alternative_clause"), target.interpretation.alternative_clause))
    return quotes


_QUOTE_NOISE = re.compile(r"[\s\u3000*#>]")
_PUNCT_FOLD = str.maketrans({"，": ",", "。": ".", "（": "(", "）": ")", "；": ";", "：": ":", "、": ","})


def _fold_for_quote(text: str) -> str:
    """Fold a quote and its document alike: copies of the documents differ in spacing, markdown and
    full/half-width punctuation, never in wording."""
    return _QUOTE_NOISE.sub("", text).translate(_PUNCT_FOLD)


def month_of(value: str | date) -> str:
    return parse_month(value)
