"""地图, 状态矩阵 and 排名 through AppTest against the demo store, asserting on what a person sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.evaluation import Status

ROOT = Path(__file__).parent.parent
STATUSES = {s.value for s in Status}
SHANXI_CITIES = {"太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市", "忻州市", "临汾市", "吕梁市"}
JINCHENG_COUNTIES = {"城区", "沁水县", "阳城县", "陵川县", "泽州县", "高平市"}


def shown(at: AppTest) -> AppTest:
    assert not at.exception, "\n".join(e.message + "\n" + "\n".join(e.stack_trace) for e in at.exception)
    return at


@pytest.fixture
def app(dashboard_store, fresh_streamlit_caches) -> AppTest:
    """The dashboard as it opens (target set 晋城市 2025, 晋城市, as of 2026-10): regional views
    compare 山西省各市 first."""
    return shown(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run())


def scope(at: AppTest, choice: str) -> AppTest:
    """Choose the regional views' 比较范围: "siblings" (the province's cities) or "children" (counties)."""
    return shown(at.get("button_group")[0].set_value(choice).run())


def on_page(at: AppTest, page: str) -> AppTest:
    return shown(at.switch_page(f"pages/{page}.py").run())


def figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def map_regions(fig: dict) -> dict[str, str]:
    """Region name → legend entry of the choropleth trace that draws it."""
    drawn = {}
    for trace in fig["data"]:
        if trace["type"] == "choroplethmap" and trace.get("subplot", "map") == "map":  # not the 南海诸岛 inset
            for row in trace["customdata"]:
                drawn[row[1]] = trace["name"]
    return drawn


# --------------------------------------------------------------------------- 地图


def test_map_of_shanxi_colours_its_eleven_cities_by_target_status(app):
    on_page(app, "map")
    assert app.title[0].value == "山西省各市 · 有效发明专利拥有量"
    fig = figure(app)
    drawn = map_regions(fig)
    assert set(drawn) == SHANXI_CITIES
    assert {name.split("（")[0] for name in drawn.values()} <= STATUSES
    assert fig["layout"]["map"]["style"] == "white-bg"  # no tiles: nothing to fetch
    assert any(t["type"] == "scattermap" and t["name"] == "山西省边界" for t in fig["data"])
    assert "晋城市按本地区目标评估" in app.caption[0].value
    # Hover: region, value, target, status and the explanation sentence.
    jincheng = next(row for t in fig["data"] if t["type"] == "choroplethmap" for row in t["customdata"]
                    if row[1] == "晋城市")
    assert jincheng[0] == "140500" and jincheng[3] == "700件" and jincheng[4] in STATUSES and jincheng[5]
    assert any("山西转型综合改革示范区（149900）" in i.value for i in app.info)  # reported, not dropped


def test_map_by_value_per_capita_uses_a_colour_scale_in_units_per_10k(app):
    on_page(app, "map")
    shown(app.get("button_group")[1].set_value("per_capita").run())
    fig = figure(app)
    scale = [t for t in fig["data"] if t["type"] == "choroplethmap" and "z" in t and t.get("name") == "数值"]
    assert len(scale) == 1 and len(scale[0]["customdata"]) == 11
    assert scale[0]["colorbar"]["title"]["text"] == "件/万人"
    assert "每万人口值 = 指标值 ÷ 常住人口 × 10000" in app.caption[0].value


def test_map_of_a_city_draws_every_county_grey_as_no_data(app):
    on_page(app, "map")
    scope(app, "children")
    shown(app.get("button_group")[1].set_value("value").run())
    assert app.title[0].value == "晋城市各区县 · 有效发明专利拥有量"
    drawn = map_regions(figure(app))
    assert set(drawn) == JINCHENG_COUNTIES
    assert set(drawn.values()) == {"无数据（6）"}  # never coloured as zero
    table = app.dataframe[0].value
    assert table["数值"].isna().all()


def test_a_city_set_is_never_offered_for_the_province_above_it(app):
    options = app.selectbox(key="region").options
    assert options[0] == "晋城市" and "山西省" not in options and set(options) >= SHANXI_CITIES


def test_the_county_choice_appears_under_a_city(app):
    county = app.selectbox(key="county")
    assert county.value == "140500" and len(county.options) == 7
    shown(county.set_value("140502").run())
    on_page(app, "map")
    assert app.title[0].value.startswith("晋城市各区县")  # a county shows its city's counties


# --------------------------------------------------------------------------- 状态矩阵


def test_grid_shows_the_cities_of_shanxi_against_the_shanxi_plan_applied_per_capita(app):
    shown(app.selectbox(key="target_set").set_value("shanxi_14th_plan").run())
    on_page(app, "grid")
    assert app.title[0].value == "山西省各市 · 山西省“十四五”知识产权规划（基数跟踪与重点任务）"
    assert "按常住人口比例折算" in app.info[0].value and "山西省的目标" in app.info[0].value
    heatmap = figure(app)["data"][0]
    assert heatmap["type"] == "heatmap"
    rows = [label.split("（")[0] for label in heatmap["y"]]
    assert set(rows) >= SHANXI_CITIES
    assert [x.replace("<br>", "") for x in heatmap["x"]] == ["每万人口发明专利拥有量", "专利密集型产业增加值占GDP比重",
                                                          "知识产权保护社会满意度"]
    behind = [int(label.split("滞后")[1].rstrip("）")) for label in heatmap["y"]]
    assert behind == sorted(behind, reverse=True)
    summary = app.dataframe[0].value
    assert summary["滞后目标数"].tolist() == behind


# --------------------------------------------------------------------------- 排名


def test_rankings_rank_the_eleven_cities_with_change_growth_and_share(app):
    on_page(app, "rankings")
    assert app.title[0].value == "山西省各市排名 · 有效发明专利拥有量"
    table = app.dataframe[0].value
    assert set(table["地区"]) == SHANXI_CITIES and table["排名"].tolist() == list(range(1, 12))
    assert table["数值"].is_monotonic_decreasing
    assert table["占山西省%"].sum() == pytest.approx(100)
    assert table["同比%"].notna().all() and table["环比%"].notna().all()
    assert table["排名变化（12个月）"].notna().all()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["由各市汇总（各市数值相加）"] == metrics["山西省直接报送值"] == "43,633件"
    assert not [w for w in app.warning if "汇总值与直接报送值相差" in w.value]


def test_a_ratio_is_rolled_up_from_its_parts_and_a_disagreement_is_warned_about(app):
    on_page(app, "rankings")
    shown(app.selectbox(key="rank_indicator").set_value("invention_patents_per_10k").run())
    metrics = {m.label: m.value for m in app.metric}
    assert "由各市汇总（各市分子、分母分别加总后重算比值）" in metrics
    # The province's population is not the sum of its cities' in the reference data: flagged.
    assert any("汇总值与直接报送值相差" in w.value and "容差" in w.value for w in app.warning)
    assert "占比" in app.caption[1].value or "不可加总" in app.caption[1].value


def test_a_not_additive_indicator_says_it_cannot_be_rolled_up(app):
    on_page(app, "rankings")
    shown(app.selectbox(key="rank_indicator").set_value("patent_intensive_share").run())
    assert any("不可由下级地区加总" in i.value for i in app.info)


# --------------------------------------------------------------------------- 全国 (a national target set)


@pytest.fixture
def national(dashboard_store, fresh_streamlit_caches) -> AppTest:
    """The dashboard with the national target set (国发〔2021〕20号) chosen: 全国 in the region box."""
    at = shown(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run())
    return shown(at.selectbox(key="target_set").set_value("national_14th_plan").run())


def test_a_national_set_offers_every_province_and_drills_to_a_city_and_its_counties(national):
    assert national.selectbox(key="region").options[:3] == ["全国", "北京市", "天津市"]
    assert len(national.selectbox(key="region").options) == 32
    shown(national.selectbox(key="region").set_value("140000").run())
    cities = national.selectbox(key="city").options
    assert cities[0] == "（全省）" and set(cities[1:]) == SHANXI_CITIES | {"山西转型综合改革示范区"}
    shown(national.selectbox(key="city").set_value("140500").run())
    assert set(national.selectbox(key="county").options) == {"（全市）", *JINCHENG_COUNTIES}
    on_page(national, "grid")
    assert national.title[0].value.startswith("山西省各市")  # a city compares with its province's cities first
    scope(national, "children")
    assert national.title[0].value.startswith("晋城市各区县")


def test_the_map_of_china_draws_its_31_provinces_taiwan_hong_kong_and_macao_with_the_countrys_outline(national):
    on_page(national, "map")
    assert national.title[0].value.startswith("全国各省 · ")
    fig = figure(national)
    drawn = map_regions(fig)
    assert len(drawn) == 31 + 3 and {"山西省", "陕西省", "新疆维吾尔自治区", "海南省"} <= set(drawn)
    # part of China, without statistics in this product: drawn, grey, and the hover says why
    for name in ("台湾省", "香港特别行政区", "澳门特别行政区"):
        assert drawn[name].startswith("无数据")
    hover = {row[1]: row[5] for t in fig["data"] if "customdata" in t for row in t["customdata"]}
    assert "不含港澳台" in hover["台湾省"]
    assert any(t["type"] == "scattermap" and t["name"] == "全国边界" for t in fig["data"])
    # a standard map of China: the maritime boundary on the map, 南海诸岛 in an inset of its own
    assert any(t["type"] == "scattermap" and t["name"] == "海上边界" and t.get("subplot", "map") == "map"
               for t in fig["data"])
    assert {t.get("name") for t in fig["data"] if t.get("subplot") == "map2"} >= {"全国边界（南海诸岛）", "海上边界（南海诸岛）"}
    assert fig["layout"]["map2"]["style"] == "white-bg"
    assert any(a["text"] == "南海诸岛" for a in fig["layout"]["annotations"])
    # every region named on the map, by its short name; the smallest set off over the sea in black
    labels = [t for t in fig["data"] if t.get("name") == "地区名称"]
    named = [name for t in labels for name in t["text"]]
    assert len(named) == 34 and {"北京", "天津", "上海", "香港", "澳门", "台湾", "内蒙古", "新疆"} <= set(named)
    on_white = next(t for t in labels if t["textfont"]["color"] == "#222")
    assert {"天津", "上海", "香港", "澳门"} <= set(on_white["text"])
    # the demo holds the national set's figures for every province: none of the 31 is grey
    provinces = {k: v for k, v in drawn.items() if k not in ("台湾省", "香港特别行政区", "澳门特别行政区")}
    assert not any(v.startswith("无数据") for v in provinces.values())


def test_the_status_grid_and_rankings_of_china_compare_the_provinces(national):
    on_page(national, "grid")
    assert national.title[0].value.startswith("全国各省 · ")
    on_page(national, "rankings")
    assert national.title[0].value.startswith("全国各省排名 · ")
    ranked = national.dataframe[0].value
    assert set(ranked["地区"]) >= {"山西省", "陕西省"}
