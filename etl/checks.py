"""Checks of staged rows against each other and against the store (warnings that need a person).

- a change from the previous month beyond the indicator's ``outlier_threshold`` (异常波动);
- a stock that falls (存量下降);
- a per-10,000 value that disagrees with count ÷ population (人均值核对);
- a totals row that disagrees with the sum of its rows (合计行);
and the notes on year-to-date flow values (「1-6月」), kept as such, and the month's own amount
derived from them.

Rows are found by their key codes (monitor/store/keys.py) and the store is read once, before these checks,
for every key they need (``wanted_keys``): a check is a few column operations over all rows, and
a Python loop only over the rows it has something to say about.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.problems import Problem
from monitor.domain.config import Config, RatioFormula
from monitor.domain.periods import add_months, format_month_cn, month_range
from monitor.domain.yeartodate import has_year_to_date, ytd_id
from monitor.store.keys import INDICATOR, MONTH, KeyCodes, StoredValues, combine, look_up, split
from monitor.views.formatting import format_value

PER_CAPITA_TOLERANCE = 0.02  # population figures of neighbouring years differ by about 1 %


def _fmt(value: float) -> str:
    return format_value(value, 4)


def wanted_keys(config: Config, staged: pd.DataFrame, keys: KeyCodes, codes: np.ndarray, *,
                per_capita: bool) -> np.ndarray:
    """Every key the checks and the diff look up in the store: the staged rows' own (the diff),
    the month before each (month on month), the numerator of each per-capita value, and the
    months before each year-to-date value."""
    wanted = []
    watched = _indicators(keys, codes, _watched(config))
    if watched.any():
        wanted.append(keys.with_part(codes[watched], MONTH, _month_before))
    ratios = _ratios(config)
    if per_capita:
        rows = _indicators(keys, codes, set(ratios))
        if rows.any():
            wanted.append(keys.with_part(codes[rows], INDICATOR, lambda i: ratios[i].formula.numerator))
    ytd = _year_to_date(config, staged, keys, codes)
    if ytd.any():
        wanted.extend(before for _, before in _months_before(keys, codes[ytd]))
        as_stored = keys.with_part(codes[ytd], INDICATOR, ytd_id)  # the diff, and the 1-(N-1)月 value
        wanted.extend([as_stored, keys.with_part(as_stored, MONTH, _month_before)])
    others = np.concatenate(wanted) if wanted else np.empty(0, dtype="int64")
    own = keys.index(codes)
    if not own.is_unique:
        own = pd.Index(pd.unique(codes))
    # each key once: the staged keys (distinct already, as staged) and the others not among them
    return np.concatenate([own.to_numpy(), pd.unique(others[own.get_indexer(others) < 0])])


def _watched(config: Config) -> set[str]:
    return {i.id for i in config.indicators if i.outlier_threshold or i.kind == "stock"}


def _ratios(config: Config) -> dict:
    return {i.id: i for i in config.indicators
            if isinstance(i.formula, RatioFormula) and i.formula.denominator == "population"}


def _month_before(month: str) -> str:
    return add_months(month, -1)


def _indicators(keys: KeyCodes, codes: np.ndarray, ids: set[str]) -> np.ndarray:
    """Rows whose indicator is one of ``ids`` (tested once per distinct indicator)."""
    which, numbers = pd.factorize(split(codes)[INDICATOR])
    chosen = np.array([keys.text_of(INDICATOR, n) in ids for n in numbers], dtype=bool)
    return chosen[which] if len(chosen) else np.zeros(len(codes), dtype=bool)


def _months_before(keys: KeyCodes, codes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For k = 0, 1, …: the rows (positions in ``codes``) whose year has a k-th month before their
    own month, and the key codes of that month."""
    region, indicator, months = split(codes)
    which, numbers = pd.factorize(months)
    before = [month_range(m[:4] + "-01", add_months(m, -1)) for m in (keys.text_of(MONTH, n) for n in numbers)]
    out = []
    for k in range(max((len(b) for b in before), default=0)):
        month_k = np.array([keys.number(MONTH, b[k]) if len(b) > k else -1 for b in before], dtype="int64")[which]
        rows = np.flatnonzero(month_k >= 0)
        out.append((rows, combine(region[rows], indicator[rows], month_k[rows])))
    return out


# --------------------------------------------------------------------------- year-to-date flows


def _year_to_date(config: Config, staged: pd.DataFrame, keys: KeyCodes, codes: np.ndarray) -> np.ndarray:
    """Rows of monthly flows given as year-to-date sums, after January."""
    cumulative = staged["cumulative"].to_numpy(bool)
    if not cumulative.any():
        return cumulative
    flows = {i.id for i in config.indicators if has_year_to_date(i)}
    which, months = pd.factorize(split(codes)[MONTH])
    after_january = np.array([keys.text_of(MONTH, m)[5:7] != "01" for m in months], dtype=bool)
    return cumulative & _indicators(keys, codes, flows) & after_january[which]


def store_year_to_date(stored: StoredValues, config: Config, staged: pd.DataFrame, file_name: str,
                       problems: list[Problem], *, keys: KeyCodes, codes: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of monthly flows given as year-to-date sums (1-6月) are kept as what they are: values of
    the flow's year-to-date series (monitor/domain/yeartodate.py), from which the month's own amount is
    derived when the year so far before it is known, now or after a later upload. Nothing is
    refused for months missing. Each row gets a note of what was derived; a year-to-date that
    disagrees with the values already there (earlier months revised since, or a month's own amount
    reported differently) is a warning that names both figures. Returns the rows and their keys."""
    mask = _year_to_date(config, staged, keys, codes)
    if not mask.any():
        return staged, codes
    positions = np.flatnonzero(mask)
    plain = ~staged["cumulative"].to_numpy(bool)
    values = staged["value"].to_numpy()
    ytd_codes = codes.copy()
    ytd_codes[positions] = keys.with_part(codes[positions], INDICATOR, ytd_id)
    # the year so far before each row: the 1-(N-1)月 value, else every month before it
    previous, has_previous = look_up(keys.with_part(ytd_codes[positions], MONTH, _month_before),
                                     (ytd_codes[positions], values[positions]), (stored.index, stored.values))
    own_month, has_own = look_up(codes[positions], (codes[plain], values[plain]), (stored.index, stored.values))
    before = np.full((len(positions), 11), np.nan)
    known = np.zeros((len(positions), 11), dtype=bool)
    length = np.zeros(len(positions), dtype="int64")
    months = _months_before(keys, codes[positions])
    if months:  # one look-up for every month of every row
        found, found_known = look_up(np.concatenate([wanted for _, wanted in months]),
                                     (codes[plain], values[plain]), (stored.index, stored.values))
        start = 0
        for k, (rows, _) in enumerate(months):
            before[rows, k], known[rows, k] = found[start:start + len(rows)], found_known[start:start + len(rows)]
            length[rows] = k + 1
            start += len(rows)
    rows = staged.iloc[positions]
    names: dict[str, str] = {}
    for k, (indicator, month, line, column, ytd) in enumerate(zip(
            rows["indicator_id"], rows["month"], rows["line"], rows["column"], rows["value"])):
        if indicator not in names:
            names[indicator] = config.indicator(indicator).name
        name, n, line = names[indicator], int(month[5:7]), int(line)
        span, until_before = f"1-{n}月", (f"1-{n - 1}月" if n > 2 else "1月")
        where = f"第 {line} 行「{name}」{month[:4]}年{span}累计 {_fmt(ytd)}"
        months_known = known[k, :length[k]]
        if has_previous[k] and not np.isnan(previous[k]):
            so_far, basis = float(previous[k]), f"{until_before}累计 {_fmt(previous[k])}"
        elif months_known.all():
            so_far, basis = float(before[k, :length[k]].sum()), f"此前各月之和 {_fmt(before[k, :length[k]].sum())}"
        else:
            absent = "、".join(f"{j + 1}月" for j in np.flatnonzero(~months_known))
            problems.append(Problem(file_name, line, column, "cumulative", _fmt(ytd),
                                    f"{where}，按累计值保存，全年目标直接使用；该年缺少{absent}的数据，"
                                    f"暂不推算{n}月当月值（补报后自动推算）", "info"))
            continue
        monthly = ytd - so_far
        if monthly < -1e-9:
            problems.append(Problem(file_name, line, column, "cumulative", _fmt(ytd),
                                    f"{where}，小于已有的{basis}，推算的{n}月当月值为负（{_fmt(monthly)}）；"
                                    "请核对累计值和单位；如此前月份的数据已修订，确认后可继续导入"
                                    f"（累计值照常保存，{n}月当月值暂不推算）", "warning"))
        elif has_own[k] and abs(monthly - own_month[k]) > max(0.5, 0.005 * abs(own_month[k])):
            problems.append(Problem(file_name, line, column, "cumulative", _fmt(ytd),
                                    f"{where}，减去{basis}为 {_fmt(monthly)}，与已有的{n}月当月值 {_fmt(own_month[k])} "
                                    f"不一致；请核对；确认后可继续导入（当月值以已报的 {_fmt(own_month[k])} 为准，"
                                    "全年目标按累计值计算）", "warning"))
        else:
            problems.append(Problem(file_name, line, column, "cumulative", _fmt(ytd),
                                    f"{where}，按累计值保存；{n}月当月值推算为 {_fmt(monthly)}（减去{basis}）", "info"))
    indicator_ids = staged["indicator_id"].to_numpy(object).copy()
    indicator_ids[positions] = [ytd_id(i) for i in indicator_ids[positions]]
    return staged.assign(indicator_id=indicator_ids), ytd_codes


# --------------------------------------------------------------------------- totals rows


def totals_problems(config: Config, regions, staged: pd.DataFrame, totals: pd.DataFrame,
                    file_name: str) -> list[Problem]:
    """A totals row is checked against the sum of the rows it totals (additive indicators only)
    and is never loaded as a region."""
    problems: list[Problem] = []
    rel, absolute = 0.005, 0.5
    groups = None  # the staged rows of each (indicator, month), found once for all totals rows
    leaves_of: dict[tuple[str, str], pd.DataFrame] = {}
    for rec in totals.itertuples(index=False):
        ind = config.indicator(rec.indicator_id)
        line = int(rec.line)
        if ind.aggregation != "sum":
            problems.append(Problem(file_name, line, rec.column, "total", rec.region,
                                    f"第 {line} 行「{rec.region}」是合计行，不导入（{ind.name}不可加总，未核对）", "info"))
            continue
        if groups is None:
            groups = staged.groupby(["indicator_id", "month"], sort=False).indices
        group = (rec.indicator_id, rec.month)
        if group not in leaves_of:
            part = staged.iloc[groups.get(group, [])]
            codes = set(part["region_code"])
            # the rows it totals: not a region that contains another row's region (a province row
            # beside its cities is a value of its own, not a part)
            containers = {a.code for o in codes for a in regions.ancestors(o)} & codes
            leaves_of[group] = part[[c not in containers for c in part["region_code"]]]
        leaves = leaves_of[group]
        if leaves.empty:
            continue
        total = float(leaves["value"].sum())
        if abs(total - rec.value) > max(absolute, rel * abs(rec.value)):
            problems.append(Problem(
                file_name, line, rec.column, "total", _fmt(rec.value),
                f"第 {line} 行「{rec.region}」的「{ind.name}」合计为 {_fmt(rec.value)}，但各行之和为 {_fmt(total)}"
                f"（相差 {_fmt(rec.value - total)}）；请核对是否漏报或多报了某个地区。合计行本身不导入", "warning"))
        else:
            problems.append(Problem(file_name, line, rec.column, "total", _fmt(rec.value),
                                    f"第 {line} 行「{rec.region}」是合计行：与各行之和一致，仅用于核对，不导入", "info"))
    return problems


def national_problems(config: Config, regions, staged: pd.DataFrame, file_name: str) -> list[Problem]:
    """The country's row (全国, 100000) of a table of provinces is loaded as the national value;
    where the table has all 31 provinces, an additive indicator's national value is checked
    against their sum (a mismatch is a warning naming both figures: the national office's total
    may include areas the provinces do not)."""
    national = (staged["region_code"] == "100000").to_numpy(bool)
    if not national.any():
        return []
    provinces = {p.code for p in regions.children("100000")}
    others = staged[~national]
    if others.empty or not others["region_code"].isin(provinces).all():
        return []  # not a table of provinces: 全国 is a region like any other row
    problems: list[Problem] = []
    groups = others.groupby(["indicator_id", "month"], sort=False)
    sums = groups["value"].sum()
    counts = groups["region_code"].nunique()
    rel, absolute = 0.005, 0.5
    for rec in staged[national].itertuples(index=False):
        ind = config.indicator(rec.indicator_id)
        line = int(rec.line)
        key = (rec.indicator_id, rec.month)
        complete = counts.get(key, 0) == len(provinces)
        if ind.aggregation != "sum" or not complete:
            why = f"{ind.name}不可加总" if ind.aggregation != "sum" else f"表中只有 {counts.get(key, 0)} 个省份"
            problems.append(Problem(file_name, line, rec.column, "national", _fmt(rec.value),
                                    f"第 {line} 行「全国」作为全国数值导入（{why}，未与各省之和核对）", "info"))
            continue
        total = float(sums[key])
        if abs(total - rec.value) > max(absolute, rel * abs(rec.value)):
            problems.append(Problem(
                file_name, line, rec.column, "national", _fmt(rec.value),
                f"第 {line} 行「全国」的「{ind.name}」为 {_fmt(rec.value)}，但 {len(provinces)} 个省（区、市）之和为 "
                f"{_fmt(total)}（相差 {_fmt(rec.value - total)}）；请核对是否漏报或多报了某个省份，或全国数是否另含港澳台等。"
                "确认后全国数按原值导入", "warning"))
        else:
            problems.append(Problem(file_name, line, rec.column, "national", _fmt(rec.value),
                                    f"第 {line} 行「全国」作为全国数值导入，与 {len(provinces)} 个省（区、市）之和一致", "info"))
    return problems


# --------------------------------------------------------------------------- against the store


def store_problems(stored: StoredValues, config: Config, staged: pd.DataFrame, file_name: str,
                   population=None, *, keys: KeyCodes, codes: np.ndarray) -> list[Problem]:
    if staged.empty:
        return []
    problems: list[Problem] = []
    problems += _month_on_month(stored, config, staged, file_name, keys, codes)
    if population is not None:
        problems += _per_capita(stored, config, staged, file_name, population, keys, codes)
    return problems


def _month_on_month(stored: StoredValues, config: Config, staged: pd.DataFrame, file_name: str, keys: KeyCodes,
                    codes: np.ndarray) -> list[Problem]:
    thresholds = {i.id: i.outlier_threshold for i in config.indicators if i.outlier_threshold}
    stocks = {i.id for i in config.indicators if i.kind == "stock"}
    positions = np.flatnonzero(_indicators(keys, codes, set(thresholds) | stocks))
    if not len(positions):
        return []
    values = staged["value"].to_numpy()
    # the previous month's value: from the file first, else from the store
    previous, found = look_up(keys.with_part(codes[positions], MONTH, _month_before), (keys.index(codes), values),
                              (stored.index, stored.values))
    found &= ~np.isnan(previous)
    positions, previous = positions[found], previous[found]
    value = values[positions]
    which, numbers = pd.factorize(split(codes[positions])[INDICATOR])
    ids = [keys.text_of(INDICATOR, n) for n in numbers]
    threshold = np.array([thresholds.get(i, np.nan) for i in ids], dtype="float64")[which]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = value / previous - 1
        outlier = ~np.isnan(threshold) & (previous != 0) & (np.abs(change) > threshold)
    falls = np.array([i in stocks for i in ids], dtype=bool)[which] & (value < previous - 1e-9)
    flagged = np.flatnonzero(outlier | falls)
    problems: list[Problem] = []
    if not len(flagged):
        return problems
    rows = staged.iloc[positions[flagged]]
    names = {i: config.indicator(i).name for i in ids}
    months = {m: format_month_cn(m) for m in rows["month"].unique()}
    for line, column, month, number, now, before, moved, is_outlier, is_falling in zip(
            rows["line"].tolist(), rows["column"], rows["month"], which[flagged].tolist(), value[flagged].tolist(),
            previous[flagged].tolist(), change[flagged].tolist(), outlier[flagged].tolist(), falls[flagged].tolist()):
        indicator = ids[number]
        where = f"第 {line} 行"
        if is_outlier:
            problems.append(Problem(
                file_name, line, column, "outlier", _fmt(now),
                f"{where}「{names[indicator]}」{months[month]}为 {_fmt(now)}，较上月 {_fmt(before)} "
                f"变化 {moved:+.1%}，超过该指标的波动阈值 ±{thresholds[indicator]:.0%}；请核对单位和数值，确认无误后可继续导入",
                "warning"))
        if is_falling:
            problems.append(Problem(
                file_name, line, column, "stock_falls", _fmt(now),
                f"{where}「{names[indicator]}」是存量指标，{months[month]}为 {_fmt(now)}，低于上月的 "
                f"{_fmt(before)}；存量通常不减少，请核对（确因失效、注销等减少的，确认后可继续导入）", "warning"))
    return problems


def _per_capita(stored: StoredValues, config: Config, staged: pd.DataFrame, file_name: str, population,
                keys: KeyCodes, codes: np.ndarray) -> list[Problem]:
    ratios = _ratios(config)
    positions = np.flatnonzero(_indicators(keys, codes, set(ratios)))
    if not len(positions):
        return []
    values = staged["value"].to_numpy()
    numerator, found = look_up(
        keys.with_part(codes[positions], INDICATOR, lambda i: ratios[i].formula.numerator),
        (keys.index(codes), values), (stored.index, stored.values))
    found &= ~np.isnan(numerator)
    positions, numerator = positions[found], numerator[found]
    if not len(positions):
        return []
    figures = population.figures_for(staged["region_code"].to_numpy(object)[positions].tolist(),
                                     staged["month"].to_numpy(object)[positions].tolist())
    people = figures["population"].to_numpy(dtype="float64", na_value=np.nan)
    year = figures["year"].to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(people)
    positions, numerator, people, year = positions[known], numerator[known], people[known], year[known]
    indicator = staged["indicator_id"].to_numpy(object)[positions]
    value = values[positions]
    scale = np.array([ratios[i].formula.scale for i in indicator], dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = numerator / people * scale
        off = (expected != 0) & (np.abs(value / expected - 1) > PER_CAPITA_TOLERANCE)
    problems: list[Problem] = []
    flagged = np.flatnonzero(off)
    rows = staged.iloc[positions[flagged]]
    for k, line, column in zip(flagged, rows["line"].tolist(), rows["column"]):
        ind = ratios[indicator[k]]
        problems.append(Problem(
            file_name, line, column, "per_capita", _fmt(value[k]),
            f"第 {line} 行「{ind.name}」为 {_fmt(value[k])}，而「{config.indicator(ind.formula.numerator).name}」"
            f"{_fmt(numerator[k])} ÷ 常住人口 {_fmt(people[k] / 1e4)} 万（{int(year[k])} 年）"
            f"× {ind.formula.scale:g} = {_fmt(expected[k])}，相差 {float(value[k] / expected[k] - 1):+.1%}；"
            "请核对人口口径或数值（系统展示时以分子 ÷ 人口重新计算）", "warning"))
    return problems
