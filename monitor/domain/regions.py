"""The region registry: one home for region codes, names and the tree they form.

Codes are GB/T 2260 six-digit codes built from the National Bureau of Statistics division lists
in ``data/reference/divisions`` (统计用区划代码, as of 2022-10-31): province ``14`` → ``140000``,
city ``1405`` → ``140500``, county ``140502``. A few areas the product monitors have no code of
their own; they get the documented codes in ``SPECIAL_REGIONS``.

``RegionRegistry.resolve`` turns what people write in a spreadsheet (晋城, 晋城市, 山西晋城,
140500, 1405) into a code. It never guesses: a name shared by several regions raises
``AmbiguousRegionError`` listing them, and the caller narrows it with ``within``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Literal

from monitor import REFERENCE_DIR
from monitor.errors import (
    AmbiguousRegionError,
    LoadError,
    RegionError,
    UnknownRegionError,
)

Level = Literal["country", "province", "city", "county", "zone"]

COUNTRY_CODE = "100000"

# City-level rows of the NBS lists that group what is left over rather than name a place:
# the urban districts of a municipality (北京市 › 市辖区), Chongqing's counties (重庆市 › 县) and
# county-level units governed directly by a province (河南省 › 省直辖县级行政区划). They stay in
# the tree, so counties keep a parent, but their bare name only resolves inside a ``within``.
GROUPING_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@dataclass(frozen=True)
class Region:
    """One region: a node of the tree 全国 › province › city › county (or a zone under a province)."""

    code: str  # six digits
    name: str  # as officially written: 晋城市
    level: Level
    parent: str | None  # None only for 100000 全国
    short_name: str  # without the administrative suffix: 晋城
    # The region whose territory this one covers, when it has no statistics of its own
    # (杨凌示范区 → 杨陵区 610403); population and similar figures are looked up through it.
    territory: str | None = None
    # The name with its parents' names: 山西省晋城市城区. Left empty, the registry fills it in.
    full_name: str = field(default="", compare=False)

    @property
    def is_grouping(self) -> bool:
        """True for the city-level 市辖区 / 县 / 省直辖县级行政区划 rows (see GROUPING_NAMES)."""
        return self.level == "city" and self.name in GROUPING_NAMES


@dataclass(frozen=True)
class SpecialRegion:
    region: Region
    aliases: tuple[str, ...] = ()
    # The NBS statistical code listed for the same area, whose name this region takes over.
    nbs_code: str | None = None


# Areas without a GB/T 2260 code of their own. None of these codes can collide with a real one:
# GB/T 2260 province codes run from 11 to 82, so 10xxxx is never assigned; within a province,
# city codes 01–70 name prefectures and 90 groups directly-governed counties, and 99 is never
# assigned (the NBS lists have no x99xxx row), so the x99900 codes below are free.
SPECIAL_REGIONS: dict[str, SpecialRegion] = {
    # China as a whole: the parent of every province. Published national figures use it too
    # (data/reference/published_figures.csv).
    "100000": SpecialRegion(
        Region("100000", "全国", "country", None, "全国", full_name="全国"),
        aliases=("中国", "中华人民共和国"),
    ),
    # 杨凌农业高新技术产业示范区 is a national agricultural zone governed by Shaanxi province.
    # Its territory is 杨陵区 (610403, a county of 咸阳市), which stays in the tree as a county;
    # statistics published for 杨凌 are 杨陵区's, hence ``territory``.
    "619900": SpecialRegion(
        Region("619900", "杨凌示范区", "zone", "610000", "杨凌", territory="610403", full_name="陕西省杨凌示范区"),
        aliases=("杨凌农业高新技术产业示范区",),
    ),
    # 山西转型综合改革示范区 (综改区) spans parts of 太原市 and 晋中市 and reports to the province,
    # so it has no territory of its own among the counties. The NBS lists carry it as a
    # statistical unit under 太原市 (140171, an NBS-only code like every x7x county code); that
    # row is kept so the code stays valid, but the zone's names resolve here: one name, one region.
    "149900": SpecialRegion(
        Region("149900", "山西转型综合改革示范区", "zone", "140000", "山西综改示范区",
               full_name="山西转型综合改革示范区"),
        aliases=("综改示范区", "综改区"),
        nbs_code="140171",
    ),
}

# --- short names ---------------------------------------------------------------------------

# The 55 minority nationalities as they appear in autonomous-area names. One-character names are
# only stripped with 族 (白族, 回族), so 白城 or 水城 are never touched.
_ETHNIC_MULTI = [
    "蒙古", "维吾尔", "布依", "朝鲜", "土家", "哈尼", "哈萨克", "傈僳", "高山", "拉祜", "东乡",
    "纳西", "景颇", "柯尔克孜", "达斡尔", "仫佬", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌",
    "普米", "塔吉克", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "塔塔尔", "独龙",
    "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
]
_ETHNIC_SINGLE = "回藏苗彝壮满侗瑶白傣黎佤畲水土羌怒京"
_ETHNIC_SUFFIX = re.compile(
    "(?:(?:" + "|".join(sorted(_ETHNIC_MULTI, key=len, reverse=True)) + ")族?"
    + "|[" + _ETHNIC_SINGLE + "]族|各族)$"
)
_AUTONOMOUS_SUFFIXES = ("自治区", "自治州", "自治县", "自治旗")
# Longest first so 林区 wins over 区. 地区/盟 are prefecture-level; 林区/特区/新区/矿区 county-level.
_ADMIN_SUFFIXES = ("特别行政区", "地区", "林区", "特区", "新区", "矿区", "省", "市", "区", "县", "旗", "盟")


def short_name_of(name: str) -> str:
    """The name without its administrative suffix: 晋城市 → 晋城, 延边朝鲜族自治州 → 延边.

    A short name is never a single character (城区 stays 城区, 矿区 stays 矿区).
    """
    stem = name
    for suffix in (*_AUTONOMOUS_SUFFIXES, *_ADMIN_SUFFIXES):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            break
    if stem == name or not (stem.endswith("族") or name.endswith(_AUTONOMOUS_SUFFIXES)):
        return stem
    # Autonomous areas and ethnic districts name their nationalities: 管城回族区 → 管城,
    # 积石山保安族东乡族撒拉族自治县 → 积石山. A name that is only a nationality keeps it: 东乡族自治县 → 东乡.
    while (m := _ETHNIC_SUFFIX.search(stem)) and m.start() >= 2:
        stem = stem[: m.start()]
    if _ETHNIC_SUFFIX.fullmatch(stem) and stem.endswith("族") and len(stem) > 2:
        stem = stem[:-1]
    return stem


# --- codes and text ------------------------------------------------------------------------

_CODE_RE = re.compile(r"\d{2}|\d{4}|\d{6}|\d{6}0{6}|\d{6}0{3}")


def normalize_code(text: str) -> str | None:
    """The six-digit form of a code as written, or None when ``text`` is not written as a code.

    Accepts NBS 2- and 4-digit codes (14, 1405) and the 9/12-digit statistical codes when their
    tail is zeros (140500000000). Whether the code exists is not checked here.
    """
    digits = _clean(text)
    if not _CODE_RE.fullmatch(digits):
        return None
    return digits[:6].ljust(6, "0")


def _clean(text: str) -> str:
    """NFKC (full-width digits and spaces to ASCII), then drop every kind of whitespace."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


_LEVEL_RANK = {"country": 0, "province": 1, "city": 2, "zone": 2, "county": 3}
_MAX_SUGGESTIONS = 5
_SUGGESTION_CUTOFF = 0.5
_MEMO_SIZE = 200_000
# No region's name with all its parents is this long (the longest is under 30 characters): a
# longer text is unknown without a search, so a hostile cell costs one length check.
MAX_NAME_CHARS = 64


class RegionRegistry:
    """Every known region, indexed by code and by the names people write.

    Build it with ``load_regions()``. Name lookups go through dictionaries built once here, so
    resolving many names costs a few dictionary look-ups each.
    """

    def __init__(
        self,
        regions: Iterable[Region],
        aliases: Mapping[str, Iterable[str]] | None = None,
        shadowed: Collection[str] = (),
    ):
        """``aliases`` maps a code to extra accepted names; ``shadowed`` lists codes whose name and
        short name are left out of the name index because another region owns them (see
        SPECIAL_REGIONS); they stay reachable by code and by full name."""
        by_code = {r.code: r for r in regions}
        for r in by_code.values():
            if r.parent is not None and r.parent not in by_code:
                raise RegionError(f"地区「{r.name}」（{r.code}）的上级 {r.parent} 不在地区库中")
        self._ancestors: dict[str, tuple[str, ...]] = {}
        for code, region in by_code.items():
            chain: list[str] = []
            parent = region.parent
            while parent is not None:
                if parent in chain or parent == code:
                    raise RegionError(f"地区 {code} 的上级关系成环：{' → '.join(chain)}")
                chain.append(parent)
                parent = by_code[parent].parent
            self._ancestors[code] = tuple(chain)
        self._regions: dict[str, Region] = {}
        for code in sorted(by_code):
            r = by_code[code]
            if not r.full_name:
                r = replace(r, full_name=self._label(r, by_code))
            self._regions[code] = r

        self._children: dict[str, list[str]] = {code: [] for code in self._regions}
        for r in self._regions.values():
            if r.parent is not None:
                self._children[r.parent].append(r.code)  # codes arrive sorted

        self._aliases = {code: tuple(names) for code, names in (aliases or {}).items()}
        self._by_name: dict[str, list[str]] = {}  # full names and aliases
        self._by_short: dict[str, list[str]] = {}
        self._by_label: dict[str, list[str]] = {}
        self._groupings: dict[str, list[str]] = {}  # bare grouping names, only used with ``within``
        for r in self._regions.values():
            _add(self._by_label, r.full_name, r.code)
            if r.is_grouping:
                _add(self._groupings, r.name, r.code)
            elif r.code not in shadowed:
                _add(self._by_name, r.name, r.code)
                _add(self._by_short, r.short_name, r.code)
        for code, names in self._aliases.items():
            for name in names:
                _add(self._by_name, _clean(name), code)
        # Uploads repeat the same few names thousands of times: remember answers (and, since
        # suggestions cost a scan of every name, the suggestions for names that failed).
        self._memo: dict[tuple[str, str | None], str] = {}
        self._suggestions: dict[tuple[str, str | None], list[str]] = {}
        # parent + child names are split only where a known name can end
        self._longest_name = max((len(n) for index in (self._by_name, self._by_short) for n in index), default=0)
        self._suggestion_pool = sorted(
            {(name, code) for index in (self._by_name, self._by_short) for name, codes in index.items()
             for code in codes}
        )

    def _label(self, region: Region, by_code: Mapping[str, Region]) -> str:
        if region.level == "country":
            return region.name
        # Grouping ancestors (市辖区) add nothing to a county's label: 北京市东城区.
        parts = [
            by_code[c].name
            for c in reversed(self._ancestors[region.code])
            if by_code[c].level != "country" and not by_code[c].is_grouping
        ]
        return "".join(parts) + region.name

    # --- mapping protocol --------------------------------------------------------------------

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._regions

    def __getitem__(self, code: str) -> Region:
        return self._regions[code]

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions.values())

    def __len__(self) -> int:
        return len(self._regions)

    def get(self, code: str, default: Region | None = None) -> Region | None:
        return self._regions.get(code, default)

    # --- the tree ----------------------------------------------------------------------------

    def children(self, code: str) -> list[Region]:
        """The regions directly below ``code``, sorted by code.

        For 全国 the provinces; for a province its cities (including 市辖区-style groupings) and
        its zones; for a city its counties.
        """
        self[code]
        return [self._regions[c] for c in self._children[code]]

    def ancestors(self, code: str) -> list[Region]:
        """Parent first, up to 全国: 140502 → [140500, 140000, 100000]."""
        self[code]
        return [self._regions[c] for c in self._ancestors[code]]

    def descendants(self, code: str) -> list[Region]:
        """Every region below ``code`` (not ``code`` itself), sorted by code."""
        self[code]
        found: list[str] = []
        stack = [code]
        while stack:
            kids = self._children[stack.pop()]
            found.extend(kids)
            stack.extend(kids)
        return [self._regions[c] for c in sorted(found)]

    def is_within(self, code: str, ancestor_code: str) -> bool:
        """True when ``code`` is ``ancestor_code`` or lies below it."""
        self[code]
        return code == ancestor_code or ancestor_code in self._ancestors[code]

    def cities_of(self, province_code: str, include_groupings: bool = True) -> list[Region]:
        """The city-level regions and zones of a province, sorted by code.

        Grouping rows (北京市市辖区, 河南省省直辖县级行政区划) are city-level and included unless
        ``include_groupings`` is False.
        """
        if self[province_code].level != "province":
            raise RegionError(f"{self[province_code].full_name}（{province_code}）不是省级地区")
        return [
            r for r in self.children(province_code)
            if r.level in ("city", "zone") and (include_groupings or not r.is_grouping)
        ]

    # --- names -------------------------------------------------------------------------------

    def names_for(self, code: str) -> list[str]:
        """The names under which ``code`` can be written: full name, short name, aliases and the
        name with its parents. A name shared with other regions needs ``within`` to resolve."""
        r = self[code]
        names = [r.name] if r.is_grouping else [r.name, r.short_name, *self._aliases.get(code, ())]
        return list(dict.fromkeys([*names, r.full_name]))

    def resolve(self, text: str, within: str | None = None, *, suggest: bool = True) -> str:
        """The six-digit code for a region written as a code or a name.

        Accepted: a code (140500, or the NBS forms 14 / 1405), a full name (晋城市), a short
        name (晋城), a name with its parents (山西省晋城市, 山西晋城); whitespace, including
        full-width spaces, is ignored. Names are matched exactly first, then by short name, then
        as parent + child; the first step that finds anything decides. ``within`` restricts the
        candidates to that region and everything below it (城区 within 140500 → 140502).

        Raises AmbiguousRegionError when several regions match (吉林: the province and the city),
        UnknownRegionError (with up to five suggestions, unless ``suggest`` is False: a file of
        thousands of unknown names asks for the first few only) when none does. A text longer than
        MAX_NAME_CHARS is unknown at once.
        """
        if within is not None and within not in self._regions:
            raise UnknownRegionError(str(within))
        key = (text, within)
        code = self._memo.get(key)
        if code is None:
            code = self._resolve(text, within, suggest)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = code
        return code

    def _resolve(self, text: str, within: str | None, suggest: bool = True) -> str:
        if len(text) > MAX_NAME_CHARS * 4:  # before cleaning: NFKC of a huge cell is work too
            raise UnknownRegionError(str(text))
        cleaned = _clean(text)
        if not cleaned or len(cleaned) > MAX_NAME_CHARS:
            raise UnknownRegionError(cleaned or str(text))
        code = normalize_code(cleaned)
        if code is not None:
            if code not in self._regions:
                raise UnknownRegionError(cleaned)
            if within is not None and not self.is_within(code, within):
                raise RegionError(
                    f"「{cleaned}」是{self._regions[code].full_name}，不在{self._regions[within].full_name}范围内"
                )
            return code

        for step in (self._exact, self._short, self._qualified):
            candidates = step(cleaned, within)
            if len(candidates) == 1:
                return candidates[0]
            if candidates:
                raise AmbiguousRegionError(cleaned, [(c, self._regions[c].full_name) for c in candidates])

        if within is None and cleaned in self._groupings:
            # 市辖区 alone does not say which city; the caller must give ``within``.
            codes = self._groupings[cleaned]
            labels = [(c, self._regions[c].full_name) for c in codes]
            if len(codes) > 1:
                raise AmbiguousRegionError(cleaned, labels)
            raise UnknownRegionError(cleaned, [label for _, label in labels])
        if not suggest:
            raise UnknownRegionError(cleaned)
        suggestions = self._suggestions.get((cleaned, within))
        if suggestions is None:
            suggestions = self._suggest(cleaned, within)
            if len(self._suggestions) >= _MEMO_SIZE:
                self._suggestions.clear()
            self._suggestions[(cleaned, within)] = suggestions
        raise UnknownRegionError(cleaned, list(suggestions))

    def _in_scope(self, codes: Iterable[str], within: str | None) -> list[str]:
        if within is None:
            return sorted(set(codes))
        return sorted({c for c in codes if c == within or within in self._ancestors[c]})

    def _exact(self, text: str, within: str | None) -> list[str]:
        codes = [*self._by_name.get(text, ()), *self._by_label.get(text, ())]
        if within is not None:
            codes += self._groupings.get(text, ())
        return self._in_scope(codes, within)

    def _short(self, text: str, within: str | None) -> list[str]:
        return self._in_scope(self._by_short.get(text, ()), within)

    def _qualified(self, text: str, within: str | None) -> list[str]:
        """Parent name + child name (山西晋城, 晋城市城区, 山西省晋城市城区)."""
        found: set[str] = set()
        for cut in range(2, min(len(text), self._longest_name + 1)):
            prefix, rest = text[:cut], text[cut:]
            parents = {*self._by_name.get(prefix, ()), *self._by_short.get(prefix, ())}
            for parent in parents:
                if not self._children[parent]:
                    continue
                for step in (self._exact, self._short, self._qualified):
                    below = [c for c in step(rest, parent) if c != parent]
                    if below:
                        found.update(below)
                        break
        return self._in_scope(found, within)

    def _suggest(self, text: str, within: str | None) -> list[str]:
        """Up to five full names close to ``text`` (difflib ratio), best first."""
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(text)
        scored: dict[str, tuple] = {}
        for name, code in self._suggestion_pool:
            if within is not None and not (code == within or within in self._ancestors[code]):
                continue
            matcher.set_seq1(name)
            if matcher.real_quick_ratio() < _SUGGESTION_CUTOFF or matcher.quick_ratio() < _SUGGESTION_CUTOFF:
                continue
            ratio = matcher.ratio()
            if ratio < _SUGGESTION_CUTOFF:
                continue
            # Ties are common (晋阳市 is as close to 沈阳市 as to 晋城市): a shared beginning counts
            # for more in Chinese place names, then higher levels, then the code.
            prefix = len(_common_prefix(name, text))
            rank = (-ratio, -prefix, _LEVEL_RANK[self._regions[code].level], code)
            if code not in scored or rank < scored[code]:
                scored[code] = rank
        best = sorted(scored, key=scored.__getitem__)[:_MAX_SUGGESTIONS]
        return [self._regions[c].full_name for c in best]


def _add(index: dict[str, list[str]], name: str, code: str) -> None:
    codes = index.setdefault(name, [])
    if code not in codes:
        codes.append(code)


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


# --- loading -------------------------------------------------------------------------------

def load_regions(reference_dir: Path = REFERENCE_DIR) -> RegionRegistry:
    """The registry built from ``reference_dir/divisions`` plus SPECIAL_REGIONS.

    The default directory is read once per process.
    """
    if Path(reference_dir) == REFERENCE_DIR:
        return _load_default()
    return _load(Path(reference_dir))


@lru_cache(maxsize=1)
def _load_default() -> RegionRegistry:
    return _load(REFERENCE_DIR)


def _load(reference_dir: Path) -> RegionRegistry:
    divisions = reference_dir / "divisions"
    problems: list[str] = []
    regions: list[Region] = [s.region for s in SPECIAL_REGIONS.values()]

    for _row_no, row in _read(divisions / "provinces.csv", ("code", "name"), 2, problems):
        regions.append(_division(row["code"] + "0000", row["name"], "province", COUNTRY_CODE))
    for row_no, row in _read(divisions / "cities.csv", ("code", "name", "provinceCode"), 4, problems):
        if not row["code"].startswith(row["provinceCode"]):
            problems.append(f"cities.csv 第 {row_no} 行：代码 {row['code']} 与省代码 {row['provinceCode']} 不符")
        regions.append(_division(row["code"] + "00", row["name"], "city", row["provinceCode"] + "0000"))
    for row_no, row in _read(divisions / "areas.csv", ("code", "name", "cityCode", "provinceCode"), 6, problems):
        if not row["code"].startswith(row["cityCode"]):
            problems.append(f"areas.csv 第 {row_no} 行：代码 {row['code']} 与市代码 {row['cityCode']} 不符")
        if row["code"] == row["cityCode"] + "00":
            # Cities without counties (东莞市 441900, 中山市 442000, 儋州市 460400) are listed again
            # at county level under their own code: the same region, already known as a city.
            continue
        regions.append(_division(row["code"], row["name"], "county", row["cityCode"] + "00"))

    seen: dict[str, Region] = {}
    for r in regions:
        if r.code in seen:
            problems.append(f"代码 {r.code} 重复：{seen[r.code].name}、{r.name}")
        seen[r.code] = r
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise LoadError(f"区划文件 {divisions} 有 {len(problems)} 处错误：\n{listed}", problems)
    try:
        return RegionRegistry(
            seen.values(),
            aliases={code: s.aliases for code, s in SPECIAL_REGIONS.items()},
            shadowed={s.nbs_code for s in SPECIAL_REGIONS.values() if s.nbs_code},
        )
    except RegionError as exc:
        raise LoadError(f"区划文件 {divisions} 无法组成地区树：{exc}") from exc


def _division(code: str, name: str, level: Level, parent: str) -> Region:
    # NBS-only county codes (x7x: development zones, 管理区) are not GB/T 2260 divisions and
    # their names carry no administrative suffix to strip (山西大同经济开发区).
    if (level == "city" and name in GROUPING_NAMES) or (level == "county" and code[4] == "7"):
        short = name
    else:
        short = short_name_of(name)
    return Region(code, name, level, parent, short)


def _read(path: Path, columns: tuple[str, ...], digits: int, problems: list[str]) -> Iterator[tuple[int, dict]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise LoadError(f"无法读取区划文件 {path}：{exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise LoadError(f"区划文件 {path.name} 缺少列：{'、'.join(missing)}")
        for row_no, row in enumerate(reader, start=2):
            row = {c: (row[c] or "").strip() for c in columns}
            if not (row["code"].isdigit() and len(row["code"]) == digits) or not row["name"]:
                problems.append(f"{path.name} 第 {row_no} 行：代码应为 {digits} 位数字且名称不能为空（{row}）")
                continue
            yield row_no, row
