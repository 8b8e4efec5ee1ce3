"""The region registry: codes, the tree, and turning what people write into a code."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from monitor.domain.regions import (
    SPECIAL_REGIONS,
    RegionRegistry,
    load_regions,
    normalize_code,
    short_name_of,
)
from monitor.errors import (
    AmbiguousRegionError,
    LoadError,
    RegionError,
    UnknownRegionError,
)

REFERENCE_DIR = Path(__file__).parent.parent / "data" / "reference"
DIVISIONS = REFERENCE_DIR / "divisions"


@pytest.fixture(scope="module")
def regions() -> RegionRegistry:
    return load_regions(REFERENCE_DIR)


def _rows(name: str) -> list[dict[str, str]]:
    with (DIVISIONS / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _codes(regions_list) -> list[str]:
    return [r.code for r in regions_list]


# --- what is in the registry -------------------------------------------------------------------

def test_registry_holds_every_row_of_the_division_files(regions):
    provinces, cities, areas = _rows("provinces.csv"), _rows("cities.csv"), _rows("areas.csv")
    by_level = {level: [r for r in regions if r.level == level] for level in ("province", "city", "county")}
    assert len(provinces) == len(by_level["province"]) == 31
    assert len(cities) == len(by_level["city"]) == 342
    # 2,978 county rows, three of which repeat a city without counties under its own code
    assert len(areas) == 2978
    assert len(by_level["county"]) == 2978 - 3


def test_cities_without_counties_appear_once_as_cities(regions):
    for code, name in [("441900", "东莞市"), ("442000", "中山市"), ("460400", "儋州市")]:
        assert regions[code].level == "city"
        assert regions[code].name == name
        assert regions.children(code) == []


def test_nbs_codes_are_padded_to_six_digits(regions):
    assert regions["140000"].name == "山西省"
    assert regions["140500"].name == "晋城市"
    assert regions["140500"].parent == "140000"
    assert regions["140502"].parent == "140500"


def test_special_regions_are_in_the_tree(regions):
    assert regions["100000"].level == "country" and regions["100000"].parent is None
    assert regions["619900"].level == "zone" and regions["619900"].parent == "610000"
    assert regions["619900"].territory == "610403"
    assert regions["149900"].level == "zone" and regions["149900"].parent == "140000"
    assert regions["149900"].territory is None
    assert all(regions[r.code].parent == "100000" for r in regions if r.level == "province")


def test_special_codes_cannot_collide_with_division_codes():
    listed = {row["code"] + "0000" for row in _rows("provinces.csv")}
    listed |= {row["code"] + "00" for row in _rows("cities.csv")}
    listed |= {row["code"] for row in _rows("areas.csv")}
    for code in SPECIAL_REGIONS:
        assert code not in listed
        assert code == "100000" or code[2:4] == "99"


def test_yangling_district_stays_a_county_of_xianyang(regions):
    assert regions["610403"].level == "county"
    assert regions["610403"].parent == "610400"


def test_unknown_code_is_a_key_error(regions):
    assert "999999" not in regions
    assert regions.get("999999") is None
    with pytest.raises(KeyError):
        regions["999999"]


# --- names and labels --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("晋城市", "晋城"),
        ("山西省", "山西"),
        ("广西壮族自治区", "广西"),
        ("新疆维吾尔自治区", "新疆"),
        ("内蒙古自治区", "内蒙古"),
        ("延边朝鲜族自治州", "延边"),
        ("伊犁哈萨克自治州", "伊犁"),
        ("积石山保安族东乡族撒拉族自治县", "积石山"),
        ("管城回族区", "管城"),
        ("东乡族自治县", "东乡"),
        ("神农架林区", "神农架"),
        ("浦东新区", "浦东"),
        ("阿里地区", "阿里"),
        ("锡林郭勒盟", "锡林郭勒"),
        ("城区", "城区"),
        ("矿区", "矿区"),
        ("白城市", "白城"),
    ],
)
def test_short_name_drops_the_administrative_suffix_but_never_leaves_one_character(name, short):
    assert short_name_of(name) == short


def test_no_region_has_a_one_character_short_name_except_chongqings_county_grouping(regions):
    assert [r.code for r in regions if len(r.short_name) < 2] == ["500200"]


def test_full_name_lists_the_parents(regions):
    assert regions["140502"].full_name == "山西省晋城市城区"
    assert regions["619900"].full_name == "陕西省杨凌示范区"
    assert regions["100000"].full_name == "全国"


def test_grouping_rows_keep_their_name_but_leave_it_out_of_their_counties_labels(regions):
    assert regions["110100"].name == "市辖区"
    assert regions["110100"].full_name == "北京市市辖区"
    assert regions["110100"].is_grouping
    assert regions["110101"].full_name == "北京市东城区"
    assert regions["419000"].level == "city"
    assert regions["419001"].full_name == "河南省济源市"


def test_names_for_lists_full_short_alias_and_qualified_names(regions):
    assert regions.names_for("140500") == ["晋城市", "晋城", "山西省晋城市"]
    assert "综改区" in regions.names_for("149900")
    assert regions.names_for("110100") == ["市辖区", "北京市市辖区"]


# --- the tree ----------------------------------------------------------------------------------

def test_children_of_shanxi_are_its_eleven_cities_and_the_reform_zone(regions):
    children = regions.children("140000")
    assert [r.code for r in children if r.level == "city"] == [f"14{n:02d}00" for n in range(1, 12)]
    assert _codes(children)[-1] == "149900"
    assert len(children) == 12


def test_children_of_shaanxi_are_its_ten_cities_and_yangling(regions):
    children = regions.children("610000")
    assert [r.code for r in children if r.level == "city"] == [f"61{n:02d}00" for n in range(1, 11)]
    assert "619900" in _codes(children)


def test_children_of_the_country_are_the_provinces(regions):
    assert len(regions.children("100000")) == 31
    assert {r.level for r in regions.children("100000")} == {"province"}


def test_children_of_a_city_are_its_counties_sorted_by_code(regions):
    assert _codes(regions.children("140500")) == ["140502", "140521", "140522", "140524", "140525", "140581"]


def test_parent_chain_runs_up_to_the_country(regions):
    assert _codes(regions.ancestors("140502")) == ["140500", "140000", "100000"]
    assert regions.ancestors("100000") == []


def test_descendants_and_is_within_follow_the_tree(regions):
    below = _codes(regions.descendants("140500"))
    assert below[0] == "140502" and "140500" not in below
    assert regions.is_within("140502", "140000")
    assert regions.is_within("140500", "140500")
    assert not regions.is_within("140000", "140500")
    assert not regions.is_within("610403", "619900")


def test_cities_of_a_province_include_zones_and_optionally_groupings(regions):
    assert regions.cities_of("140000") == regions.children("140000")
    assert _codes(regions.cities_of("410000"))[-1] == "419000"
    assert "419000" not in _codes(regions.cities_of("410000", include_groupings=False))
    with pytest.raises(RegionError, match="不是省级地区"):
        regions.cities_of("140500")


# --- resolve -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text", ["晋城", "晋城市", "140500", "1405", "山西省晋城市", "山西晋城", " 晋城市\u3000", "山西 晋城", "１４０５００"]
)
def test_jincheng_resolves_however_it_is_written(regions, text):
    assert regions.resolve(text) == "140500"


def test_cheng_qu_without_scope_is_ambiguous_and_the_message_names_the_candidates(regions):
    with pytest.raises(AmbiguousRegionError) as caught:
        regions.resolve("城区")
    codes = [code for code, _ in caught.value.candidates]
    assert {"140302", "140502"} <= set(codes)
    assert ("140502", "山西省晋城市城区") in caught.value.candidates
    assert "山西省晋城市城区（140502）" in str(caught.value)
    assert "山西省阳泉市城区（140302）" in str(caught.value)


def test_cheng_qu_within_jincheng_is_its_district(regions):
    assert regions.resolve("城区", within="140500") == "140502"
    assert regions.resolve("晋城市城区") == "140502"
    assert regions.resolve("山西晋城城区") == "140502"


def test_cheng_qu_within_shanxi_is_still_ambiguous(regions):
    with pytest.raises(AmbiguousRegionError) as caught:
        regions.resolve("城区", within="140000")
    assert [code for code, _ in caught.value.candidates] == ["140302", "140502"]


def test_jilin_is_ambiguous_between_province_and_city(regions):
    with pytest.raises(AmbiguousRegionError) as caught:
        regions.resolve("吉林")
    assert [code for code, _ in caught.value.candidates] == ["220000", "220200"]


def test_a_full_name_wins_over_short_names(regions):
    assert regions.resolve("吉林市") == "220200"
    assert regions.resolve("吉林省") == "220000"


def test_yangling_resolves_to_the_zone_and_yangling_district_to_the_county(regions):
    assert regions.resolve("杨凌") == "619900"
    assert regions.resolve("杨凌示范区") == "619900"
    assert regions.resolve("杨陵区") == "610403"


@pytest.mark.parametrize("text", ["山西转型综合改革示范区", "山西综改示范区", "综改示范区", "综改区"])
def test_the_reform_zone_resolves_by_any_of_its_names(regions, text):
    assert regions.resolve(text) == "149900"


def test_the_nbs_statistical_code_of_the_reform_zone_stays_valid(regions):
    assert regions.resolve("140171") == "140171"
    assert regions["140171"].parent == "140100"


@pytest.mark.parametrize("text", ["全国", "中国", "100000"])
def test_china_as_a_whole_resolves_to_100000(regions, text):
    assert regions.resolve(text) == "100000"


@pytest.mark.parametrize("text", ["全省", "合计", "总计"])
def test_totals_rows_are_not_regions(regions, text):
    with pytest.raises(UnknownRegionError):
        regions.resolve(text)


def test_an_unknown_name_suggests_the_closest_regions_first(regions):
    with pytest.raises(UnknownRegionError) as caught:
        regions.resolve("晋阳市")
    assert caught.value.suggestions[:2] == ["山西省晋城市", "山西省晋中市"]
    assert len(caught.value.suggestions) <= 5
    assert "「晋阳市」不是已知地区；是否是：山西省晋城市" in str(caught.value)


def test_suggestions_stay_within_the_scope(regions):
    with pytest.raises(UnknownRegionError) as caught:
        regions.resolve("阳成县", within="140500")
    assert caught.value.suggestions[0] == "山西省晋城市阳城县"
    assert all(s.startswith("山西省晋城市") for s in caught.value.suggestions)


def test_an_unknown_code_is_an_unknown_region(regions):
    with pytest.raises(UnknownRegionError, match="「140501」不是已知地区"):
        regions.resolve("140501")


def test_a_code_outside_the_scope_is_refused(regions):
    with pytest.raises(RegionError, match="不在山西省范围内"):
        regions.resolve("610100", within="140000")


def test_grouping_names_resolve_only_within_a_scope(regions):
    with pytest.raises(AmbiguousRegionError) as caught:
        regions.resolve("市辖区")
    assert [code for code, _ in caught.value.candidates] == ["110100", "120100", "310100", "500100"]
    assert regions.resolve("市辖区", within="110000") == "110100"
    assert regions.resolve("北京市市辖区") == "110100"
    with pytest.raises(UnknownRegionError) as single:
        regions.resolve("县")
    assert single.value.suggestions == ["重庆市县"]
    assert regions.resolve("县", within="500000") == "500200"


def test_a_name_with_its_province_resolves_where_the_bare_name_is_ambiguous(regions):
    with pytest.raises(AmbiguousRegionError):
        regions.resolve("朝阳")
    assert regions.resolve("北京朝阳") == "110105"
    assert regions.resolve("辽宁省朝阳市") == "211300"


def test_normalize_code_accepts_nbs_forms_only_when_written_as_a_code():
    assert normalize_code("14") == "140000"
    assert normalize_code("1405") == "140500"
    assert normalize_code("140500000000") == "140500"
    assert normalize_code("14050") is None
    assert normalize_code("晋城") is None


# --- loading -----------------------------------------------------------------------------------

def _write_divisions(root: Path, provinces: str, cities: str, areas: str) -> Path:
    divisions = root / "divisions"
    divisions.mkdir()
    (divisions / "provinces.csv").write_text(provinces, encoding="utf-8")
    (divisions / "cities.csv").write_text(cities, encoding="utf-8")
    (divisions / "areas.csv").write_text(areas, encoding="utf-8")
    return root


def test_a_small_division_set_loads_with_the_special_regions(tmp_path):
    root = _write_divisions(
        tmp_path,
        'code,name\n14,"山西省"\n61,"陕西省"\n',
        'code,name,provinceCode\n1405,"晋城市",14\n6104,"咸阳市",61\n',
        'code,name,cityCode,provinceCode\n140502,"城区",1405,14\n610403,"杨陵区",6104,61\n',
    )
    small = load_regions(root)
    assert len(small) == 2 + 2 + 2 + len(SPECIAL_REGIONS)
    assert small.resolve("城区") == "140502"
    assert _codes(small.children("140000")) == ["140500", "149900"]


def test_a_broken_division_file_reports_every_bad_row(tmp_path):
    root = _write_divisions(
        tmp_path,
        'code,name\n14,"山西省"\n',
        'code,name,provinceCode\n1405,"晋城市",14\n145,"坏代码",14\n',
        'code,name,cityCode,provinceCode\n140502,"城区",1405,14\n150502,"错位",1405,14\n',
    )
    with pytest.raises(LoadError) as caught:
        load_regions(root)
    assert len(caught.value.problems) == 2
    assert "cities.csv 第 3 行" in str(caught.value)
    assert "areas.csv 第 3 行：代码 150502 与市代码 1405 不符" in str(caught.value)


def test_a_missing_column_is_named(tmp_path):
    root = _write_divisions(tmp_path, "code,title\n14,山西省\n", "code,name,provinceCode\n", "code,name,cityCode,provinceCode\n")
    with pytest.raises(LoadError, match="provinces.csv 缺少列：name"):
        load_regions(root)


def test_the_small_registry_of_the_unit_tests_is_a_part_of_the_real_one(regions, small_regions):
    """tests/data/small/divisions: 山西省 with 太原市 and 晋城市 and five of their counties, with the
    real codes, names and parents (and the special regions every registry has)."""
    assert {r.level for r in small_regions} == {"country", "province", "city", "county", "zone"}
    assert [r.code for r in small_regions.children("140000") if r.level == "city"] == ["140100", "140500"]
    for region in small_regions:
        assert region == regions[region.code], region.code
