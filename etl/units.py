"""Units as data staff write them (件, 万件, 万元, 亿元, %) and conversion to an indicator's unit.

A unit is a multiplier prefix (万, 亿, 千, 百万 ...) on a base (件, 元, 家, %, 件/万人 ...). Two units
convert when their bases agree; 万元 → 亿元 is ×0.0001, 万件 → 件 is ×10000. Nothing is guessed
across bases: 件 and 家 never convert, and such a row is an error naming both units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import MonitorError

# longest first, so 百万 is not read as 百 + 万…
_PREFIXES: tuple[tuple[str, float], ...] = (
    ("百万", 1e6), ("千万", 1e7), ("十万", 1e5), ("万亿", 1e12),
    ("万", 1e4), ("亿", 1e8), ("千", 1e3), ("百", 1e2), ("十", 1e1),
)
# bases a prefix may stand in front of; anything else is a base of its own (e.g. "件/万人")
_BASES = frozenset({"件", "元", "家", "项", "个", "人", "户", "次", "件次", "人次", "美元"})
_SYNONYMS = {"％": "%", "百分比": "%", "百分点": "%", "pct": "%", "percent": "%", "件/万人口": "件/万人"}
UNIT_IN_BRACKETS = re.compile(r"^(?P<name>.*?)\s*[（(【\[](?:单位[:：]?)?\s*(?P<unit>[^（）()【】\[\]]{1,8})\s*[）)】\]]\s*$")


class UnitError(MonitorError, ValueError):
    """A unit that is unknown or does not convert to the indicator's unit."""


@dataclass(frozen=True)
class Unit:
    text: str
    base: str
    factor: float  # value in this unit × factor = value in the base


def clean_unit(text: str) -> str:
    s = re.sub(r"[\s\u3000]", "", str(text))
    s = s.removeprefix("单位:").removeprefix("单位：")
    return _SYNONYMS.get(s, s)


def parse_unit(text: str) -> Unit:
    s = clean_unit(text)
    if not s:
        raise UnitError("单位为空")
    if s in _BASES or "/" in s or s == "%":
        return Unit(s, s, 1.0)
    for prefix, factor in _PREFIXES:
        rest = s[len(prefix):]
        if s.startswith(prefix) and rest in _BASES:
            return Unit(s, rest, factor)
    return Unit(s, s, 1.0)


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiply a value in ``from_unit`` by this to express it in ``to_unit``."""
    a, b = parse_unit(from_unit), parse_unit(to_unit)
    if a.base != b.base:
        raise UnitError(f"单位「{a.text}」无法换算为指标单位「{b.text}」")
    return a.factor / b.factor


def is_unit(text: str) -> bool:
    """Whether a bracketed header suffix reads as a unit (so 「有效发明专利（件）」 splits, while
    「国内(不含港澳台)发明专利有效量」 does not)."""
    s = clean_unit(text)
    if not s or len(s) > 6:
        return False
    u = parse_unit(s)
    return u.base in _BASES or u.base == "%" or "/" in u.base


def split_header(header: str) -> tuple[str, str | None]:
    """「有效发明专利（件）」 -> ("有效发明专利", "件"); a header without a unit suffix -> (header, None)."""
    m = UNIT_IN_BRACKETS.match(str(header).strip())
    if m and is_unit(m.group("unit")):
        return m.group("name").strip(), clean_unit(m.group("unit"))
    return str(header).strip(), None


def units_convertible_to(unit: str) -> list[str]:
    """The units a column may be written in for an indicator in ``unit``, smallest first: 元, 千元,
    万元, 百万元, 亿元 for money; 件, 万件 for counts; the unit alone for % and per-head ratios."""
    u = parse_unit(unit)
    if u.base not in _BASES:
        return [u.text]
    prefixes = ("千", "万", "百万", "亿") if u.base.endswith("元") else ("万",)
    candidates = [u.base, *(p + u.base for p in prefixes)]
    if u.text not in candidates:
        candidates.append(u.text)
    return sorted(candidates, key=lambda t: parse_unit(t).factor)
