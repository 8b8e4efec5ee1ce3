"""The status grid: every city of a province × every indicator target of a set, sorted by behind, each
cell what evaluating its region on its own gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.context import Context
from monitor.evaluation import Status
from monitor.evaluation.targetset import evaluate_target_set
from monitor.views.grid import BEHIND_STATUSES, GRID_COLUMNS, status_grid

STATUSES = {s.value for s in Status}


@pytest.fixture(scope="module")
def demo_ctx(demo_store_file, config, regions, population) -> Context:
    from monitor.store.database import Store

    return Context(config, regions, population, Store(demo_store_file))


def test_the_shanxi_plan_is_evaluated_for_every_city_and_says_it_is_applied_per_capita(demo_ctx, regions):
    grid = status_grid(demo_ctx, "shanxi_14th_plan", "140000", "2026-10")
    cities = [r.code for r in regions.cities_of("140000", include_groupings=False)]
    assert sorted(grid.regions) == sorted(cities)
    assert grid.targets == ["sx14_invention_per_10k", "sx14_patent_intensive_share", "sx14_protection_satisfaction"]
    assert len(grid.cells) == len(cities) * 3
    assert set(grid.cells["status"]) <= STATUSES
    assert grid.scaled_note.startswith("各地区没有本目标集的自有目标：矩阵比较的是山西省的目标适用于各地区的结果")
    assert "按常住人口比例折算" in grid.scaled_note
    assert grid.matrix().shape == (len(cities), 3)


def test_rows_are_sorted_by_the_number_of_targets_behind(demo_ctx):
    grid = status_grid(demo_ctx, "shaanxi_2022", "610000", "2022-10")
    behind = grid.behind_counts().tolist()
    assert behind == sorted(behind, reverse=True) and behind[0] > behind[-1]
    counted = grid.cells[grid.cells["status"].isin(BEHIND_STATUSES)].groupby("region_code").size()
    assert counted.reindex(grid.regions, fill_value=0).tolist() == behind
    assert "sn22_strong_province_outline" not in grid.targets  # tasks are the province's own work


def test_sorting_by_code_keeps_the_division_order(demo_ctx):
    grid = status_grid(demo_ctx, "shanxi_14th_plan", "140000", "2026-10", sort="code")
    assert grid.regions == sorted(grid.regions)


def test_a_city_set_names_the_city_judged_on_its_own_targets(demo_ctx):
    grid = status_grid(demo_ctx, "jincheng_2025", "140000", "2026-10")
    assert grid.scaled_note.startswith("晋城市按本地区目标评估；其他地区比较的是晋城市的目标")
    jincheng = grid.cells[(grid.cells["region_code"] == "140500") & (grid.cells["target_id"] == "jc_invention_patents")]
    assert jincheng["target_value"].iloc[0] == 700 and jincheng["adjusted"].isna().all()


def _same(a, b) -> bool:
    missing = [x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)) for x in (a, b)]
    if any(missing):
        return all(missing)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9))


@pytest.mark.parametrize(("set_id", "parent", "as_of"), [
    ("jincheng_2025", "140000", "2024-06"), ("shanxi_14th_plan", "140000", "2026-10"),
    ("shaanxi_2022", "610000", "2022-10"), ("shaanxi_outline_2025", "610000", "2023-06"),
    ("national_14th_plan", "140000", "2021-03"), ("jincheng_2025", "140500", "2024-06"),
])
def test_every_cell_is_what_evaluating_its_region_alone_gives(demo_ctx, set_id, parent, as_of):
    grid = status_grid(demo_ctx, set_id, parent, as_of, sort="code")
    cells = grid.cells.set_index(["region_code", "target_id"])
    compared = 0
    for code in grid.regions:
        alone = evaluate_target_set(demo_ctx, set_id, as_of, code)
        for row in alone[alone["type"] != "milestone"].to_dict("records"):
            cell = cells.loc[(code, row["target_id"])]
            for column in GRID_COLUMNS[2:]:
                if column in ("target_id", "region_name"):
                    continue
                expected = row[column]
                if column == "has_demo":  # not set where no target applies (no population figure): False
                    expected = expected if isinstance(expected, (bool, np.bool_)) else False
                assert _same(cell[column], expected), f"{column} of {row['target_id']} in {code}: {row['explanation']}"
            compared += 1
    assert compared == len(grid.cells) > 0


def test_reordering_a_grid_is_a_view_change_that_keeps_its_cells(demo_ctx):
    by_code = status_grid(demo_ctx, "shanxi_14th_plan", "140000", "2026-10", sort="code")
    behind = by_code.ordered("behind")
    assert behind.cells is by_code.cells  # nothing evaluated again
    assert behind.regions == status_grid(demo_ctx, "shanxi_14th_plan", "140000", "2026-10").regions
    assert behind.regions != by_code.regions and behind.ordered("code").regions == by_code.regions


@pytest.mark.parametrize(("progress", "status", "shown"), [
    (17.63, "已达成", "超额"),  # never 1763 %
    (1.0, "已达成", "100%"),
    (0.996, "滞后", "99%"),  # short of the target never reads 100 % in a red cell
    (0.5, "按期推进", "50%"),
    (1.2, "需加快", "99%"),  # past the line's end but not reached: still not done
    (-0.2, "滞后", "-20%"),
    (None, "无数据", None),
])
def test_a_progress_label_never_contradicts_its_status(progress, status, shown):
    from monitor.views.charts import progress_label

    assert progress_label(progress, status) == shown


def test_column_labels_break_between_words_not_inside_a_latin_one():
    from monitor.views.charts import _wrap

    assert _wrap("专利密集型产业增加值占GDP比重", 5) == "专利密集型<br>产业增加值<br>占GDP比重"


@pytest.mark.parametrize(("label", "lines"), [
    ("地理标志商标", ["地理标志", "商标"]), ("有效注册商标量", ["有效", "注册商标量"]),
    ("农产品地理标志登记", ["农产品", "地理标志", "登记"]), ("作品著作权登记量", ["作品著作权", "登记量"]),
    ("知识产权使用费进出口总额", ["知识产权", "使用费", "进出口总额"]),
])
def test_column_labels_break_between_chinese_words_not_inside_one(label, lines):
    from monitor.views.charts import _wrap

    assert _wrap(label, 5).split("<br>") == lines


def test_a_run_with_no_word_boundary_still_breaks_at_the_width():
    from monitor.views.charts import _wrap

    assert _wrap("甲乙丙丁戊己庚辛", 5) == "甲乙丙丁戊<br>己庚辛"


def test_on_a_phone_a_chart_title_breaks_at_its_separators_and_the_plot_keeps_its_height():
    from monitor.views.charts import fit_title, trajectory_figure

    fig = trajectory_figure(pd.DataFrame(columns=["month", "value", "origin"]), title="专利密集型产业增加值占GDP比重",
                            region_name="山西转型综合改革示范区", unit="%", as_of="2026-10")
    fitted = fit_title(fig, 350)
    assert fitted.layout.title.text == ("山西转型综合改革示范区 ·<br>专利密集型产业增加值占GDP比重<br>"
                                        "<sup>单位：%　数据截至2026年10月</sup>")
    added = fitted.layout.height - fig.layout.height
    assert added > 0 and fitted.layout.margin.t - fig.layout.margin.t == added
    assert fig.layout.title.text.count("<br>") == 1  # the desk's figure, exported as it is, unchanged
    assert fit_title(fig, 1200) is fig
