"""地区对比: each city of a province against its own target or the province's applied per resident,
judged as evaluating that city on its own judges it (evaluation.evaluate_target)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.context import Context
from monitor.domain.config import MilestoneTarget
from monitor.evaluation import evaluate_target
from monitor.evaluation.applied import scale_for_region
from monitor.store.series import as_series, indicator_values
from monitor.views.comparison import compare_regions, ranking_figure


@pytest.fixture(scope="module")
def demo_ctx(demo_store_file, config, regions, population) -> Context:
    from monitor.store.database import Store

    return Context(config, regions, population, Store(demo_store_file))


def _city_by_city(ctx, indicator_id: str, province: str, as_of: str, set_id: str | None) -> dict[str, dict]:
    """What each city's row says, evaluating the city's chosen target on its own series."""
    ind = ctx.config.indicator(indicator_id)
    codes = [r.code for r in ctx.regions.cities_of(province) if not r.is_grouping]
    values = indicator_values(ctx.store, ctx.config, ind.id, codes, ctx.population, until=as_of)
    pairs = [(s, t) for s in ctx.config.target_sets for t in s.targets
             if not isinstance(t, MilestoneTarget) and t.indicator == ind.id]
    mine = [p for p in pairs if p[0].region_of(p[1]) == province]
    preferred = [p for p in mine if p[0].id == set_id] or mine[-1:]
    chosen_of = {}
    for code in codes:
        own = [p for p in pairs if p[0].region_of(p[1]) == code]
        chosen_of[code] = own[0] if own else (preferred[0] if preferred else None)
    # one basis per chart: every city's value is the measure of the first applicable target
    basis = next((c for c in chosen_of.values() if c is not None and c[1].type != "above_reference"), None)
    rows = {}
    for code in codes:
        series = as_series(values, code)
        row = {"value": float(series.iloc[-1]) if len(series) else None, "period": series.index[-1] if len(series) else None,
               "target": None, "gap": None, "status": None, "explanation": None, "target_source": None}
        chosen = chosen_of[code]
        judged = False
        if chosen is not None:
            tset, target = chosen
            applied, note = scale_for_region(ctx, target, tset.region_of(target), code)
            if applied is not None and applied.type != "above_reference":
                result = evaluate_target(applied, ind, series, as_of)
                row.update(target=result.target_value, gap=result.gap, status=result.status.value,
                           explanation=result.explanation, value=result.current, period=result.current_period,
                           target_source=tset.short_title + (f"（{note}）" if note else "（本地区目标）"))
                judged = True
        if basis is not None and not judged:
            applied, _ = scale_for_region(ctx, basis[1], basis[0].region_of(basis[1]), code)
            measured = evaluate_target(applied, ind, series, as_of) if applied is not None else None
            row.update(value=measured.current if measured else None, period=measured.current_period if measured else None)
        rows[code] = row
    return rows


def _same(a, b) -> bool:
    missing = [x is None or (isinstance(x, float) and np.isnan(x)) for x in (a, b)]
    if any(missing):
        return all(missing)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-9))


@pytest.mark.parametrize("as_of", ["2022-06", "2025-06"])
@pytest.mark.parametrize(("province", "set_id"), [("140000", "jincheng_2025"), ("610000", "shaanxi_2022"),
                                                   ("610000", "shaanxi_outline_2025"), ("610000", None)])
def test_each_city_is_judged_as_evaluating_it_alone_judges_it(demo_ctx, province, set_id, as_of):
    indicators = sorted({t.indicator for s in demo_ctx.config.target_sets for t in s.targets
                         if not isinstance(t, MilestoneTarget)})
    judged = 0
    for indicator_id in indicators:
        frame = compare_regions(demo_ctx, indicator_id, province, as_of, set_id)
        expected = _city_by_city(demo_ctx, indicator_id, province, as_of, set_id)
        assert sorted(frame["region_code"]) == sorted(expected)
        for row in frame.to_dict("records"):
            for column, value in expected[row["region_code"]].items():
                assert _same(row[column], value), f"{column} of {indicator_id} in {row['region_code']}"
            judged += row["status"] is not None
    assert judged > 0


def test_a_city_with_its_own_target_says_so_and_the_others_have_none_without_a_province_target(demo_ctx):
    frame = compare_regions(demo_ctx, "copyright_registrations", "140000", "2024-06", "jincheng_2025")
    ranked = frame["rank"].dropna().tolist()
    assert ranked == sorted(ranked) and frame["rank"].isna().sum() == frame["value"].isna().sum()
    jincheng = frame.set_index("region_code").loc["140500"]
    assert jincheng["target_source"].endswith("（本地区目标）") and jincheng["target"] == 60
    # as of 2024-06 the 2025 target reads the latest complete year's total (2023), never one month's amount
    assert jincheng["period"] == "2023-12" and jincheng["measure"] == "年度合计（1—12月）"
    assert jincheng["value"] == demo_ctx.store.query(
        "SELECT sum(value) AS s FROM observations WHERE region_code = '140500' AND indicator_id = "
        "'copyright_registrations' AND month BETWEEN '2023-01' AND '2023-12'")["s"].iloc[0]
    others = frame[frame["region_code"] != "140500"]
    assert others["target"].isna().all()
    assert (others["period"].dropna() == "2023-12").all()  # every city on the same basis


def test_cities_of_a_province_are_judged_on_its_target_per_resident(demo_ctx):
    frame = compare_regions(demo_ctx, "copyright_registrations", "610000", "2024-06", "shaanxi_outline_2025")
    judged = frame[frame["status"].notna()]
    assert len(judged) >= 9
    assert judged["target_source"].str.contains("参考（按人口折算）").all()
    assert pd.api.types.is_float_dtype(frame["value"])


def test_the_page_and_the_briefing_draw_the_ranking_only_when_a_city_has_a_value(demo_ctx):
    frame = compare_regions(demo_ctx, "copyright_registrations", "140000", "2024-06", "jincheng_2025")
    figure = ranking_figure(demo_ctx, frame, "140000", "copyright_registrations", "2024-06")
    assert list(figure.data[0].y) == frame.dropna(subset=["value"]).sort_values("value")["region_name"].tolist()
    assert figure.layout.title.text.startswith("山西省各市作品著作权登记量排名（年度合计（1—12月），2023年12月）")
    assert ranking_figure(demo_ctx, frame.assign(value=np.nan), "140000", "copyright_registrations", "2024-06") is None


def test_the_gap_chart_leaves_room_for_the_label_of_its_longest_bar():
    import pandas as pd

    from monitor.views.charts import gap_figure

    frame = pd.DataFrame({"region_name": ["北京市", "辽宁省"], "gap": [-110.78, 0.53]})
    fig = gap_figure(frame, title="差距", unit="件/万人", as_of="2026-10", has_demo=False)
    low, high = fig.layout.xaxis.range
    assert low == 0 and high >= 110.78 * 1.2  # 「110.78件/万人」 sits right of the bar, inside the plot
