"""Checks of staged rows against each other and against the store (warnings that need a person).

- a change from the previous month beyond the indicator's ``outlier_threshold`` (异常波动);
- a stock that falls (存量下降);
- a per-10,000 value that disagrees with count ÷ population (人均值核对);
- a totals row that disagrees with the sum of its rows (合计行);
and the conversion of year-to-date flow values (「1-6月」) into the month's own amount, which needs
the months before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.problems import Problem
from monitor.config import Config, RatioFormula
from monitor.periods import add_months, format_month_cn, month_range
from monitor.store import Store

PER_CAPITA_TOLERANCE = 0.02  # population figures of neighbouring years differ by about 1 %


def _fmt(value: float) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _store_values(store: Store, keys: pd.DataFrame) -> pd.DataFrame:
    """Stored values for (region_code, indicator_id, month) keys: the same keys plus ``value``."""
    if keys.empty:
        return keys.assign(value=pd.Series(dtype="float64"))
    with store.connect() as con:
        con.register("wanted", keys[["region_code", "indicator_id", "month"]].drop_duplicates())
        try:
            found = con.execute("SELECT w.region_code, w.indicator_id, w.month, o.value FROM wanted w "
                                "JOIN observations o USING (region_code, indicator_id, month)").df()
        finally:
            con.unregister("wanted")
    return found.astype({"value": "float64"})


# --------------------------------------------------------------------------- year-to-date flows


def decumulate_flows(store: Store, config: Config, staged: pd.DataFrame, file_name: str,
                     problems: list[Problem]) -> pd.DataFrame:
    """Rows of flow indicators given as year-to-date sums (1-6月) become the month's own amount:
    YTD − the months before it in that year (from the file or the store). A month missing makes
    the row an error: the amount cannot be known."""
    flows = {i.id for i in config.indicators if i.kind == "flow" and i.frequency == "monthly"}
    mask = staged["cumulative"] & staged["indicator_id"].isin(flows) & (staged["month"].str[5:7] != "01")
    if not mask.any():
        return staged
    rows = staged[mask]
    wanted = pd.DataFrame(
        [(r, i, m) for r, i, month in zip(rows["region_code"], rows["indicator_id"], rows["month"])
         for m in month_range(month[:4] + "-01", add_months(month, -1))],
        columns=["region_code", "indicator_id", "month"],
    ).drop_duplicates()
    known = _store_values(store, wanted)
    plain = staged[~staged["cumulative"]][["region_code", "indicator_id", "month", "value"]]
    known = pd.concat([plain.merge(wanted, on=["region_code", "indicator_id", "month"]), known]).drop_duplicates(
        ["region_code", "indicator_id", "month"])
    lookup = {(r, i, m): v for r, i, m, v in known.itertuples(index=False)}
    drop = []
    staged = staged.copy()
    for idx, rec in rows.iterrows():
        before = month_range(rec["month"][:4] + "-01", add_months(rec["month"], -1))
        values = [lookup.get((rec["region_code"], rec["indicator_id"], m)) for m in before]
        name = config.indicator(rec["indicator_id"]).name
        span = f"1-{int(rec['month'][5:7])}月"
        if any(v is None for v in values):
            absent = "、".join(f"{int(m[5:7])}月" for m, v in zip(before, values) if v is None)
            problems.append(Problem(file_name, int(rec["line"]), rec["column"], "cumulative", _fmt(rec["value"]),
                                    f"第 {rec['line']} 行「{name}」是{rec['month'][:4]}年{span}累计值，但缺少该年{absent}的数据，"
                                    f"无法换算为{format_month_cn(rec['month'])}当月值；请先导入缺失月份，或改报当月值"))
            drop.append(idx)
            continue
        monthly = rec["value"] - sum(values)
        if monthly < -1e-9:
            problems.append(Problem(file_name, int(rec["line"]), rec["column"], "cumulative", _fmt(rec["value"]),
                                    f"第 {rec['line']} 行「{name}」{span}累计 {_fmt(rec['value'])} 小于此前各月之和 "
                                    f"{_fmt(sum(values))}，换算出的当月值为负；请核对累计值和单位"))
            drop.append(idx)
            continue
        problems.append(Problem(file_name, int(rec["line"]), rec["column"], "cumulative", _fmt(rec["value"]),
                                f"第 {rec['line']} 行「{name}」{span}累计 {_fmt(rec['value'])} 换算为"
                                f"{format_month_cn(rec['month'])}当月值 {_fmt(monthly)}（减去此前各月合计 {_fmt(sum(values))}）",
                                "info"))
        staged.loc[idx, "value"] = monthly
    return staged.drop(index=drop).reset_index(drop=True)


# --------------------------------------------------------------------------- totals rows


def totals_problems(config: Config, regions, staged: pd.DataFrame, totals: pd.DataFrame,
                    file_name: str) -> list[Problem]:
    """A totals row is checked against the sum of the rows it totals (additive indicators only)
    and is never loaded as a region."""
    problems: list[Problem] = []
    rel, absolute = 0.005, 0.5
    for rec in totals.itertuples(index=False):
        ind = config.indicator(rec.indicator_id)
        line = int(rec.line)
        if ind.aggregation != "sum":
            problems.append(Problem(file_name, line, rec.column, "total", rec.region,
                                    f"第 {line} 行「{rec.region}」是合计行，不导入（{ind.name}不可加总，未核对）", "info"))
            continue
        part = staged[(staged["indicator_id"] == rec.indicator_id) & (staged["month"] == rec.month)]
        codes = set(part["region_code"])
        # the rows it totals: not a region that contains another row's region (a province row
        # beside its cities is a value of its own, not a part)
        leaves = part[[not any(c != o and regions.is_within(o, c) for o in codes) for c in part["region_code"]]]
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


# --------------------------------------------------------------------------- against the store


def store_problems(store: Store, config: Config, staged: pd.DataFrame, file_name: str,
                   population=None) -> list[Problem]:
    if staged.empty:
        return []
    problems: list[Problem] = []
    problems += _month_on_month(store, config, staged, file_name)
    if population is not None:
        problems += _per_capita(store, config, staged, file_name, population)
    return problems


def _month_on_month(store: Store, config: Config, staged: pd.DataFrame, file_name: str) -> list[Problem]:
    thresholds = {i.id: i.outlier_threshold for i in config.indicators if i.outlier_threshold}
    stocks = {i.id for i in config.indicators if i.kind == "stock"}
    rows = staged[staged["indicator_id"].isin(set(thresholds) | stocks)].copy()
    if rows.empty:
        return []
    rows["prev_month"] = rows["month"].map({m: add_months(m, -1) for m in rows["month"].unique()})
    prev_keys = rows[["region_code", "indicator_id", "prev_month"]].rename(columns={"prev_month": "month"})
    in_file = staged[["region_code", "indicator_id", "month", "value"]]
    from_store = _store_values(store, prev_keys)
    previous = pd.concat([in_file, from_store]).drop_duplicates(["region_code", "indicator_id", "month"])
    previous = previous.rename(columns={"month": "prev_month", "value": "prev_value"})
    rows = rows.merge(previous, on=["region_code", "indicator_id", "prev_month"], how="left")
    rows = rows[rows["prev_value"].notna()]
    problems: list[Problem] = []
    for rec in rows.itertuples(index=False):
        ind = config.indicator(rec.indicator_id)
        line = int(rec.line)
        where = f"第 {line} 行"
        threshold = thresholds.get(rec.indicator_id)
        if threshold and rec.prev_value != 0:
            change = rec.value / rec.prev_value - 1
            if abs(change) > threshold:
                problems.append(Problem(
                    file_name, line, rec.column, "outlier", _fmt(rec.value),
                    f"{where}「{ind.name}」{format_month_cn(rec.month)}为 {_fmt(rec.value)}，较上月 {_fmt(rec.prev_value)} "
                    f"变化 {change:+.1%}，超过该指标的波动阈值 ±{threshold:.0%}；请核对单位和数值，确认无误后可继续导入",
                    "warning"))
        if rec.indicator_id in stocks and rec.value < rec.prev_value - 1e-9:
            problems.append(Problem(
                file_name, line, rec.column, "stock_falls", _fmt(rec.value),
                f"{where}「{ind.name}」是存量指标，{format_month_cn(rec.month)}为 {_fmt(rec.value)}，低于上月的 "
                f"{_fmt(rec.prev_value)}；存量通常不减少，请核对（确因失效、注销等减少的，确认后可继续导入）", "warning"))
    return problems


def _per_capita(store: Store, config: Config, staged: pd.DataFrame, file_name: str, population) -> list[Problem]:
    ratios = {i.id: i for i in config.indicators
              if isinstance(i.formula, RatioFormula) and i.formula.denominator == "population"}
    rows = staged[staged["indicator_id"].isin(ratios)].copy()
    if rows.empty:
        return []
    rows["numerator_id"] = [ratios[i].formula.numerator for i in rows["indicator_id"]]
    keys = rows[["region_code", "numerator_id", "month"]].rename(columns={"numerator_id": "indicator_id"})
    numerators = pd.concat([staged[["region_code", "indicator_id", "month", "value"]], _store_values(store, keys)])
    numerators = numerators.drop_duplicates(["region_code", "indicator_id", "month"]).rename(
        columns={"indicator_id": "numerator_id", "value": "numerator"})
    rows = rows.merge(numerators, on=["region_code", "numerator_id", "month"], how="left")
    rows = rows[rows["numerator"].notna()]
    if rows.empty:
        return []
    figures = population.figures_for(rows["region_code"].tolist(), rows["month"].tolist())
    rows["population"] = figures["population"].to_numpy(dtype="float64", na_value=np.nan)
    rows["population_year"] = figures["year"].to_numpy(dtype="float64", na_value=np.nan)
    problems: list[Problem] = []
    for rec in rows[rows["population"].notna()].itertuples(index=False):
        ind = ratios[rec.indicator_id]
        expected = rec.numerator / rec.population * ind.formula.scale
        if expected and abs(rec.value / expected - 1) > PER_CAPITA_TOLERANCE:
            problems.append(Problem(
                file_name, int(rec.line), rec.column, "per_capita", _fmt(rec.value),
                f"第 {rec.line} 行「{ind.name}」为 {_fmt(rec.value)}，而「{config.indicator(rec.numerator_id).name}」"
                f"{_fmt(rec.numerator)} ÷ 常住人口 {_fmt(rec.population / 1e4)} 万（{int(rec.population_year)} 年）"
                f"× {ind.formula.scale:g} = {_fmt(expected)}，相差 {rec.value / expected - 1:+.1%}；"
                "请核对人口口径或数值（系统展示时以分子 ÷ 人口重新计算）", "warning"))
    return problems
