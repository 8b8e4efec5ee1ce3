"""The national-scale store's files and bulk load for ``python -m bench``: the generated values
(devtools/national.py) written as a full-history upload, and loaded into a store as one batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def write_history_csv(frame: pd.DataFrame, path: Path) -> int:
    """A full-history upload as data staff would send it: long, UTF-8, one row per value
    (地区 as code, 指标 as id, 期间, 数值). Returns the rows written."""
    frame[["region_code", "indicator_id", "month", "value"]].rename(
        columns={"region_code": "地区", "indicator_id": "指标", "month": "期间", "value": "数值"}
    ).to_csv(path, index=False, float_format="%.15g")
    return len(frame)


def bulk_load(store, observations: pd.DataFrame | Iterable[pd.DataFrame], *,
              note: str = "全国规模基准测试数据（虚构）") -> int:
    """Write observations (a frame, or its parts as they are generated: ``national_parts``) into
    the store as one batch with DuckDB's own bulk insert (observations and their history), as the
    loader's commit would record them; returns the batch id.

    One transaction, written a part at a time: only the current part is held as a frame (DuckDB
    writes a large transaction's rows to the file as it goes; the national build peaks near 1 GB).
    Each key must be new to the store and appear once in ``observations``: the store has no
    primary key to refuse a duplicate (the benchmark loads a new, empty store)."""
    if isinstance(observations, pd.DataFrame):
        observations = (part for _, part in observations.groupby("indicator_id", observed=True, sort=False))
    with store.transaction() as con:
        batch_id = con.execute(
            "INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, rows_inserted, "
            "rows_updated, rows_unchanged, note, kind, rows_warnings) "
            "VALUES (?, '', now(), 'bench', 'demo', 0, 0, 0, 0, ?, 'load', 0) RETURNING id",
            ["national-bench", note],
        ).fetchall()[0][0]
        written = 0
        for part in observations:
            _insert(con, part, batch_id)
            written += len(part)
        con.execute("UPDATE load_batches SET file_hash = ?, rows_total = ?, rows_inserted = ? WHERE id = ?",
                    [f"national-{written}", written, written, batch_id])
    return int(batch_id)


def _insert(con, frame: pd.DataFrame, batch_id: int) -> None:
    con.register("incoming", frame[["region_code", "indicator_id", "month", "value"]])
    con.execute("INSERT INTO observations SELECT region_code::VARCHAR, indicator_id::VARCHAR, month::VARCHAR, "
                "value, 'demo', ?, NULL, ? FROM incoming", [batch_id, "示例数据（基准测试）"])
    con.execute("INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, "
                "source_batch, source_url, note, recorded_at) SELECT ?, region_code::VARCHAR, "
                "indicator_id::VARCHAR, month::VARCHAR, value, 'demo', ?, NULL, ?, now() FROM incoming",
                [batch_id, batch_id, "示例数据（基准测试）"])
    con.unregister("incoming")
