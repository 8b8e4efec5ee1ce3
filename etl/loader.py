"""The loader: file → staged rows (resolved, cast, checked) → a plan (diff against the store) → commit.

Layers (see STYLE.md): the file as received (kept, content-addressed) → a grid of cell texts
(etl/readers.py) → the raw long frame (etl/layout.py: header, title, long or wide shape) →
staged rows with region codes, indicator ids, months and values in the indicator's unit (this
module) → observations in the store. The upload page and ``python -m etl load`` both call
``plan_upload`` and ``commit_plan``: one engine, two doors.

Problems are collected, never raised one at a time: errors block the commit, warnings need an
explicit confirmation, info lines are said and need nothing.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from etl.layout import Layout, is_total, period_from_title, similar_indicators, to_raw
from etl.problems import Problem
from etl.readers import read_grid
from etl.units import UnitError, conversion_factor, is_unit
from monitor.config import Config
from monitor.errors import LoadError, PeriodError, RegionError
from monitor.periods import add_months, last_full_month, parse_month
from monitor.store import Store, remove_observations

MISSING_MARKERS = {"", "—", "-", "--", "－", "——", "/", "nan", "NaN", "None", "无", "…", "...", "N/A", "NA", "null"}
COUNT_UNITS = {"件", "家", "项", "个", "人", "户", "次"}
ORIGINS = ("published", "demo", "upload")
KEY = ["region_code", "indicator_id", "month"]
STAGED_COLUMNS = ["region_code", "indicator_id", "month", "value", "line", "column", "origin", "source_url", "note",
                  "cumulative"]
# a totals row may differ from the sum of its rows by rounding: 0.5 % or half a unit
TOTAL_TOLERANCE = (0.005, 0.5)


class RawRecord(NamedTuple):
    """One row of the raw long frame (etl/layout.py RAW_COLUMNS)."""

    region: str
    indicator: str
    period: str
    value: str
    unit: str
    line: int
    column: str
    cumulative: bool
    is_total: bool
    origin: str
    source_url: str
    note: str


@dataclass
class LoadPlan:
    """What a load would do, computed before anything is written."""

    file_name: str
    file_hash: str
    rows: pd.DataFrame  # staged: region_code, indicator_id, month, value, line, column, origin, source_url, note
    problems: list[Problem]
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows + old_value + change
    duplicate_of: int | None = None  # a committed batch of an identical file
    duplicate_status: str | None = None  # that batch's status (committed / rolled_back)
    layout: Layout | None = None
    source: str | None = None  # e.g. "CSV 文本，编码 GBK/GB18030，逗号分隔"
    data: bytes | None = field(default=None, repr=False)  # the file as received, kept with the batch
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def changes(self) -> pd.DataFrame:
        """The rows a commit would write (new and changed)."""
        return self.diff[self.diff["change"] != "unchanged"] if not self.diff.empty else self.diff

    def counts(self) -> dict[str, int]:
        change = self.diff["change"] if not self.diff.empty else pd.Series(dtype=str)
        return {
            "total": int(len(self.rows)),
            "new": int((change == "new").sum()),
            "changed": int((change == "changed").sum()),
            "unchanged": int((change == "unchanged").sum()),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }


# --------------------------------------------------------------------------- numbers

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９．－＋，％"}
_NUMBER_WITH_UNIT = re.compile(r"^(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?P<unit>[^\d.%]{1,6})$")


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_number(text: str) -> float | None:
    """'1,234.5', '１２３４', '12%' -> float; missing markers -> None; raises ValueError otherwise."""
    s = _clean_number(str(text))
    if s in MISSING_MARKERS:
        return None
    return float(s.removesuffix("%"))


def _clean_number(s: str) -> str:
    return re.sub(r"[,\s\u3000]", "", s.translate(_FULLWIDTH))


def parse_values(texts: pd.Series) -> pd.DataFrame:
    """Vectorised parse of value cells: value (float or NaN), missing, percent, unit (a unit
    written into the cell, '3.5亿元'), bad (not a number)."""
    s = texts.astype(str).map(_clean_number)
    missing = s.isin(MISSING_MARKERS)
    percent = s.str.endswith("%")
    number = pd.to_numeric(s.str.removesuffix("%").where(~missing), errors="coerce")
    unit = pd.Series("", index=s.index, dtype=object)
    bad = ~missing & number.isna()
    if bad.any():
        parts = s[bad].str.extract(_NUMBER_WITH_UNIT)
        ok = parts["num"].notna() & parts["unit"].map(lambda u: isinstance(u, str) and is_unit(u))
        number.loc[ok[ok].index] = parts.loc[ok, "num"].astype(float)
        unit.loc[ok[ok].index] = parts.loc[ok, "unit"]
        bad = ~missing & number.isna()
    return pd.DataFrame({"value": number.astype("float64"), "missing": missing, "percent": percent, "unit": unit,
                         "bad": bad})


# --------------------------------------------------------------------------- regions


def resolve_regions(texts, regions, *, within: str | None = None, title: str | None = None) -> dict[str, str | Exception]:
    """Each region text to a code, or the error to report.

    Short names are often ambiguous nationally (西安 is a city of Shaanxi and a county of 辽源);
    a file is nearly always about one province or city, so ambiguous names are resolved again
    within the deepest region that contains every unambiguous row (or one named in the title).
    """
    resolved: dict[str, str | Exception] = {}
    for text in texts:
        try:
            resolved[text] = regions.resolve(text, within)
        except RegionError as e:
            resolved[text] = e
    ambiguous = [t for t, r in resolved.items() if isinstance(r, RegionError) and getattr(r, "candidates", None)]
    if not ambiguous:
        return resolved
    scopes = _context_scopes([r for r in resolved.values() if isinstance(r, str)], regions, title)
    for text in ambiguous:
        for scope in scopes:
            try:
                resolved[text] = regions.resolve(text, scope)
                break
            except RegionError:
                continue
    return resolved


def _context_scopes(codes: list[str], regions, title: str | None) -> list[str]:
    """Candidate scopes, deepest first: a region of the file that other rows of the file lie
    within (晋城市 beside 泽州县), then the common parents of all rows, then a province named in
    the title. A lone 晋城 row does not make 城区 mean 晋城's 城区; 晋城 with its counties does."""
    unique = sorted(set(codes))
    containers = [c for c in unique if any(o != c and regions.is_within(o, c) for o in unique)]
    scopes = sorted(containers, key=lambda c: -len(regions.ancestors(c)))
    if unique:
        chains = [[a.code for a in regions.ancestors(c)] for c in unique]
        common = [c for c in chains[0] if all(c in chain for chain in chains)]
        scopes.extend(c for c in common if c != "100000")
    if title:
        for province in regions.children("100000"):
            if province.name in title or province.short_name in title:
                scopes.append(province.code)
    return list(dict.fromkeys(scopes))


def _parse_period(text: str) -> tuple[str, bool]:
    """A period cell: '2024-06', '2024年6月', or a year-to-date range '2024年1-6月' (cumulative)."""
    try:
        return parse_month(text), False
    except PeriodError:
        found = period_from_title(text)
        if found:
            return found
        raise


# --------------------------------------------------------------------------- staging


def stage(raw: pd.DataFrame, file_name: str, config: Config, regions, *, today: date | None = None,
          allowed_regions: set[str] | None = None, within: str | None = None,
          title: str | None = None) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    """Resolve, cast and check every row. Returns the good rows, every problem found, and the
    totals rows (parsed like any row, kept apart for the totals check, never loaded)."""
    problems: list[Problem] = []
    said: set[tuple[int, str]] = set()

    def add(problem: Problem) -> None:
        # a wide row carries several values: its region or period problem is said once per row
        if problem.check in ("region", "scope", "period", "future", "indicator"):
            if (problem.row, problem.check) in said:
                return
            said.add((problem.row, problem.check))
        problems.append(problem)

    latest_allowed = last_full_month(today)
    raw = raw.copy()
    for name, default in (("unit", ""), ("column", None), ("cumulative", False), ("is_total", None),
                          ("origin", ""), ("source_url", ""), ("note", "")):
        if name not in raw.columns:
            raw[name] = raw["region"].map(is_total) if name == "is_total" else default
    raw["column"] = raw["column"].fillna("数值")

    region_of = resolve_regions([t for t in raw.loc[~raw["is_total"], "region"].unique()], regions, within=within,
                                title=title)
    indicator_of = {t: config.resolve_indicator(t) for t in raw["indicator"].unique()}
    period_of: dict[str, tuple[str, bool] | Exception] = {}
    for text in raw["period"].unique():
        try:
            period_of[text] = _parse_period(text)
        except PeriodError as e:
            period_of[text] = e

    parsed = parse_values(raw["value"])
    raw["unit"] = raw["unit"].where(parsed["unit"] == "", parsed["unit"])
    unit_factor: dict[tuple[str, str], float | Exception] = {}

    out = {k: [] for k in STAGED_COLUMNS}
    totals = {k: [] for k in ("indicator_id", "month", "value", "line", "column", "region")}
    # plain Python lists: iterating Arrow-backed columns row by row is several times slower
    fields = ["region", "indicator", "period", "value", "unit", "line", "column", "cumulative", "is_total", "origin",
              "source_url", "note"]
    records = (RawRecord(*values) for values in zip(*(raw[f].tolist() for f in fields)))
    for rec, value, missing, percent in zip(records, parsed["value"].tolist(), parsed["missing"].tolist(),
                                            parsed["percent"].tolist()):
        line = int(rec.line)
        ok = True
        indicator = indicator_of[rec.indicator]
        if indicator is None:
            close = similar_indicators(config, rec.indicator)
            hint = f"是否是：{'、'.join(close)}？" if close else ""
            add(Problem(file_name, line, "指标", "indicator", rec.indicator,
                        f"第 {line} 行「指标」列的「{rec.indicator}」不是已知指标；{hint}请使用 indicators.yaml 中的指标名称、别名或代码"))
            ok = False
        if rec.is_total:
            region = None
        else:
            region = region_of[rec.region]
            if isinstance(region, Exception):
                hint = "" if getattr(region, "candidates", None) else "；请核对地区名称，或改用 6 位区划代码"
                add(Problem(file_name, line, "地区", "region", rec.region, f"第 {line} 行「地区」列：{region}{hint}"))
                ok = False
            elif allowed_regions is not None and region not in allowed_regions:
                add(Problem(file_name, line, "地区", "scope", rec.region,
                            f"第 {line} 行的地区「{rec.region}」不在您可导入的地区范围内；请删除该行，或联系管理员调整权限"))
                ok = False
        period = period_of[rec.period]
        month, cumulative = None, False
        if isinstance(period, Exception):
            add(Problem(file_name, line, "期间", "period", rec.period, f"第 {line} 行「期间」列：{period}"))
            ok = False
        else:
            month, cumulative = period
            cumulative = cumulative or bool(rec.cumulative)
            if month > latest_allowed:
                add(Problem(file_name, line, "期间", "future", rec.period,
                            f"第 {line} 行的期间 {month} 尚未结束（最近可报送的月份是 {latest_allowed}）；请检查年份和月份"))
                ok = False
        column = rec.column
        if missing:
            add(Problem(file_name, line, column, "value", rec.value,
                        f"第 {line} 行「{column}」列为空或「{rec.value}」，按缺失处理（不按 0 计），该值不导入", "info"))
            continue
        if value != value:  # NaN: not a number
            add(Problem(file_name, line, column, "value", rec.value,
                        f"第 {line} 行「{column}」列的「{rec.value}」不是数字；请只填数字（可带千分位逗号），缺失请留空或填「—」"))
            continue
        if not ok:
            continue
        ind = config.indicator(indicator)
        if percent and ind.unit != "%":
            add(Problem(file_name, line, column, "unit", rec.value,
                        f"第 {line} 行「{ind.name}」的单位是{ind.unit}，不是百分比，但数值「{rec.value}」带 %；请去掉 % 或核对指标"))
            continue
        if rec.unit:
            key = (rec.unit, ind.unit)
            if key not in unit_factor:
                try:
                    unit_factor[key] = conversion_factor(rec.unit, ind.unit)
                except UnitError as e:
                    unit_factor[key] = e
            factor = unit_factor[key]
            if isinstance(factor, Exception):
                add(Problem(file_name, line, column, "unit", rec.unit,
                            f"第 {line} 行「{ind.name}」的单位「{rec.unit}」无法换算为指标单位「{ind.unit}」；请按{ind.unit}填报或改正单位"))
                continue
            value = value * factor
        if value < 0 and ind.unit in COUNT_UNITS:
            add(Problem(file_name, line, column, "negative", rec.value,
                        f"第 {line} 行「{ind.name}」为负数 {value:g}；计数不能为负，请核对"))
            continue
        if rec.is_total:
            for k, v in (("indicator_id", indicator), ("month", month), ("value", value), ("line", line),
                         ("column", column), ("region", rec.region)):
                totals[k].append(v)
            continue
        origin = rec.origin or ""
        if origin and origin not in ORIGINS:
            add(Problem(file_name, line, "origin", "value", origin, f"第 {line} 行 origin 应为 {'/'.join(ORIGINS)} 之一"))
            continue
        for k, v in (("region_code", region), ("indicator_id", indicator), ("month", month), ("value", value),
                     ("line", line), ("column", column), ("origin", origin or None),
                     ("source_url", rec.source_url or None), ("note", rec.note or None), ("cumulative", cumulative)):
            out[k].append(v)
    staged = pd.DataFrame(out, columns=STAGED_COLUMNS, dtype=object).astype(
        {"value": "float64", "line": "int64", "cumulative": bool})
    staged = _drop_duplicates(staged, file_name, problems)
    totals_frame = pd.DataFrame(totals).astype({"value": "float64"}) if totals["line"] else pd.DataFrame(columns=list(totals))
    return staged.reset_index(drop=True), problems, totals_frame


def _drop_duplicates(staged: pd.DataFrame, file_name: str, problems: list[Problem]) -> pd.DataFrame:
    """The same key twice: an error when the values differ, loaded once when they agree."""
    dup_mask = staged.duplicated(KEY, keep=False)
    if not dup_mask.any():
        return staged
    for _, group in staged[dup_mask].groupby(KEY, sort=False):
        lines = "、".join(str(x) for x in group["line"])
        if group["value"].nunique() > 1:
            for rec in group.itertuples():
                problems.append(Problem(file_name, int(rec.line), rec.column, "duplicate", f"{rec.value:g}",
                                        f"第 {lines} 行是同一地区、指标和期间，但数值不同；请只保留正确的一行"))
        else:
            problems.append(Problem(file_name, int(group["line"].iloc[-1]), None, "duplicate", None,
                                    f"第 {lines} 行重复（数值相同），只导入一次", "info"))
    conflicting = staged[dup_mask].groupby(KEY)["value"].transform("nunique") > 1
    staged = staged.drop(index=staged[dup_mask][conflicting].index)
    return staged.drop_duplicates(KEY, keep="first")


# --------------------------------------------------------------------------- plan and commit


def diff_against_store(store_or_con, staged: pd.DataFrame) -> pd.DataFrame:
    """Each staged row with the value it would replace: change is new / changed / unchanged."""
    if staged.empty:
        return staged.assign(old_value=pd.Series(dtype="float64"), old_origin=pd.Series(dtype=object),
                             change=pd.Series(dtype=str))
    keys = staged[KEY]

    def fetch(con) -> pd.DataFrame:
        con.register("staged_keys", keys)
        try:
            return con.execute(
                "SELECT s.region_code, s.indicator_id, s.month, o.value AS old_value, o.origin AS old_origin "
                "FROM staged_keys s JOIN observations o USING (region_code, indicator_id, month)"
            ).df()
        finally:
            con.unregister("staged_keys")

    if isinstance(store_or_con, Store):
        with store_or_con.connect() as con:
            old = fetch(con)
    else:
        old = fetch(store_or_con)
    merged = staged.merge(old, on=KEY, how="left")
    merged["old_value"] = merged["old_value"].astype("float64")
    same = np.isclose(merged["value"], merged["old_value"], rtol=0, atol=1e-9)
    merged["change"] = np.where(merged["old_value"].isna(), "new", np.where(same, "unchanged", "changed"))
    return merged


def plan_load(store: Store, config: Config, regions, raw: pd.DataFrame, *, file_name: str, file_hash: str,
              today: date | None = None, allowed_regions: set[str] | None = None, within: str | None = None,
              population=None, layout: Layout | None = None, notes: list[Problem] | None = None) -> LoadPlan:
    """Stage a raw long frame and check it against the store: the preview, nothing written."""
    from etl import checks

    title = layout.title if layout else None
    staged, problems, totals = stage(raw, file_name, config, regions, today=today, allowed_regions=allowed_regions,
                                     within=within, title=title)
    problems = [*(notes or []), *problems]
    if staged.empty and not any(p.severity == "error" for p in problems):
        problems.append(Problem(file_name, None, None, "file", None,
                                f"{file_name} 中没有可导入的数值（所有数值单元格都为空）；请填写数值后再导入"))
    problems += checks.totals_problems(config, regions, staged, totals, file_name)  # totals are year-to-date too
    staged = checks.decumulate_flows(store, config, staged, file_name, problems)
    problems += checks.store_problems(store, config, staged, file_name, population)
    order = {"error": 0, "warning": 1, "info": 2}
    problems.sort(key=lambda p: (order[p.severity], p.row or 0, p.column or ""))
    plan = LoadPlan(file_name, file_hash, staged, problems, layout=layout)
    plan.diff = diff_against_store(store, staged)
    found = store.query(
        "SELECT id, status FROM load_batches WHERE file_hash = ? AND kind = 'load' ORDER BY id DESC LIMIT 1",
        [file_hash],
    )
    if not found.empty:
        plan.duplicate_of, plan.duplicate_status = int(found["id"].iloc[0]), str(found["status"].iloc[0])
    return plan


def plan_upload(store: Store, config: Config, regions, data: bytes, file_name: str, *, population=None,
                sheet: str | None = None, period: str | None = None, today: date | None = None,
                allowed_regions: set[str] | None = None, within: str | None = None,
                max_bytes: int | None = None) -> LoadPlan:
    """The one engine behind the upload page and ``python -m etl load``: any supported file → a plan.

    Raises LoadError for a file that cannot be read at all (size, format, no header); row-level
    problems are collected in the plan instead."""
    grid = read_grid(data, file_name, sheet=sheet, max_bytes=max_bytes)
    try:
        raw, layout, notes = to_raw(grid, config, period=period)
    except LoadError as e:
        if grid.kind == "xlsx" and len(grid.sheets) > 1:
            others = "、".join(f"「{s}」" for s in grid.sheets if s != grid.sheet)
            raise LoadError(f"{e}（读取的是工作表「{grid.sheet}」；工作簿中还有 {others}，请选择数据所在的工作表）") from e
        raise
    plan = plan_load(store, config, regions, raw, file_name=file_name, file_hash=file_digest(data), today=today,
                     allowed_regions=allowed_regions, within=within, population=population, layout=layout,
                     notes=notes)
    plan.source, plan.data, plan.sheet, plan.sheets = grid.description, data, grid.sheet, grid.sheets
    return plan


def commit_plan(store: Store, plan: LoadPlan, *, origin: str = "upload", loaded_by: str | None = None,
                note: str | None = None, accept_warnings: bool = False, at: datetime | None = None) -> int | None:
    """Write a plan in one transaction: all rows or none. Returns the new batch id, or None when
    nothing would change (an identical re-upload writes nothing).

    The diff is computed again inside the transaction, so a commit made by someone else between
    preview and commit is neither overwritten blindly nor miscounted. ``at`` is the time recorded
    (now, unless a test or an import of historical batches says otherwise)."""
    if not plan.ok:
        raise LoadError(f"{plan.file_name} 有 {len(plan.errors)} 处错误，未写入任何数据", plan.errors)
    if plan.warnings and not accept_warnings:
        raise LoadError(f"{plan.file_name} 有 {len(plan.warnings)} 条警告，需确认后才能写入", plan.warnings)
    loaded_at = at or datetime.now()
    with store.transaction() as con:
        diff = diff_against_store(con, plan.rows)
        rows = diff[diff["change"] != "unchanged"]
        if rows.empty:
            return None  # the transaction still commits, harmlessly; nothing was written
        if plan.data is not None:
            # the file once per content; NOT EXISTS rather than INSERT OR IGNORE, which takes twice
            # as long with a file of several MB
            con.execute("INSERT INTO upload_files SELECT ?, ?, ?, ?, ? "
                        "WHERE NOT EXISTS (SELECT 1 FROM upload_files WHERE file_hash = ?)",
                        [plan.file_hash, plan.file_name, len(plan.data), plan.data, loaded_at, plan.file_hash])
        layout = plan.layout
        batch_id = con.execute(
            "INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, rows_inserted, "
            "rows_updated, rows_unchanged, note, kind, rows_warnings, sheet, period, file_format) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'load', ?, ?, ?, ?) RETURNING id",
            [plan.file_name, plan.file_hash, loaded_at, loaded_by or current_user(), origin, len(diff),
             int((diff["change"] == "new").sum()), int((diff["change"] == "changed").sum()),
             int((diff["change"] == "unchanged").sum()), note, len(plan.warnings), plan.sheet,
             layout.period if layout else None, plan.source],
        ).fetchall()[0][0]
        incoming = _store_rows(rows, origin)
        changed = rows["change"].to_numpy() == "changed"
        # registrations live as long as this short connection (an aborted transaction refuses
        # even unregister, so none is attempted on failure)
        con.register("incoming", incoming)
        # observations has no primary key (schema 3): a changed key's old row goes first, so each
        # key keeps exactly one row; new keys have no row in this transaction's view of the store
        if changed.any():
            con.register("changed_keys", incoming.filter(changed).select(KEY))
            remove_observations(con, "changed_keys")
        con.execute("INSERT INTO observations SELECT region_code, indicator_id, month, value, origin, ?, "
                    "source_url, note FROM incoming", [batch_id])
        con.execute("INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, "
                    "source_batch, source_url, note, recorded_at) SELECT ?, region_code, indicator_id, month, value, "
                    "origin, ?, source_url, note, ? FROM incoming", [batch_id, batch_id, loaded_at])
    return int(batch_id)


def _store_rows(rows: pd.DataFrame, origin: str) -> pa.Table:
    """The rows to write, typed as the store's columns. DuckDB scans an Arrow table column by
    column; a pandas object column it has to read one Python object at a time. Missing values
    (None, NaN) become NULL, so a missing key or value fails the NOT NULL constraints."""
    def text(column: pd.Series) -> pa.Array:
        return pa.array(column, pa.string())

    return pa.table({
        "region_code": text(rows["region_code"]),
        "indicator_id": text(rows["indicator_id"]),
        "month": text(rows["month"]),
        "value": pa.array(rows["value"], pa.float64()),
        "origin": text(rows["origin"].fillna(origin)),
        "source_url": text(rows["source_url"]),
        "note": text(rows["note"]),
    })


def previous_month(month: str) -> str:
    return add_months(month, -1)


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"
