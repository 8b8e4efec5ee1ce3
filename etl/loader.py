"""The loader: file → staged rows (resolved, cast, checked) → a plan (diff against the store) → commit.

Layers (see STYLE.md): raw table as read → staged rows with region codes, indicator ids,
months and floats → observations in the store. Every reader (this canonical long CSV today;
Excel, GBK, wide tables in the upload module) produces the same *raw long frame* with the
columns region, indicator, period, value and a ``line`` number, so validation, preview and
commit are one engine for every file shape and for both the page and the CLI.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from etl.problems import Problem
from monitor.config import Config
from monitor.errors import LoadError, PeriodError, RegionError
from monitor.periods import last_full_month, parse_month
from monitor.store import Store

# Canonical column -> accepted header spellings (matched case-insensitively, spaces ignored).
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "region": ("region", "region_code", "地区", "地区代码", "区划代码", "地区名称", "行政区划"),
    "indicator": ("indicator", "indicator_id", "指标", "指标名称", "指标代码"),
    "period": ("period", "month", "期间", "月份", "统计期", "时间"),
    "value": ("value", "数值", "值", "指标值"),
    "origin": ("origin", "来源类型"),
    "source_url": ("source_url", "来源", "来源链接"),
    "note": ("note", "备注"),
}
REQUIRED = ("region", "indicator", "period", "value")
REQUIRED_LABELS = {"region": "地区", "indicator": "指标", "period": "期间", "value": "数值"}
MISSING_MARKERS = {"", "—", "-", "--", "－", "——", "/", "nan", "NaN", "None", "无"}
COUNT_UNITS = {"件", "家", "项", "个", "人", "户", "次"}
ORIGINS = ("published", "demo", "upload")


@dataclass
class LoadPlan:
    """What a load would do, computed before anything is written."""

    file_name: str
    file_hash: str
    rows: pd.DataFrame  # staged: region_code, indicator_id, month, value, line, origin, source_url, note
    problems: list[Problem]
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows + old_value + change
    duplicate_of: int | None = None  # batch id of an identical file loaded before

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

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


# --------------------------------------------------------------------------- reading


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_canonical_csv(data: bytes, file_name: str) -> pd.DataFrame:
    """A long CSV (UTF-8, with or without BOM) into a raw frame of strings with a ``line`` column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError(f"{file_name} 不是 UTF-8 编码；请另存为 UTF-8 CSV 后再导入") from None
    from io import StringIO

    raw = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
    rename: dict[str, str] = {}
    folded = {re.sub(r"\s+", "", str(c)).lower(): c for c in raw.columns}
    for canonical, spellings in CANONICAL_COLUMNS.items():
        for s in spellings:
            if s.lower() in folded:
                rename[folded[s.lower()]] = canonical
                break
    missing = [c for c in REQUIRED if c not in rename.values()]
    if missing:
        wanted = "、".join(f"{c}（{REQUIRED_LABELS[c]}）" for c in missing)
        raise LoadError(
            f"{file_name} 缺少必需的列：{wanted}；表头应为 region,indicator,period,value"
            f"（或 地区,指标,期间,数值），现有列：{'、'.join(map(str, raw.columns))}"
        )
    raw = raw.rename(columns=rename)[[c for c in CANONICAL_COLUMNS if c in rename.values()]]
    raw["line"] = np.arange(len(raw)) + 2  # header is line 1
    blank = raw[list(REQUIRED)].apply(lambda col: col.str.strip() == "").all(axis=1)
    return raw[~blank].reset_index(drop=True)


# --------------------------------------------------------------------------- staging

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９．－＋，％"}


def parse_number(text: str) -> float | None:
    """'1,234.5', '１２３４', '12%' -> float; missing markers -> None; raises ValueError otherwise."""
    s = str(text).translate(_FULLWIDTH).strip().replace(",", "").replace("\u3000", "")
    if s in MISSING_MARKERS:
        return None
    s = s.removesuffix("%")
    return float(s)


def stage(raw: pd.DataFrame, file_name: str, config: Config, regions, *, today: date | None = None,
          allowed_regions: set[str] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Resolve, cast and check every row; return the good rows and every problem found."""
    problems: list[Problem] = []
    latest_allowed = last_full_month(today)

    region_cache: dict[str, str | Exception] = {}
    for text in raw["region"].unique():
        try:
            region_cache[text] = regions.resolve(text)
        except RegionError as e:
            region_cache[text] = e
    indicator_cache = {text: config.resolve_indicator(text) for text in raw["indicator"].unique()}
    period_cache: dict[str, str | Exception] = {}
    for text in raw["period"].unique():
        try:
            period_cache[text] = parse_month(text)
        except PeriodError as e:
            period_cache[text] = e

    out = {k: [] for k in ("region_code", "indicator_id", "month", "value", "line", "origin", "source_url", "note")}
    has = {c: c in raw.columns for c in ("origin", "source_url", "note")}
    for rec in raw.itertuples(index=False):
        line = int(rec.line)
        row_ok = True
        region = region_cache[rec.region]
        if isinstance(region, Exception):
            problems.append(Problem(file_name, line, "地区", "region", rec.region,
                                    f"第 {line} 行「地区」列：{region}"))
            row_ok = False
        elif allowed_regions is not None and region not in allowed_regions:
            problems.append(Problem(file_name, line, "地区", "region", rec.region,
                                    f"第 {line} 行「地区」列的「{rec.region}」不在您可导入的地区范围内"))
            row_ok = False
        indicator = indicator_cache[rec.indicator]
        if indicator is None:
            problems.append(Problem(file_name, line, "指标", "indicator", rec.indicator,
                                    f"第 {line} 行「指标」列的「{rec.indicator}」不是已知指标；"
                                    "请使用 indicators.yaml 中的指标名称、别名或代码"))
            row_ok = False
        month = period_cache[rec.period]
        if isinstance(month, Exception):
            problems.append(Problem(file_name, line, "期间", "period", rec.period,
                                    f"第 {line} 行「期间」列：{month}"))
            row_ok = False
        elif month > latest_allowed:
            problems.append(Problem(file_name, line, "期间", "future", rec.period,
                                    f"第 {line} 行的期间 {month} 尚未结束（最近可报送的月份是 {latest_allowed}）；请检查年份和月份"))
            row_ok = False
        try:
            value = parse_number(rec.value)
        except ValueError:
            problems.append(Problem(file_name, line, "数值", "value", rec.value,
                                    f"第 {line} 行「数值」列的「{rec.value}」不是数字；请只填数字（可带千分位逗号），缺失请留空"))
            continue
        if value is None:
            problems.append(Problem(file_name, line, "数值", "value", rec.value,
                                    f"第 {line} 行数值为空，视为缺失（不按 0 处理），该行不导入", "warning"))
            continue
        if row_ok and value < 0 and config.indicator(indicator).unit in COUNT_UNITS:
            problems.append(Problem(file_name, line, "数值", "negative", rec.value,
                                    f"第 {line} 行「{config.indicator(indicator).name}」为负数 {value:g}；计数不能为负，请核对"))
            row_ok = False
        if not row_ok:
            continue
        origin = getattr(rec, "origin", "") if has["origin"] else ""
        if origin and origin not in ORIGINS:
            problems.append(Problem(file_name, line, "origin", "value", origin,
                                    f"第 {line} 行 origin 应为 {'/'.join(ORIGINS)} 之一"))
            continue
        out["region_code"].append(region)
        out["indicator_id"].append(indicator)
        out["month"].append(month)
        out["value"].append(value)
        out["line"].append(line)
        out["origin"].append(origin or None)
        out["source_url"].append((getattr(rec, "source_url", "") if has["source_url"] else "") or None)
        out["note"].append((getattr(rec, "note", "") if has["note"] else "") or None)
    staged = pd.DataFrame(out).astype({"value": "float64", "line": "int64"})

    # the same key twice: an error when the values differ, loaded once when they agree
    key = ["region_code", "indicator_id", "month"]
    dup_mask = staged.duplicated(key, keep=False)
    if dup_mask.any():
        for _, group in staged[dup_mask].groupby(key, sort=False):
            lines = "、".join(str(x) for x in group["line"])
            if group["value"].nunique() > 1:
                for rec in group.itertuples():
                    problems.append(Problem(file_name, int(rec.line), "数值", "duplicate", f"{rec.value:g}",
                                            f"第 {lines} 行是同一地区、指标和期间，但数值不同；请只保留正确的一行"))
            else:
                problems.append(Problem(file_name, int(group["line"].iloc[-1]), None, "duplicate", None,
                                        f"第 {lines} 行重复（数值相同），只导入一次", "warning"))
        conflicting = staged[dup_mask].groupby(key)["value"].transform("nunique") > 1
        staged = staged.drop(index=staged[dup_mask][conflicting].index)
        staged = staged.drop_duplicates(key, keep="first")
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return staged.reset_index(drop=True), problems


# --------------------------------------------------------------------------- plan and commit


def diff_against_store(store: Store, staged: pd.DataFrame) -> pd.DataFrame:
    """Each staged row with the value it would replace: change is new / changed / unchanged."""
    if staged.empty:
        return staged.assign(old_value=pd.Series(dtype="float64"), change=pd.Series(dtype=str))
    with store.connect() as con:
        con.register("staged", staged[["region_code", "indicator_id", "month"]])
        old = con.execute(
            "SELECT s.region_code, s.indicator_id, s.month, o.value AS old_value "
            "FROM staged s JOIN observations o USING (region_code, indicator_id, month)"
        ).df()
    merged = staged.merge(old, on=["region_code", "indicator_id", "month"], how="left")
    merged["old_value"] = merged["old_value"].astype("float64")
    same = np.isclose(merged["value"], merged["old_value"], rtol=0, atol=1e-9)
    merged["change"] = np.where(merged["old_value"].isna(), "new", np.where(same, "unchanged", "changed"))
    return merged


def plan_load(store: Store, config: Config, regions, raw: pd.DataFrame, *, file_name: str, file_hash: str,
              today: date | None = None, allowed_regions: set[str] | None = None) -> LoadPlan:
    staged, problems = stage(raw, file_name, config, regions, today=today, allowed_regions=allowed_regions)
    plan = LoadPlan(file_name, file_hash, staged, problems)
    plan.diff = diff_against_store(store, staged)
    found = store.query(
        "SELECT id FROM load_batches WHERE file_hash = ? AND status = 'committed' ORDER BY id DESC LIMIT 1",
        [file_hash],
    )
    plan.duplicate_of = int(found["id"].iloc[0]) if not found.empty else None
    return plan


def commit_plan(store: Store, plan: LoadPlan, *, origin: str = "upload", loaded_by: str | None = None,
                note: str | None = None) -> int:
    """Write a plan in one transaction: all rows or none. Returns the new batch id."""
    if not plan.ok:
        raise LoadError(f"{plan.file_name} 有 {len(plan.errors)} 处错误，未写入任何数据", plan.errors)
    counts = plan.counts()
    rows = plan.diff[plan.diff["change"] != "unchanged"].copy()
    rows["origin"] = rows["origin"].fillna(origin)
    with store.transaction() as con:
        batch_id = con.execute(
            "INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, "
            "rows_inserted, rows_updated, rows_unchanged, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [plan.file_name, plan.file_hash, datetime.now(), loaded_by or _current_user(), origin,
             counts["total"], counts["new"], counts["changed"], counts["unchanged"], note],
        ).fetchone()[0]
        if not rows.empty:
            rows["batch_id"] = batch_id
            con.register("incoming", rows[["region_code", "indicator_id", "month", "value", "origin", "batch_id",
                                           "source_url", "note"]])
            con.execute("INSERT OR REPLACE INTO observations BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
    return int(batch_id)


def load_file(store: Store, config: Config, regions, path: Path, *, commit: bool = False,
              origin: str = "upload", loaded_by: str | None = None, today: date | None = None) -> tuple[LoadPlan, int | None]:
    """The CLI door: read, plan, and commit when asked and clean."""
    data = path.read_bytes()
    raw = read_canonical_csv(data, path.name)
    plan = plan_load(store, config, regions, raw, file_name=path.name, file_hash=file_digest(data), today=today)
    batch = commit_plan(store, plan, origin=origin, loaded_by=loaded_by) if commit and plan.ok else None
    return plan, batch


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"
