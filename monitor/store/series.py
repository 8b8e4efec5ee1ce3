"""Indicator values as series: stored observations, and derived indicators computed from them.

A derived indicator is never trusted from a cache of its own: it is recomputed from its parts
(and population) every time, so a corrected count corrects every ratio built on it. Where the
parts are missing for a month but a value of the derived indicator itself was reported (e.g. a
published per-10,000 figure), that reported value is used and marked as such.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from monitor.domain.config import Config, RatioFormula, SumFormula
from monitor.domain.yeartodate import derived_months, has_year_to_date, ytd_id
from monitor.store.database import Store

VALUE_COLUMNS = ["region_code", "indicator_id", "month", "value", "origin", "source_url", "note"]


def read_observations(
    store: Store,
    indicator_ids: Sequence[str],
    region_codes: Sequence[str] | None = None,
    *,
    until: str | None = None,
) -> pd.DataFrame:
    """Stored observations of some indicators (and regions), optionally up to a month.

    A store opened ``as_published`` at a moment reads the observations as they stood then."""
    params: list = [list(indicator_ids)]
    if region_codes is not None:
        params.append(list(region_codes))
    if until is not None:
        params.append(until)
    if store.published_at is not None:
        from monitor.store.history import as_published_sql

        sql = as_published_sql(region_codes is not None, until is not None)
        params[:0] = [store.published_at] * 3
    else:
        # the official view: values of batches waiting for approval are left out (monitor/store/approval.py)
        sql = ("SELECT region_code, indicator_id, month, value, origin, source_url, note FROM official_observations "
               "WHERE indicator_id IN (SELECT unnest(?))")
        if region_codes is not None:
            sql += " AND region_code IN (SELECT unnest(?))"
        if until is not None:
            sql += " AND month <= ?"
    frame = store.query(sql + " ORDER BY region_code, indicator_id, month", params)
    return frame.astype({"value": "float64"}) if not frame.empty else pd.DataFrame(columns=VALUE_COLUMNS)


def indicator_values(
    store: Store,
    config: Config,
    indicator_id: str,
    region_codes: Sequence[str],
    population=None,
    *,
    until: str | None = None,
) -> pd.DataFrame:
    """Values of one indicator for some regions: region_code, month, value, origin, source_url,
    note, and for per-capita ratios population and population_year.

    ``population`` (a monitor.domain.population.Population) is needed for ratios over population.
    """
    ind = config.indicator(indicator_id)
    needed = [ind.id] + (ind.formula.parts if ind.formula else [])
    if has_year_to_date(ind):
        needed.append(ytd_id(ind.id))
    obs = read_observations(store, needed, region_codes, until=until)
    if has_year_to_date(ind):  # months derived from 1–N月累计 values (monitor/domain/yeartodate.py)
        ytd = obs[obs["indicator_id"] == ytd_id(ind.id)].drop(columns="indicator_id")
        own = obs[obs["indicator_id"] == ind.id]
        added = derived_months(own, ytd)
        obs = pd.concat([own, added.assign(indicator_id=ind.id)], ignore_index=True) if len(added) else own
    return compute_indicator(obs, config, indicator_id, population)


def year_to_date_values(store: Store, config: Config, indicator_id: str, region_codes: Sequence[str], *,
                        until: str | None = None) -> pd.DataFrame:
    """The 1–N月累计 values reported for a monthly flow (region_code, month, value, origin,
    source_url, note); empty for any other indicator."""
    if not has_year_to_date(config.indicator(indicator_id)):
        return pd.DataFrame(columns=[c for c in VALUE_COLUMNS if c != "indicator_id"])
    obs = read_observations(store, [ytd_id(indicator_id)], region_codes, until=until)
    return obs.drop(columns="indicator_id").reset_index(drop=True)


def compute_indicator(obs: pd.DataFrame, config: Config, indicator_id: str, population=None) -> pd.DataFrame:
    """The pure part of ``indicator_values``: from observations to the indicator's values."""
    ind = config.indicator(indicator_id)
    direct = obs[obs["indicator_id"] == ind.id].drop(columns="indicator_id")
    if ind.formula is None:
        return direct.reset_index(drop=True)

    def part(pid: str) -> pd.DataFrame:
        p = obs[obs["indicator_id"] == pid][["region_code", "month", "value", "origin", "source_url", "note"]]
        return p.rename(columns={c: f"{c}_{pid}" for c in ("value", "origin", "source_url", "note")})

    if isinstance(ind.formula, SumFormula):
        parts = ind.formula.parts
        merged = part(parts[0])
        for pid in parts[1:]:
            merged = merged.merge(part(pid), on=["region_code", "month"], how="inner")
        computed = merged[["region_code", "month"]].copy()
        computed["value"] = sum(merged[f"value_{pid}"] for pid in parts)
        computed["origin"] = _combined_origin(merged[[f"origin_{pid}" for pid in parts]])
        computed["source_url"] = None
        computed["note"] = None
    else:
        assert isinstance(ind.formula, RatioFormula)
        num = part(ind.formula.numerator)
        computed = num[["region_code", "month"]].copy()
        # a count estimated from this very ratio as published (monitor/demo/generator.py) gives back the
        # published ratio: the ratio is 公布值 though its count is only 推算
        origins = num[f"origin_{ind.formula.numerator}"].to_numpy()
        estimated = origins == "estimated"
        computed["origin"] = np.where(estimated, "published", origins)
        computed["source_url"] = num[f"source_url_{ind.formula.numerator}"].to_numpy()
        computed["note"] = np.where(estimated, "公布值", num[f"note_{ind.formula.numerator}"].to_numpy())
        numerator = num[f"value_{ind.formula.numerator}"].to_numpy(dtype="float64")
        if ind.formula.denominator == "population":
            if population is None:
                raise ValueError(f"{ind.id} needs population to be computed")
            figures = population.figures_for(num["region_code"].tolist(), num["month"].tolist())
            denominator = figures["population"].to_numpy(dtype="float64", na_value=np.nan)
            computed["population"] = denominator
            computed["population_year"] = figures["year"].to_numpy(dtype="float64", na_value=np.nan)
        else:
            den = part(ind.formula.denominator)
            aligned = num[["region_code", "month"]].merge(den, on=["region_code", "month"], how="left")
            denominator = aligned[f"value_{ind.formula.denominator}"].to_numpy(dtype="float64")
            computed["origin"] = _combined_origin(pd.DataFrame({
                "numerator": computed["origin"].to_numpy(),
                "denominator": aligned[f"origin_{ind.formula.denominator}"].to_numpy(),
            }))
        with np.errstate(divide="ignore", invalid="ignore"):
            computed["value"] = numerator / denominator * ind.formula.scale
        computed = computed[np.isfinite(computed["value"].to_numpy(dtype="float64"))]
    if not direct.empty:
        # reported values of the derived indicator fill months the parts do not cover
        have = set(zip(computed["region_code"], computed["month"]))
        extra = direct[[(r, m) not in have for r, m in zip(direct["region_code"], direct["month"])]].copy()
        extra["note"] = extra["note"].fillna("").astype(str).radd("直接报送值；")
        computed = pd.concat([computed, extra], ignore_index=True)
    return computed.sort_values(["region_code", "month"]).reset_index(drop=True)


def _combined_origin(origins: pd.DataFrame) -> np.ndarray:
    """The origin of a value computed from parts (one column per part): demo when any part is
    invented, published when every part was published, otherwise upload (real, partly uploaded)."""
    return np.where((origins == "demo").any(axis=1), "demo",
                    np.where((origins == "published").all(axis=1), "published", "upload"))


def as_series(values: pd.DataFrame, region_code: str) -> pd.Series:
    """One region's values as a float Series indexed by month, the shape evaluation expects."""
    rows = values[values["region_code"] == region_code]
    return pd.Series(rows["value"].to_numpy(dtype="float64"), index=rows["month"].astype(str).to_list(),
                     name=region_code).sort_index()
