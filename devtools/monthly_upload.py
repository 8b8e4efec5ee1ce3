"""A month's upload as a national office would send it, generated: every city and county of China
× the stored monthly indicators, GBK-encoded with a title row (``python -m bench.upload`` measures
validating it; tests/test_bench_upload.py checks it loads back exactly).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

MONTH = "2026-09"
PREVIOUS = "2026-08"


def monthly_file(config, regions, rows: int, *, wide: bool, seed: int = 7) -> tuple[bytes, pd.DataFrame]:
    """A reproducible GBK upload of ``rows`` values (or a little more), and the values as a frame.

    Every city and county × every stored monthly indicator is ~83,000 values a month, so 100,000
    values take the month before as well (as a correction of last month is sent along)."""
    rng = np.random.default_rng(seed)
    indicators = [i for i in config.indicators if i.kind != "derived" and i.frequency == "monthly"]
    places = [r for r in regions if r.level in ("city", "county") and not r.is_grouping]
    per_month = len(places) * len(indicators)
    months = [PREVIOUS, MONTH][-1 - (rows > per_month):]
    keep = -(-rows // (len(indicators) * len(months)))  # ceil: places needed
    places = places[:keep]
    labels = [r.code if k % 10 < 7 else r.full_name for k, r in enumerate(places)]  # 30 % by full name
    frames, out = [], io.StringIO()
    out.write(f"{MONTH[:4]}年{int(MONTH[5:])}月全国知识产权主要指标\n")
    writer = csv.writer(out)
    writer.writerow(["地区", "期间", *(f"{i.name}（{i.unit}）" for i in indicators)] if wide
                    else ["地区", "指标", "期间", "数值"])
    values = rng.integers(10_000, 11_000, size=(len(places), len(indicators))).astype(float)
    for month in months:
        values = values + rng.integers(0, 100, size=values.shape)  # stocks grow a little each month
        frames.append(pd.DataFrame({"region_code": np.repeat([r.code for r in places], len(indicators)),
                                    "indicator_id": np.tile([i.id for i in indicators], len(places)),
                                    "month": month, "value": values.ravel()}))
        for label, row in zip(labels, values):
            if wide:
                writer.writerow([label, month, *(f"{v:.0f}" for v in row)])
            else:
                writer.writerows([label, ind.name, month, f"{v:.0f}"] for ind, v in zip(indicators, row))
    return out.getvalue().encode("gb18030"), pd.concat(frames, ignore_index=True)
