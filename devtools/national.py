"""A national-scale store: every province, prefecture city and county × every stored indicator ×
monthly history since 2015, from a seeded generator (``python -m bench`` measures against it;
tests/test_evaluation_sets.py checks the evaluation on it).

The values are invented and only need to behave like the real thing where the product's speed
depends on it: stocks that grow, monthly flows with seasonality, annual figures in December,
rates in percent, series that begin late and a few missing months (so 12-month sums and baseline
searches take their slow paths). Provinces are not the sum of their cities; nothing here is meant
to be read as data.

The same ``seed``, ``scale`` and ``end`` always give the same rows (tests/test_bench_national.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.demo.generator import PROFILES
from monitor.domain.config import Config
from monitor.domain.periods import month_index, month_range
from monitor.domain.population import Population, PopulationFigure
from monitor.store import writer

START = "2015-01"
END = "2026-10"  # fixed, so a run next year builds the same store
SEED = 20150101
SCALES = ("national", "small")
# typical resident population by level, where the registry has no census figure
TYPICAL_POPULATION = {"country": 1.41e9, "province": 4.5e7, "city": 4.0e6, "county": 4.5e5, "zone": 2.0e5}
RATE_UNITS = ("%", "分")


@dataclass(frozen=True)
class NationalData:
    observations: pd.DataFrame  # region_code, indicator_id, month, value (the store's key and value)
    population: Population  # the registry's figures, plus a seeded one for every region without


def _rng(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("/".join(parts).encode())])


def scale_regions(regions, scale: str) -> list[str]:
    """The region codes of a scale: every division (national), or 全国, 山西 and 陕西 with their
    cities and 山西's counties (small: ~150 regions, enough for every target set)."""
    if scale == "national":
        return [r.code for r in regions if not r.is_grouping]
    if scale != "small":
        raise ValueError(f"unknown scale {scale!r}; one of {', '.join(SCALES)}")
    codes = ["100000", "140000", "610000"]
    codes += [r.code for r in regions.descendants("140000") if not r.is_grouping]
    codes += [r.code for r in regions.cities_of("610000") if not r.is_grouping]
    return list(dict.fromkeys(codes))


def national_population(regions, population: Population, codes: list[str], *, seed: int = SEED) -> Population:
    """The registry's population figures, and a seeded 2020 figure for every region without one
    (so per-resident ratios and per-capita targets apply everywhere, as they would nationally)."""
    figures = {code: population.series(code) for code in population.codes}
    for code in codes:
        if code in population:
            continue
        rng = _rng(seed, "population", code)
        typical = TYPICAL_POPULATION[regions[code].level]
        value = int(typical * rng.lognormal(0.0, 0.45))
        figures[code] = [PopulationFigure(value, 2020, "示例人口（基准测试生成）", "")]
    return Population(figures)


def generate_national(config: Config, regions, population: Population, *, scale: str = "national",
                      end: str = END, seed: int = SEED) -> NationalData:
    """Observations of every stored (non-derived) indicator for every region of ``scale``, monthly
    (annual indicators: each December) from 2015-01 to ``end``, in one frame (the benchmark's build
    writes ``national_parts`` as they come instead, to keep its memory low)."""
    codes = scale_regions(regions, scale)
    pop = national_population(regions, population, codes, seed=seed)
    observations = pd.concat(list(national_parts(config, codes, pop, end=end, seed=seed)), ignore_index=True)
    observations["indicator_id"] = observations["indicator_id"].astype("category")
    return NationalData(observations, pop)


def national_parts(config: Config, codes: list[str], pop: Population, *, end: str = END,
                   seed: int = SEED) -> Iterator[pd.DataFrame]:
    """generate_national's observations one stored indicator at a time, in its row order (about
    340,000 values a part nationally); ``pop`` is ``national_population`` of ``codes``. Each
    indicator draws from its own seeded generator, so a part never depends on the parts before it."""
    months = np.array(month_range(START, end), dtype=object)
    t = np.array([month_index(m) for m in months], dtype=float)
    years_from_2023 = (t - month_index("2023-12")) / 12.0
    december = np.array([m.endswith("-12") for m in months])
    size = np.array([pop.lookup(c, "2020-12").value for c in codes], dtype=float)
    for ind in config.indicators:
        if ind.kind == "derived":
            continue
        rng = _rng(seed, "indicator", ind.id)
        profile = PROFILES.get(ind.id)
        growth = profile.growth if profile else 0.08
        n, m = len(codes), len(months)
        if ind.unit in RATE_UNITS:
            level = (profile.levels[0] or profile.levels[1] or 50.0) if profile and any(profile.levels) else 50.0
            base = level + rng.normal(0, level * 0.15, size=(n, 1))
            drift = rng.normal(growth, abs(growth) / 2 + 0.1, size=(n, 1))
            values = base + drift * years_from_2023 + rng.normal(0, level * 0.01, size=(n, m))
            values = np.clip(values, 0.0, 100.0)
        else:
            china = next((x for x in (profile.levels if profile else ()) if x), None) if profile else None
            per_person = (china / TYPICAL_POPULATION["country"]) if profile and profile.levels[0] else \
                ((china or 1000.0) / 3.5e7)
            level = per_person * size[:, None] * rng.lognormal(0.0, 0.6, size=(n, 1))
            rate = np.log1p(growth) + rng.normal(0, 0.03, size=(n, 1))
            trend = level * np.exp(rate * years_from_2023)
            if ind.kind == "flow":
                monthly = ind.frequency == "monthly"
                scale_m = 12.0 if monthly else 1.0
                season = 1 + 0.25 * np.sin(2 * np.pi * (t % 12) / 12)[None, :]
                values = trend / scale_m * season * rng.lognormal(0.0, 0.15, size=(n, m))
            else:
                # a stock never falls: a noisy path made monotone
                values = np.maximum.accumulate(trend * rng.lognormal(0.0, 0.01, size=(n, m)), axis=1)
            values = np.round(values, ind.decimals)
        present = np.ones((n, m), dtype=bool)
        if ind.frequency == "annual":
            present &= december[None, :]
        # a fifth of the series begin late (2016–2019), and 0.3 % of months are missing
        late = rng.random(n) < 0.2
        first = np.where(late, rng.integers(12, 60, size=n), 0)
        present &= np.arange(m)[None, :] >= first[:, None]
        present &= rng.random((n, m)) >= 0.003
        r_idx, m_idx = np.nonzero(present)
        yield pd.DataFrame({
            "region_code": pd.Categorical.from_codes(r_idx, categories=codes),
            "indicator_id": ind.id,
            "month": pd.Categorical.from_codes(m_idx, categories=list(months)),
            "value": values[r_idx, m_idx].astype("float64"),
        })


def bulk_load(store, observations: pd.DataFrame | Iterable[pd.DataFrame], *,
              note: str = "全国规模基准测试数据（虚构）") -> int:
    """Write observations (a frame, or its parts as they are generated: ``national_parts``) into
    the store as one batch through the store's writer (monitor/store/writer.py bulk_load: DuckDB's own
    bulk insert, a part at a time; the national build peaks near 1 GB); returns the batch id.
    Each key must be new to the store and appear once in ``observations`` (the benchmark loads a
    new, empty store). Written as 「bench」, not audited: no person asked for it."""
    if isinstance(observations, pd.DataFrame):
        observations = (part for _, part in observations.groupby("indicator_id", observed=True, sort=False))
    return writer.bulk_load(store, observations, by=writer.Writer.internal("bench"), file_name="national-bench",
                            file_key="national", note=note, row_note="示例数据（基准测试）")
