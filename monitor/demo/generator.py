"""Reproducible demo observations, monthly from 2019-01 to the last full month.

What is real and what is invented, so the product can say so on screen:
* every figure in data/reference/published_figures.csv that maps to an indicator is passed
  through exactly (origin ``published``, with its source URL). A published per-10,000 ratio is
  passed through its numerator (count = ratio × population ÷ 10,000, rounded), unless a count
  was itself published for that month, in which case the count wins: such a count is not a
  published figure but an estimate from one (origin ``estimated``, shown as 推算), while the ratio
  computed from it is the published ratio again (monitor/store/series.py);
* everything else is invented (origin ``demo``, shown as 示例数据): smooth series through the
  published points, levels and growth rates from PROFILES below, and for 晋城市 a designed path
  (DESIGNED) so that its seven 2025 targets end in a realistic mix of verdicts;
* a province's additive indicators are the exact sum of its cities (and 杨凌示范区), so roll-ups
  agree; a published province figure is met by splitting it among the cities.
* for a flow published as an annual (or year-to-date) total, the months are an invented split
  whose sum equals the published total; those months are ``demo`` and say so in their note.

* the other 29 provinces get the national target set's indicators (NATIONAL_INDICATORS), all
  invented: shares of China's total, or levels around China's (PROVINCE_WEIGHTS).

The same ``seed`` and ``end`` always give the same rows.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor import REFERENCE_DIR
from monitor.domain.config import Config, RatioFormula
from monitor.domain.periods import month_from_index, month_index, month_range

DEMO_START = "2019-01"
DEFAULT_SEED = 20190101
SHANXI, SHAANXI, CHINA, YANGLING = "140000", "610000", "100000", "619900"
CAPITALS = {SHANXI: "140100", SHAANXI: "610100"}

# Names in published_figures.csv that are not aliases of an indicator, with a conversion factor.
PUBLISHED_EXTRA_NAMES = {"每百万人口发明专利拥有量": ("invention_patents_per_10k", 0.01)}
# Different 口径 from any indicator here: kept out on purpose.
PUBLISHED_SKIPPED = {"发明专利有效量(含国外)", "专利受让次数", "专利受让", "专利权质押金额", "专利权质押合同登记",
                     "专利密集型产业增加值", "常住人口(七普)", "年末常住人口"}


@dataclass(frozen=True)
class Profile:
    """How an indicator behaves in the demo: level at the end of 2023 for China, Shanxi and
    Shaanxi (a year's total for flows), yearly growth, and how a province splits into cities."""

    levels: tuple[float | None, float | None, float | None]  # China, Shanxi, Shaanxi (None: not generated)
    growth: float  # yearly, relative (stocks and flows) or absolute points (rates: see additive=False)
    spread: str = "innovation"  # innovation | commerce | rural: how concentrated in the capital
    step: bool = False  # small counts that move in whole units (GI, enterprises, units)
    seasonal: str = "flat"  # flows: flat | yearend (December-heavy, e.g. pledge financing)


PROFILES: dict[str, Profile] = {
    "invention_patents": Profile((4_015_000, 29_000, 100_000), 0.16),
    "high_value_patents": Profile((1_665_000, 8_838, 40_000), 0.22),
    "design_patents": Profile((2_800_000, 11_539, 25_298), 0.06, "commerce"),
    "patent_grants": Profile((3_600_000, 30_000, 70_000), 0.03),
    "invention_grants": Profile((920_000, 6_000, 18_000), 0.08),
    "pct_applications": Profile((74_000, 88, 565), 0.04),
    "trademarks": Profile((46_146_000, 381_000, 780_000), 0.11, "commerce"),
    "trademark_registrations": Profile((4_383_000, 50_000, 100_000), 0.02, "commerce"),
    "market_entities": Profile((184_000_000, 3_600_000, 5_900_000), 0.06, "commerce"),
    "gi_trademarks": Profile((7_277, 113, 150), 0.04, "rural", step=True),
    "gi_products": Profile((2_508, 27, 89), 0.02, "rural", step=True),
    "agri_gi": Profile((3_510, 180, 120), 0.0, "rural", step=True),
    "gi_authorized_users": Profile((25_000, 300, 560), 0.16, "rural", step=True),
    "copyright_registrations": Profile((6_400_000, 3_000, 110_000), 0.12, "commerce"),
    "pledge_amount": Profile((8_539.9, 13.1, 80.0), 0.30, seasonal="yearend"),
    "pledge_projects": Profile((30_000, 300, 700), 0.20, seasonal="yearend"),
    "pledge_smes": Profile((37_000, 250, 600), 0.18, seasonal="yearend"),
    "patent_intensive_share": Profile((13.04, 7.3, 10.6), 0.3),
    "copyright_industry_share": Profile((7.46, None, None), 0.02),
    "ip_royalty_trade": Profile((3_765.2, None, None), 0.05),
    "patent_industrialisation_rate": Profile((38.0, 30.5, 33.4), 0.5),
    "enterprise_invention_industrialisation_rate": Profile((51.3, None, None), 2.1),
    "patent_conversion_projects": Profile((None, 135, 160), 0.08),
    "patent_assignments": Profile((None, 2_683, 6_000), 0.15),
    "demo_pilot_units": Profile((None, 30, 38), 0.06, step=True),
    "advantage_enterprises": Profile((None, 115, 215), 0.10, step=True),
    "demonstration_enterprises": Profile((None, 10, 52), 0.12, step=True),
    "standard_certified_units": Profile((None, 900, 1_450), 0.11, step=True),
    "patent_navigation_projects": Profile((None, 11, 70), 0.25, step=True),
    "ip_talent": Profile((None, 9_000, 15_500), 0.08),
    "protection_satisfaction": Profile((82.04, 80.6, 82.3), 0.8),
    "admin_penalty_cases": Profile((None, 1_084, 900), -0.05, "commerce"),
    "patent_dispute_rulings": Profile((None, 160, 420), 0.05, "commerce"),
    "civil_case_acceptance_rate": Profile((91.9, None, None), 0.8),
}

# Indicators whose values are levels or rates that do not add up across regions.
NOT_ADDITIVE_GROWTH_IS_POINTS = {"patent_intensive_share", "copyright_industry_share", "patent_industrialisation_rate",
                                 "enterprise_invention_industrialisation_rate", "protection_satisfaction",
                                 "civil_case_acceptance_rate"}

# Share of the province held by the capital, by spread; the rest follows population.
CAPITAL_SHARE = {"innovation": {SHANXI: 0.66, SHAANXI: 0.78}, "commerce": {SHANXI: 0.30, SHAANXI: 0.46},
                 "rural": {SHANXI: 0.05, SHAANXI: 0.06}}
YANGLING_WEIGHT = {"innovation": 3.0, "commerce": 0.6, "rural": 2.0}  # relative to its population share

# 晋城市 (140500): a designed path through its 2025 targets (stock: value at month; flow: year total).
DESIGNED: dict[str, dict[str, dict[str, float]]] = {
    "140500": {
        "invention_patents": {"2019-01": 330, "2020-09": 400, "2022-12": 500, "2023-12": 560,
                              "2024-06": 588, "2025-12": 690},
        "trademarks": {"2019-01": 8_400, "2020-09": 9_800, "2022-12": 11_300, "2024-06": 12_500,
                       "2025-12": 14_300},
        "gi_trademarks": {"2019-01": 5, "2020-04": 6, "2022-03": 7, "2023-08": 8, "2024-11": 9, "2025-05": 10},
        "gi_products": {"2019-01": 3, "2021-11": 4, "2024-09": 5},
        "agri_gi": {"2019-01": 19, "2019-10": 21, "2021-05": 23, "2021-12": 24},
        "copyright_registrations": {"2019": 24, "2020": 28, "2021": 35, "2022": 41, "2023": 47, "2024": 52,
                                    "2025": 57},
    }
}

# Province-level demo anchors that give the 2022 Shaanxi targets a realistic mix of verdicts
# (stock: value at month; flow: year total). Invented, like all demo values.
DESIGNED[SHAANXI] = {
    "demo_pilot_units": {"2021-12": 34, "2022-12": 41},
    "advantage_enterprises": {"2021-12": 181, "2022-12": 203},
    "demonstration_enterprises": {"2021-12": 40, "2022-12": 48},
    "standard_certified_units": {"2021-12": 1_180, "2022-12": 1_342},
    "patent_navigation_projects": {"2021-12": 41, "2022-12": 58},
    "pledge_smes": {"2021": 455, "2022": 512},
    "patent_industrialisation_rate": {"2021-12": 33.1, "2022-12": 32.8},
    "patent_intensive_share": {"2021-12": 10.1, "2022-12": 10.4},
    "gi_trademarks": {"2021-12": 141, "2022-12": 143},
    "gi_products": {"2021-12": 86, "2022-12": 88},
    "agri_gi": {"2021-12": 118, "2022-12": 118},
    "protection_satisfaction": {"2022-12": 82.15},
    "ip_talent": {"2020-12": 12_000},
}

# The other 29 provinces (beyond Shanxi and Shaanxi), so that the national set's maps, grid and
# rankings compare all 31: invented, like every value without a published source. Each province
# gets a share of China's total of the additive indicators below (China minus Shanxi and Shaanxi),
# by a weight that roughly follows the published provincial rankings of patent stocks; shares and
# rates get a level of their own around China's, higher where the weight is higher.
PROVINCE_WEIGHTS: dict[str, float] = {
    "110000": 8.0, "120000": 1.5, "130000": 1.5, "150000": 0.3, "210000": 1.6, "220000": 0.7, "230000": 0.9,
    "310000": 5.5, "320000": 12.0, "330000": 8.5, "340000": 3.5, "350000": 2.4, "360000": 0.9, "370000": 5.5,
    "410000": 2.2, "420000": 3.5, "430000": 2.3, "440000": 15.0, "450000": 0.6, "460000": 0.15, "500000": 1.2,
    "510000": 3.0, "520000": 0.5, "530000": 0.6, "540000": 0.02, "620000": 0.3, "630000": 0.07, "640000": 0.1,
    "650000": 0.25, SHANXI: 0.7, SHAANXI: 2.5,
}
# The national target set's indicators (and their parts) and the most used stock, for every province.
NATIONAL_INDICATORS = ("invention_patents", "high_value_patents", "patent_intensive_share",
                       "copyright_industry_share", "ip_royalty_trade")
# Points a province's share or rate lies above China's per natural-log unit of its weight over the median.
SHARE_SPREAD = {"patent_intensive_share": 2.6, "copyright_industry_share": 1.4}

SEASONAL = {
    "flat": np.array([0.70, 0.75, 1.0, 1.0, 1.0, 1.05, 1.0, 0.95, 1.0, 1.05, 1.1, 1.4]),
    "yearend": np.array([0.45, 0.5, 0.8, 0.85, 0.9, 1.1, 0.9, 0.9, 1.0, 1.1, 1.3, 2.2]),
}


def _rng(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("/".join(parts).encode())])


# --------------------------------------------------------------------------- published figures


def published_anchors(config: Config, population, path=REFERENCE_DIR / "published_figures.csv") -> pd.DataFrame:
    """Published figures mapped to indicators: region_code, indicator_id, month, value, span, source_url,
    unit_note, and for ratios the derived name. ``span`` is "stock", "year" (a year's total),
    or "ytd" (a total from January to ``month``)."""
    raw = pd.read_csv(path, dtype=str)
    rows = []
    for rec in raw.itertuples(index=False):
        name = rec.indicator
        if name.startswith("目标:") or name in PUBLISHED_SKIPPED:
            continue
        factor = 1.0
        if name in PUBLISHED_EXTRA_NAMES:
            indicator_id, factor = PUBLISHED_EXTRA_NAMES[name]
        else:
            indicator_id = config.resolve_indicator(name)
        if indicator_id is None:
            continue
        ind = config.indicator(indicator_id)
        period = rec.year
        unit_note = rec.unit
        if period.endswith("-H1"):
            month, span = f"{period[:4]}-06", "ytd"
        elif len(period) == 4:
            month, span = f"{period}-12", "year"
        else:
            month, span = period, "ytd"
        is_flow = ind.kind == "flow" or (ind.formula is None and ind.kind == "flow")
        if not is_flow:
            span = "stock"
        rows.append((rec.region_code, indicator_id, month, float(rec.value) * factor, span, rec.source_url, unit_note,
                     name))
    return pd.DataFrame(rows, columns=["region_code", "indicator_id", "month", "value", "span", "source_url",
                                       "unit_note", "published_name"])


# --------------------------------------------------------------------------- series builders


def _interpolate_stock(anchors: dict[int, float], months: np.ndarray, growth: float, rng, *, points: bool,
                       noise: float) -> np.ndarray:
    """A smooth series through anchors (month index -> value); growth extrapolates beyond them."""
    keys = sorted(anchors)
    xs = np.array(keys, dtype=float)
    ys = np.array([anchors[k] for k in keys], dtype=float)
    out = np.empty(len(months))
    for i, m in enumerate(months):
        if m <= xs[0]:
            dt = (m - xs[0]) / 12
            out[i] = ys[0] + growth * dt if points else ys[0] * (1 + growth) ** dt
        elif m >= xs[-1]:
            dt = (m - xs[-1]) / 12
            out[i] = ys[-1] + growth * dt if points else ys[-1] * (1 + growth) ** dt
        else:
            j = np.searchsorted(xs, m) - 1
            f = (m - xs[j]) / (xs[j + 1] - xs[j])
            if points or ys[j] <= 0 or ys[j + 1] <= 0:
                out[i] = ys[j] + f * (ys[j + 1] - ys[j])
            else:
                out[i] = ys[j] * (ys[j + 1] / ys[j]) ** f
    if noise > 0:
        wiggle = np.cumsum(rng.normal(0, noise, len(months)))
        # pin the wiggle to zero at every anchor (a bridge), so anchors stay exact
        at = np.interp(months, xs, np.interp(xs, months, wiggle)) if len(xs) else 0
        inside = (months >= xs[0]) & (months <= xs[-1])
        out = out * np.where(inside, 1 + (wiggle - at), 1 + (wiggle - np.interp(xs[-1], months, wiggle)) * 0.5)
    return out


def _steps(anchors: dict[int, float], months: np.ndarray, yearly_rate: float, rng) -> np.ndarray:
    """Whole-unit stock: holds each anchor, adds units at random months beyond the last anchor."""
    keys = sorted(anchors)
    out = np.empty(len(months))
    for i, m in enumerate(months):
        past = [k for k in keys if k <= m]
        out[i] = anchors[past[-1]] if past else anchors[keys[0]]
    last = keys[-1]
    level = anchors[last]
    extra = 0.0
    for i, m in enumerate(months):
        if m > last:
            extra += rng.poisson(max(level, 1) * yearly_rate / 12)
            out[i] = level + extra
    # fill between anchors with intermediate units so growth is spread over months
    for a, b in zip(keys, keys[1:]):
        gain = anchors[b] - anchors[a]
        inside = [i for i, m in enumerate(months) if a < m < b]
        if gain > 1 and inside:
            cut = np.sort(rng.choice(inside, size=int(min(gain - 1, len(inside))), replace=False))
            for n, idx in enumerate(cut, start=1):
                out[idx:] = np.where((months[idx:] < b), anchors[a] + n, out[idx:])
    return out


def _flow_months(year_totals: dict[int, float], ytd: dict[int, tuple[int, float]], months: np.ndarray,
                 seasonal: str, rng) -> np.ndarray:
    """Monthly amounts whose yearly sums are ``year_totals``; ``ytd`` pins Jan..month sums."""
    weights = SEASONAL[seasonal]
    out = np.zeros(len(months))
    for year in sorted({int(m // 12) for m in months}):
        w = weights * rng.uniform(0.85, 1.15, 12)
        w = w / w.sum()
        total = year_totals[year]
        amounts = total * w
        if year in ytd:
            k, partial = ytd[year]  # months 0..k-1 sum to partial
            amounts[:k] = partial * w[:k] / w[:k].sum()
            if k < 12:
                amounts[k:] = max(total - partial, 0) * w[k:] / w[k:].sum()
        for mi in range(12):
            idx = np.where(months == year * 12 + mi)[0]
            if len(idx):
                out[idx[0]] = amounts[mi]
    return out


def _round_preserving(values: np.ndarray, total: float) -> np.ndarray:
    """Integers that sum to ``total`` (largest remainder)."""
    floors = np.floor(values)
    short = int(round(total - floors.sum()))
    if short > 0:
        order = np.argsort(-(values - floors))
        floors[order[:short]] += 1
    elif short < 0:
        order = np.argsort(values - floors)
        floors[order[: -short]] -= 1
    return floors


# --------------------------------------------------------------------------- generator


class _Generator:
    def __init__(self, config: Config, regions, population, end: str, seed: int):
        self.config, self.regions, self.population = config, regions, population
        self.seed = seed
        self.months_str = month_range(DEMO_START, end)
        self.months = np.array([month_index(m) for m in self.months_str])
        self.published = published_anchors(config, population)
        self.rows: list[pd.DataFrame] = []

    # ---- helpers
    def children(self, province: str) -> list[str]:
        return [r.code for r in self.regions.cities_of(province) if r.level == "city" or r.code == YANGLING]

    def weights(self, province: str, spread: str) -> dict[str, float]:
        kids = self.children(province)
        pops = {}
        for code in kids:
            fig = self.population.lookup(code, "2020-12")
            pops[code] = float(fig.value) if fig else 200_000.0
        capital = CAPITALS[province]
        rest = {c: p for c, p in pops.items() if c != capital}
        if YANGLING in rest:
            rest[YANGLING] *= YANGLING_WEIGHT[spread]
        total = sum(rest.values())
        share = CAPITAL_SHARE[spread][province]
        w = {c: (1 - share) * p / total for c, p in rest.items()}
        w[capital] = share
        return w

    def anchors_for(self, indicator_id: str, region: str, *, flow: bool) -> tuple[dict, dict, dict]:
        """(stock anchors {month_idx: value}, year totals {year: value}, ytd {year: (k, value)}), and the
        published source for each anchor."""
        stock, years, ytd = {}, {}, {}
        pub = self.published[(self.published["indicator_id"] == indicator_id) & (self.published["region_code"] == region)]
        for rec in pub.itertuples():
            mi = month_index(rec.month)
            if flow:
                if rec.span == "year":
                    years[mi // 12] = rec.value
                else:
                    ytd[mi // 12] = (mi % 12 + 1, rec.value)
            else:
                stock[mi] = rec.value
        # a published ratio pins its numerator where no count was published for that month
        for ratio in self.config.indicators:
            if not isinstance(ratio.formula, RatioFormula) or ratio.formula.numerator != indicator_id:
                continue
            if ratio.formula.denominator != "population":
                continue
            rp = self.published[(self.published["indicator_id"] == ratio.id) & (self.published["region_code"] == region)]
            for rec in rp.itertuples():
                mi = month_index(rec.month)
                fig = self.population.lookup(region, rec.month)
                if mi in stock or fig is None:
                    continue
                stock[mi] = round(rec.value * fig.value / ratio.formula.scale)
        for key, value in DESIGNED.get(region, {}).get(indicator_id, {}).items():
            if flow:
                years.setdefault(int(key), value)
            else:
                stock.setdefault(month_index(key), value)
        return stock, years, ytd

    def emit(self, indicator_id: str, region: str, values: np.ndarray, months_mask=None, *,
             flow: bool = False, annual: bool = False) -> None:
        months = np.array(self.months_str)
        vals = np.asarray(values, dtype="float64")
        keep = np.ones(len(months), dtype=bool) if months_mask is None else months_mask
        if annual:
            keep &= np.array([m.endswith("-12") for m in months])
        frame = pd.DataFrame({"region_code": region, "indicator_id": indicator_id, "month": months[keep],
                              "value": vals[keep]})
        frame["origin"] = "demo"
        frame["source_url"] = None
        frame["note"] = None
        pub = self.published[(self.published["indicator_id"] == indicator_id) & (self.published["region_code"] == region)]
        for rec in pub.itertuples():
            hit = frame["month"] == rec.month
            if not flow and rec.span == "stock":
                frame.loc[hit, ["origin", "source_url", "note"]] = ["published", rec.source_url, f"公布值（{rec.unit_note}）"]
            elif flow:
                year = rec.month[:4]
                in_year = frame["month"].str.startswith(year) & (frame["month"] <= rec.month)
                what = "全年合计" if rec.span == "year" else f"1—{int(rec.month[5:])}月累计"
                frame.loc[in_year, ["source_url", "note"]] = [rec.source_url, f"月度拆分为示例；{what}等于公布值 {rec.value:g}{rec.unit_note}"]
        # numerators back-solved from a published ratio
        for ratio in self.config.indicators:
            if isinstance(ratio.formula, RatioFormula) and ratio.formula.numerator == indicator_id:
                rp = self.published[(self.published["indicator_id"] == ratio.id) & (self.published["region_code"] == region)]
                for rec in rp.itertuples():
                    hit = (frame["month"] == rec.month) & (frame["origin"] != "published")
                    frame.loc[hit, ["origin", "source_url", "note"]] = [
                        "estimated", rec.source_url, f"推算值：按公布的{ratio.name} {rec.value:g} 与常住人口推算，不是公布值"]
        self.rows.append(frame)

    # ---- per indicator
    def level(self, profile: Profile, region: str) -> float | None:
        idx = {CHINA: 0, SHANXI: 1, SHAANXI: 2}[region]
        return profile.levels[idx]

    def region_series(self, indicator_id: str, region: str, profile: Profile, fallback_level: float,
                      rng) -> np.ndarray:
        ind = self.config.indicator(indicator_id)
        flow = ind.kind == "flow"
        points = indicator_id in NOT_ADDITIVE_GROWTH_IS_POINTS
        stock, years, ytd = self.anchors_for(indicator_id, region, flow=flow)
        ref = month_index("2023-12")
        if flow:
            first_year, last_year = int(self.months[0] // 12), int(self.months[-1] // 12)
            known = dict(years)
            for y, (k, v) in ytd.items():
                known.setdefault(y, v / SEASONAL[profile.seasonal][:k].sum() * SEASONAL[profile.seasonal].sum())
            if not known:
                known = {2023: fallback_level}
            ks = sorted(known)
            totals = {}
            for y in range(first_year, last_year + 1):
                if y in known:
                    totals[y] = known[y]
                elif y < ks[0]:
                    totals[y] = known[ks[0]] * (1 + profile.growth) ** (y - ks[0]) * rng.uniform(0.95, 1.05)
                elif y > ks[-1]:
                    totals[y] = known[ks[-1]] * (1 + profile.growth) ** (y - ks[-1]) * rng.uniform(0.95, 1.05)
                else:
                    lo = max(k for k in ks if k < y)
                    hi = min(k for k in ks if k > y)
                    f = (y - lo) / (hi - lo)
                    totals[y] = known[lo] * (known[hi] / known[lo]) ** f if known[lo] > 0 and known[hi] > 0 else \
                        known[lo] + f * (known[hi] - known[lo])
            if ind.frequency == "annual":
                out = np.zeros(len(self.months))
                for i, m in enumerate(self.months):
                    if m % 12 == 11:
                        out[i] = round(totals[int(m // 12)], ind.decimals)
                return out
            amounts = _flow_months(totals, ytd, self.months, profile.seasonal, rng)
            return _round_years(amounts, self.months, ind.decimals)
        if not stock:
            stock = {ref: fallback_level}
        if profile.step:
            return _steps({k: round(v) for k, v in stock.items()}, self.months, profile.growth, rng)
        series = _interpolate_stock(stock, self.months, profile.growth, rng, points=points,
                                    noise=0 if points else 0.002)
        if not points:
            series = np.maximum.accumulate(series) if profile.growth >= 0 else series
        decimals = ind.decimals
        series = np.round(series, decimals)
        for k, v in stock.items():
            hit = self.months == k
            series[hit] = v
        return series

    def generate(self) -> pd.DataFrame:
        generated: dict[tuple[str, str], np.ndarray] = {}  # (indicator, region) -> series emitted
        for indicator_id, profile in PROFILES.items():
            ind = self.config.indicator(indicator_id)
            rng = _rng(self.seed, indicator_id)
            annual = ind.frequency == "annual"
            for top in (CHINA, SHANXI, SHAANXI):
                level = self.level(profile, top)
                if level is None:
                    continue
                top_series = self.region_series(indicator_id, top, profile, level, _rng(self.seed, indicator_id, top))
                if top != CHINA:
                    top_series = self.split(indicator_id, top, top_series, profile, rng, annual)
                self.emit(indicator_id, top, top_series, flow=ind.kind == "flow", annual=annual)
                generated[(indicator_id, top)] = top_series
        for indicator_id in NATIONAL_INDICATORS:
            self.provinces(indicator_id, generated)
        frame = pd.concat(self.rows, ignore_index=True)
        return frame.sort_values(["region_code", "indicator_id", "month"]).reset_index(drop=True)

    def provinces(self, indicator_id: str, generated: dict[tuple[str, str], np.ndarray]) -> None:
        """Emit ``indicator_id`` for every province not generated yet (PROVINCE_WEIGHTS)."""
        china = generated.get((indicator_id, CHINA))
        if china is None:
            return
        ind = self.config.indicator(indicator_id)
        profile = PROFILES[indicator_id]
        flow, annual = ind.kind == "flow", ind.frequency == "annual"
        codes = sorted(c for c in PROVINCE_WEIGHTS if (indicator_id, c) not in generated)
        if not codes:
            return
        span = (self.months - self.months[0]) / 12
        if ind.aggregation == "sum":
            remainder = china - sum((generated[(indicator_id, c)] for c in PROVINCE_WEIGHTS
                                     if (indicator_id, c) in generated), np.zeros(len(self.months)))
            shares = np.array([PROVINCE_WEIGHTS[c] * (1 + _rng(self.seed, indicator_id, c, "g").normal(0, 0.03)) ** span
                               for c in codes])
            if flow:
                parts = np.round(np.maximum(remainder, 0) * shares / shares.sum(axis=0), ind.decimals)
            else:
                parts = _allocate_monotone(np.maximum(remainder, 0), shares, integer=ind.decimals == 0)
                parts = np.round(parts, ind.decimals)
            # what rounding left over goes to the largest province, so China is the exact sum
            largest = int(np.argmax(shares[:, -1]))
            parts[largest] = np.round(parts[largest] + np.maximum(remainder, 0) - parts.sum(axis=0), ind.decimals)
        else:
            median = float(np.median(list(PROVINCE_WEIGHTS.values())))
            spread = SHARE_SPREAD.get(indicator_id, 1.0)
            parts = []
            for c in codes:
                lift = float(np.clip(spread * np.log(PROVINCE_WEIGHTS[c] / median), -0.6 * china.min(), 3 * spread))
                wobble = _rng(self.seed, indicator_id, c).normal(0, 0.15 * spread)
                parts.append(np.round(np.maximum(china + lift + wobble + profile.growth * 0.2 * span, 0.1),
                                      ind.decimals))
        for c, series in zip(codes, parts):
            if c in CAPITALS:  # a province whose cities the demo covers: they add up to it
                series = self.split(indicator_id, c, series, profile, _rng(self.seed, indicator_id), annual)
            self.emit(indicator_id, c, series, flow=flow, annual=annual)

    def split(self, indicator_id: str, province: str, total: np.ndarray, profile: Profile, rng,
              annual: bool) -> np.ndarray:
        """Emit the cities of a province; returns the province series (adjusted where whole-unit
        steps of a designed city had to lift it)."""
        ind = self.config.indicator(indicator_id)
        flow = ind.kind == "flow"
        weights = self.weights(province, profile.spread)
        kids = sorted(weights)
        if ind.aggregation != "sum":
            # not additive: each city its own level around the province's (rates, scores, mixed counts)
            for code in kids:
                r = _rng(self.seed, indicator_id, code)
                if indicator_id in NOT_ADDITIVE_GROWTH_IS_POINTS:
                    series = total + r.normal(0, 1.2)
                else:  # counts that include province-level units: a city holds a small part
                    series = np.maximum.accumulate(np.round(total * weights[code] * 0.8))
                self.emit(indicator_id, code, np.round(series, ind.decimals), flow=flow, annual=annual)
            return total
        # each city drifts at its own pace around its weight
        drift = {c: (1 + _rng(self.seed, indicator_id, c, "g").normal(0, 0.03)) ** ((self.months - self.months[0]) / 12)
                 for c in kids}
        anchors = {c: self.anchors_for(indicator_id, c, flow=flow) for c in kids}
        # a city is pinned by its anchors only where one falls inside the months generated (an
        # ``end`` before a city's first published figure leaves that city free)
        years = self.months // 12
        fixed = [c for c in kids if any((years == y).any() for y in (*anchors[c][1], *anchors[c][2]))] if flow else \
            [c for c in kids if any((self.months == k).any() for k in anchors[c][0])]
        free = [c for c in kids if c not in fixed]
        values: dict[str, np.ndarray] = {}
        if flow:
            for c in free:
                values[c] = total * weights[c] * drift[c]
            for c in fixed:
                values[c] = self._pin_flow(total, anchors[c][1], anchors[c][2], ind.decimals)
            fixed_sum = sum((values[c] for c in fixed), np.zeros(len(self.months)))
            free_sum = sum(values[c] for c in free)
            safe = np.where(free_sum > 0, free_sum, 1)
            for c in free:
                values[c] = np.round(values[c] / safe * np.maximum(total - fixed_sum, 0), ind.decimals)
            largest = max(free, key=lambda c: weights[c])
            values[largest] = np.round(values[largest] + total - sum(values[c] for c in kids), ind.decimals)
        else:
            for c in fixed:
                stock = anchors[c][0]
                if profile.step:
                    values[c] = _steps({k: round(v) for k, v in stock.items()}, self.months, profile.growth,
                                       _rng(self.seed, indicator_id, c))
                else:
                    xs = sorted(k for k in stock if (self.months == k).any())
                    shares = [stock[k] / total[self.months == k][0] for k in xs]
                    series = np.maximum.accumulate(np.round(total * np.interp(self.months, xs, shares), ind.decimals))
                    for k in xs:
                        series[self.months == k] = stock[k]
                    values[c] = series
            fixed_sum = sum((values[c] for c in fixed), np.zeros(len(self.months)))
            remainder = total - fixed_sum
            if profile.step and fixed:
                # whole units: the free cities' part steps through the province's anchors minus
                # what the designed cities hold there, so every province anchor stays exact
                prov = {k: v for k, v in self.anchors_for(indicator_id, province, flow=False)[0].items()
                        if (self.months == k).any()} or {int(self.months[-1]): float(total[-1])}
                free_anchors = {k: round(v - fixed_sum[self.months == k][0]) for k, v in prov.items()}
                remainder = np.maximum.accumulate(
                    _steps(free_anchors, self.months, profile.growth, _rng(self.seed, indicator_id, province, "free")))
                total = fixed_sum + remainder
            shares = np.array([weights[c] * drift[c] for c in free])
            allocated = _allocate_monotone(remainder, shares, integer=ind.decimals == 0)
            for c, row in zip(free, allocated):
                values[c] = row
        for c in kids:
            self.emit(indicator_id, c, values[c], flow=flow, annual=annual)
        return total

    def _pin_flow(self, total: np.ndarray, years: dict, ytd: dict, decimals: int) -> np.ndarray:
        """A part of ``total`` whose pinned year totals and Jan..k sums hold exactly: its share of
        each pinned year, interpolated between pinned years and held beyond them."""
        year_of = self.months // 12
        pinned = {}
        for y in sorted(set(years) | set(ytd)):
            sel = np.where(year_of == y)[0]
            if y in ytd:
                k, partial = ytd[y]
                base = total[sel[:k]].sum()
                goal = partial * min(len(sel), k) / k  # prorated when ``end`` falls before month k
            else:
                base = total[sel].sum()
                goal = years[y] * (len(sel) / 12 if len(sel) < 12 else 1)
            if len(sel) and base > 0:
                pinned[y] = min(goal / base, 1.0)  # a city never exceeds its province
        ys = sorted(pinned)
        share = np.interp(year_of, ys, [pinned[y] for y in ys]) if ys else np.zeros(len(self.months))
        out = total * share
        for y in sorted(set(years) | set(ytd)):
            sel = np.where(year_of == y)[0]
            if not len(sel):
                continue
            segments = []
            if y in ytd:
                k, partial = ytd[y]
                if len(sel) >= k:
                    segments.append((sel[:k], partial))
                if y in years and len(sel) == 12:
                    segments.append((sel[k:], years[y] - partial))
            elif len(sel) == 12:
                segments.append((sel, years[y]))
            for idx, goal in segments:
                if not len(idx) or out[idx].sum() <= 0:
                    continue
                scaled = out[idx] * goal / out[idx].sum()
                if decimals == 0:
                    out[idx] = _round_preserving(scaled, round(goal))
                else:
                    rounded = np.round(scaled, decimals)
                    rounded[-1] += round(goal - rounded.sum(), decimals)
                    out[idx] = rounded
        return np.round(out, decimals)


def _round_years(amounts: np.ndarray, months: np.ndarray, decimals: int) -> np.ndarray:
    """Round monthly amounts to the indicator's decimals, keeping each year's (rounded) total."""
    out = amounts.copy()
    for y in np.unique(months // 12):
        sel = np.where(months // 12 == y)[0]
        goal = round(amounts[sel].sum(), decimals)
        if decimals == 0:
            out[sel] = _round_preserving(amounts[sel], goal)
        else:
            part = np.round(amounts[sel], decimals)
            part[-1] = round(part[-1] + goal - part.sum(), decimals)
            out[sel] = part
    return out


def _allocate_monotone(remainder: np.ndarray, weights: np.ndarray, *, integer: bool) -> np.ndarray:
    """Split a province remainder among cities month by month so each city's stock never falls
    while the remainder grows: each month's increase goes to the cities furthest below their share."""
    n, months = weights.shape
    out = np.zeros((n, months))

    def split_amount(amount: float, by: np.ndarray) -> np.ndarray:
        by = by if by.sum() > 0 else np.ones(n)
        raw = amount * by / by.sum()
        return _round_preserving(raw, round(amount)) if integer else raw

    out[:, 0] = split_amount(remainder[0], weights[:, 0])
    for t in range(1, months):
        prev = out[:, t - 1]
        delta = remainder[t] - remainder[t - 1]
        goal = remainder[t] * weights[:, t] / weights[:, t].sum()
        if delta >= 0:
            out[:, t] = prev + split_amount(delta, np.maximum(goal - prev, 0))
        else:
            take = np.minimum(split_amount(-delta, np.maximum(prev - goal, 0)), prev)
            out[:, t] = prev - take
            short = -delta - take.sum()
            if short > 1e-9:  # cap hit: take the rest from the largest
                out[np.argmax(out[:, t]), t] -= short
    return out


def generate_demo(config: Config, regions, population, end: str, *, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Monthly observations from 2019-01 to ``end`` for China, every province (the other 29 only for
    NATIONAL_INDICATORS), the cities of Shanxi and Shaanxi and 杨凌.

    Columns: region_code, indicator_id, month, value, origin (published | estimated | demo),
    source_url, note.
    """
    frame = _Generator(config, regions, population, end, seed).generate()
    frame = frame[frame["month"] <= end]
    return frame.reset_index(drop=True)


def demo_end_for(today_month: str) -> str:
    """The last full month before ``today_month``."""
    return month_from_index(month_index(today_month) - 1)
