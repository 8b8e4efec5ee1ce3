"""History of the store: the batches, the rows of a batch, what a rollback would do (monitor/store/writer.py
does it), the store "as published" at a moment, and who has reported what for a month (completeness).

Every write appends to ``observation_log`` (schema 002), so:
- rolling back batch B writes, for each key B changed, the entry that preceded B's; it is refused
  when a later batch has changed one of those keys since (roll that one back first), so a
  rollback never silently undoes someone else's correction; a key a later batch re-reported
  unchanged (a confirmation, schema 5) keeps its value, now that batch's, and the preview says so;
- the store as published at time T is, per key, the last log entry recorded at or before T.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd

from monitor.domain.config import Config
from monitor.domain.periods import parse_month
from monitor.domain.yeartodate import YTD_SUFFIX
from monitor.errors import HistoryError
from monitor.store.database import Store, key_filter

BATCH_STATUS_LABELS = {"committed": "已生效", "rolled_back": "已回滚"}
BATCH_KIND_LABELS = {"load": "导入", "rollback": "回滚"}
# the demo's batches as stored (monitor/store/writer.py load_demo) and as a reader sees them
_DEMO_WORDS = {"demo-generator": "示例数据生成器", "（published）": "（公布值）", "（demo）": "（示例数据）"}


def batch_words(text) -> str:
    """A batch's 操作人 or 文件 in words a reader knows: 「示例数据生成器（示例数据）」, not
    「demo-generator」 or 「示例数据生成器（demo）」."""
    if not isinstance(text, str):
        return ""
    for stored, shown in _DEMO_WORDS.items():
        text = text.replace(stored, shown)
    return text


def list_batches(store: Store, *, limit: int | None = None) -> pd.DataFrame:
    """Every batch, newest first: id, kind, file_name, loaded_at, loaded_by, origin, counts, status,
    and its review (monitor/store/approval.py): review, reviewed_by, reviewed_at, review_note; and
    correction_reason, the reason given when it changed values of closed periods (a 更正,
    monitor/store/writer.py), else NULL."""
    sql = ("SELECT id, kind, file_name, file_hash, loaded_at, loaded_by, origin, rows_total, rows_inserted, "
           "rows_updated, rows_unchanged, rows_warnings, status, rolls_back, rolled_back_by, sheet, period, "
           "file_format, note, review, reviewed_by, reviewed_at, review_note, correction_reason FROM load_batches "
           "ORDER BY id DESC")
    params: list = []
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return store.query(sql, params)


def batch(store: Store, batch_id: int) -> dict:
    found = store.query("SELECT * FROM load_batches WHERE id = ?", [int(batch_id)])
    if found.empty:
        raise HistoryError(f"没有批次 {batch_id}")
    return found.iloc[0].to_dict()


def batch_rows(store: Store, batch_id: int, *, limit: int | None = None) -> pd.DataFrame:
    """What a batch wrote, each with the value it replaced: region_code, indicator_id, month,
    old_value, value (NaN for a key a rollback removed), origin, still_current, corrected (the value
    corrects a closed period, monitor/store/writer.py closed_changes). ``limit`` keeps
    the first rows only (a national history batch holds millions): only their keys' history is read."""
    batch(store, batch_id)
    limit_sql = "LIMIT ?" if limit is not None else ""
    params: list = [int(batch_id)] + ([int(limit)] if limit is not None else []) + [int(batch_id)]
    return store.query(
        f"""
        WITH mine AS (
            SELECT seq, region_code, indicator_id, month, value, origin FROM observation_log
            WHERE batch_id = ? ORDER BY region_code, indicator_id, month {limit_sql}),
        hist AS (
            SELECT l.seq, lag(l.value) OVER w AS old_value,
                   max(l.seq) OVER (PARTITION BY l.region_code, l.indicator_id, l.month) AS last_seq
            FROM observation_log l SEMI JOIN mine USING (region_code, indicator_id, month)
            WINDOW w AS (PARTITION BY l.region_code, l.indicator_id, l.month ORDER BY l.seq))
        SELECT m.region_code, m.indicator_id, m.month, h.old_value, m.value, m.origin,
               (h.last_seq = m.seq) AS still_current, c.batch_id IS NOT NULL AS corrected
        FROM mine m JOIN hist h USING (seq)
        LEFT JOIN observation_corrections c ON c.batch_id = ? AND c.region_code = m.region_code
             AND c.indicator_id = m.indicator_id AND c.month = m.month
        ORDER BY m.region_code, m.indicator_id, m.month
        """,  # limit_sql is a constant; values go in as parameters
        params,
    ).astype({"old_value": "float64", "value": "float64"})


def official_corrections(store: Store, indicator_ids=None, region_codes=None, *, approved_since=None) -> pd.DataFrame:
    """The official values that are corrections (更正: changed after their period closed, and
    approved, monitor/store/writer.py): region_code, indicator_id, month, value, old_value,
    closed_on, batch_id, reason, loaded_by, reviewed_by, reviewed_at; optionally for some
    indicators (ids as stored, ``<id>@ytd`` for a 1–N月累计) and regions, approved at or after
    ``approved_since``.

    A value is a correction while the last log entry behind its official value (the last one not
    written by, nor restored from, a pending batch: the official view's rule) was written by a
    correction batch: a commit approved by a reviewer, or a rollback, which has no review state
    (the person rolling back approved it: reviewed_by and reviewed_at are theirs)."""
    filters, params = key_filter(region_codes, indicator_ids)
    sql = f"""
        WITH corrections AS (SELECT * FROM observation_corrections WHERE TRUE {filters}),
        pending AS (SELECT id FROM load_batches WHERE review = 'pending'),
        last AS (
            -- batch ids grow with the log, so the entries before the first correction are skipped
            SELECT l.region_code, l.indicator_id, l.month, arg_max(l.batch_id, l.seq) AS written_by
            FROM observation_log l SEMI JOIN corrections USING (region_code, indicator_id, month)
            WHERE l.batch_id >= (SELECT min(batch_id) FROM corrections)
              AND l.batch_id NOT IN (SELECT id FROM pending)
              AND coalesce(l.source_batch, -1) NOT IN (SELECT id FROM pending)
            GROUP BY ALL)
        SELECT o.region_code, o.indicator_id, o.month, o.value, c.old_value, c.closed_on, b.id AS batch_id,
               b.correction_reason AS reason, b.loaded_by, coalesce(b.reviewed_by, b.loaded_by) AS reviewed_by,
               coalesce(b.reviewed_at, b.loaded_at) AS reviewed_at
        FROM official_observations o JOIN last USING (region_code, indicator_id, month)
        JOIN corrections c ON c.batch_id = last.written_by AND c.region_code = o.region_code
             AND c.indicator_id = o.indicator_id AND c.month = o.month
        JOIN load_batches b ON b.id = c.batch_id WHERE TRUE
        """  # filters are constants; values go in as parameters
    if approved_since is not None:
        sql += " AND coalesce(b.reviewed_at, b.loaded_at) >= ?"
        params.append(approved_since)
    return store.query(sql + " ORDER BY o.region_code, o.indicator_id, o.month", params)


def batch_row_count(store: Store, batch_id: int) -> int:
    """How many values a batch wrote (its log entries)."""
    return int(store.query("SELECT count(*) AS n FROM observation_log WHERE batch_id = ?", [int(batch_id)])["n"].iloc[0])


def batch_regions(store: Store, batch_id: int) -> set[str]:
    """Every region a batch wrote a value for (a scoped uploader may roll back only inside the scope)."""
    return set(store.query("SELECT DISTINCT region_code FROM observation_log WHERE batch_id = ?",
                           [int(batch_id)])["region_code"])


def stored_file(store: Store, file_hash: str) -> tuple[str, bytes] | None:
    """The file a batch was loaded from, as received: (name, bytes), or None (generated data)."""
    found = store.query("SELECT file_name, content FROM upload_files WHERE file_hash = ?", [file_hash])
    if found.empty:
        return None
    return str(found["file_name"].iloc[0]), bytes(found["content"].iloc[0])


# Written in SQL both DuckDB and PostgreSQL run (row_number() rather than QUALIFY or arg_max): the
# writer reads it inside its transaction, on either engine (docs/decisions.md D19).
# The values a rollback of batch Z (parameters 7-10, each Z) leaves for every key Z holds now:
# - kept, when another committed batch re-reported the current value unchanged (a confirmation,
#   schema 5) and no standing batch changed the key since: the latest such batch now holds it;
# - else the latest earlier entry of the key whose source still stands (not Z, not rolled back):
#   for a key Z wrote, the value Z replaced; for a key Z held because it had confirmed a value
#   whose batch was rolled back, the value from before that batch; NULL: the key goes.
# The log is read within the range of the keys Z holds (parameters 1-6, ``_held_range``): a join
# alone read every entry of it, 11.5 million nationally (23 s for a rollback of 100 values).
_ROLLBACK_ROWS = """
WITH log AS (
    SELECT * FROM observation_log
    WHERE region_code BETWEEN ? AND ? AND indicator_id BETWEEN ? AND ? AND month BETWEEN ? AND ?),
held AS (
    SELECT region_code, indicator_id, month, value AS current_value FROM observations WHERE batch_id = ?),
last AS (
    SELECT l.region_code, l.indicator_id, l.month, max(l.seq) AS last_seq
    FROM log l JOIN held USING (region_code, indicator_id, month)
    GROUP BY l.region_code, l.indicator_id, l.month),
kept AS (
    SELECT region_code, indicator_id, month, batch_id AS kept_by, origin, source_url, note FROM (
        SELECT c.*, row_number() OVER (PARTITION BY c.region_code, c.indicator_id, c.month ORDER BY c.seq DESC) AS newest
        FROM observation_confirmations c
        JOIN held h USING (region_code, indicator_id, month)
        JOIN load_batches b ON b.id = c.batch_id
        WHERE c.batch_id <> ? AND b.status = 'committed' AND abs(c.value - h.current_value) <= 1e-9
          AND NOT EXISTS (
              SELECT 1 FROM log l JOIN load_batches s ON s.id = l.source_batch
              WHERE l.region_code = c.region_code AND l.indicator_id = c.indicator_id AND l.month = c.month
                AND l.seq > c.seq AND s.status = 'committed' AND s.id <> ?
                AND l.value IS DISTINCT FROM h.current_value)) AS confirmed
    WHERE newest = 1),
prev AS (
    SELECT region_code, indicator_id, month, value, origin, source_batch, source_url, note FROM (
        SELECT p.*, row_number() OVER (PARTITION BY p.region_code, p.indicator_id, p.month ORDER BY p.seq DESC) AS newest
        FROM log p
        JOIN last USING (region_code, indicator_id, month)
        LEFT JOIN load_batches s ON s.id = p.source_batch
        WHERE p.seq < last.last_seq AND (p.source_batch IS NULL OR (p.source_batch <> ? AND s.status = 'committed'))
    ) AS earlier
    WHERE newest = 1)
SELECT h.region_code, h.indicator_id, h.month,
       CASE WHEN k.kept_by IS NOT NULL THEN h.current_value ELSE p.value END AS value,
       CASE WHEN k.kept_by IS NOT NULL THEN k.origin ELSE p.origin END AS origin,
       CASE WHEN k.kept_by IS NOT NULL THEN k.kept_by ELSE p.source_batch END AS source_batch,
       CASE WHEN k.kept_by IS NOT NULL THEN k.source_url ELSE p.source_url END AS source_url,
       CASE WHEN k.kept_by IS NOT NULL THEN k.note ELSE p.note END AS note,
       k.kept_by
FROM held h
LEFT JOIN kept k USING (region_code, indicator_id, month)
LEFT JOIN prev p USING (region_code, indicator_id, month)
"""


def rollback_rows(con, batch_id: int) -> pd.DataFrame:
    rows = con.execute(_ROLLBACK_ROWS, [*_held_range(con, batch_id), *[int(batch_id)] * 4]).df()
    return rows.astype({"value": "float64"})


def _held_range(con, batch_id: int) -> list:
    """The lowest and highest region_code, indicator_id and month of the keys batch ``batch_id``
    holds now (six values, None when it holds none)."""
    return list(con.execute("SELECT min(region_code), max(region_code), min(indicator_id), max(indicator_id), "
                            "min(month), max(month) FROM observations WHERE batch_id = ?", [int(batch_id)]).fetchone())


def check_rollback(con, batch_id: int) -> None:
    """Refuses a batch that cannot be rolled back (unknown, a rollback, rolled back, superseded)."""
    found = con.execute("SELECT kind, status, rolled_back_by FROM load_batches WHERE id = ?",
                        [int(batch_id)]).fetchone()
    if found is None:
        raise HistoryError(f"没有批次 {batch_id}")
    kind, status, rolled_back_by = found
    if kind == "rollback":
        raise HistoryError(f"批次 {batch_id} 本身是一次回滚，不能再回滚；如需恢复，请重新导入原文件")
    if status == "rolled_back":
        raise HistoryError(f"批次 {batch_id} 已被回滚（回滚批次 {rolled_back_by}）")
    # every value the batch wrote must still be the current one (a later batch that changed
    # it and was itself rolled back restores it, with this batch as its source)
    later = con.execute(
        """
        SELECT DISTINCT o.batch_id
        FROM observation_log mine
        LEFT JOIN observations o USING (region_code, indicator_id, month)
        WHERE mine.batch_id = ? AND o.batch_id IS DISTINCT FROM mine.batch_id ORDER BY 1
        """,
        [int(batch_id)],
    ).fetchall()
    if later:
        ids = "、".join(str(b) for (b,) in later if b is not None) or "其他批次"
        raise HistoryError(f"批次 {batch_id} 写入的部分数值之后又被批次 {ids} 修改；请先回滚这些较新的批次，再回滚批次 {batch_id}")


@dataclass(frozen=True)
class RollbackPreview:
    """What rolling back a batch would do: values restored, keys removed, and the values kept
    because a later batch re-reported them (``kept``: kept_by, loaded_at, values, newest first)."""

    batch_id: int
    restored: int
    removed: int
    kept: pd.DataFrame

    def sentences(self) -> list[str]:
        """「批次 7 于 2026-11-20 14:03 再次报送了相同数值（2 个），回滚后保留」, one per batch."""
        return [f"批次 {int(r.kept_by)} 于 {str(r.loaded_at)[:16]} 再次报送了相同数值（{int(r.values)} 个），回滚后保留"
                for r in self.kept.itertuples()]


def rollback_preview(store: Store, batch_id: int) -> RollbackPreview:
    """What rolling the batch back (monitor.store.writer.rollback_batch) would do now; raises HistoryError
    when it would refuse."""
    with store.connect() as con:
        check_rollback(con, batch_id)
        rows = rollback_rows(con, batch_id)
        batches = con.execute("SELECT id, loaded_at FROM load_batches").df()
    return rollback_preview_of(batch_id, rows, batches)


def rollback_preview_of(batch_id: int, rows: pd.DataFrame, batches: pd.DataFrame) -> RollbackPreview:
    kept = rows[rows["kept_by"].notna()]
    by = (kept.groupby("kept_by").size().rename("values").reset_index()
          .merge(batches.rename(columns={"id": "kept_by"}), on="kept_by", how="left")
          .sort_values("kept_by", ascending=False, ignore_index=True))
    restored = int((rows["value"].notna() & rows["kept_by"].isna()).sum())
    return RollbackPreview(int(batch_id), restored, int(rows["value"].isna().sum()), by)


# --------------------------------------------------------------------------- as published


def as_published_sql(region_filter: bool, until: bool) -> str:
    """The observations as they stood at a moment (parameters 1 and 2, the same moment), for
    indicators (parameter 3), optionally regions and a last month: the same columns as
    ``observations``. A batch waiting for approval at that moment (or returned) is not part of
    it (monitor/store/approval.py): its entries, and the values a rollback restored from it, are left
    out; an approved batch counts from the moment it was approved."""
    sql = ("SELECT region_code, indicator_id, month, value, origin, source_url, note FROM observation_log "
           "WHERE batch_id NOT IN (SELECT id FROM load_batches WHERE review IS NOT NULL "
           "AND (review <> 'approved' OR reviewed_at > ?)) AND coalesce(source_batch, -1) NOT IN "
           "(SELECT id FROM load_batches WHERE review IS NOT NULL AND (review <> 'approved' OR reviewed_at > ?)) "
           "AND recorded_at <= ? AND indicator_id IN (SELECT unnest(?))")
    if region_filter:
        sql += " AND region_code IN (SELECT unnest(?))"
    if until:
        sql += " AND month <= ?"
    sql += " QUALIFY row_number() OVER (PARTITION BY region_code, indicator_id, month ORDER BY seq DESC) = 1"
    return f"SELECT * FROM ({sql}) WHERE value IS NOT NULL"


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max)


def publication_dates(store: Store) -> list[date]:
    """The days on which the store changed, oldest first (for a date picker)."""
    frame = store.query("SELECT DISTINCT CAST(loaded_at AS DATE) AS day FROM load_batches ORDER BY 1")
    return [d.date() if hasattr(d, "date") else d for d in frame["day"]]


# --------------------------------------------------------------------------- completeness


@dataclass(frozen=True)
class Completeness:
    month: str
    due: datetime  # the earliest of the month's due dates (indicators may differ: ``cells.due``)
    cells: pd.DataFrame  # region_code, region_name, indicator_id, indicator_name, due, state, first_reported, batch_id
    summary: pd.DataFrame  # per region: region_code, region_name, expected, then one count per state

    STATES = ("on_time", "late", "owed", "not_uploaded")


# The states and the summary as people read them (报送情况, ``python -m etl completeness``).
STATE_LABELS = {"on_time": "按时报送", "late": "逾期报送", "owed": "未报送", "not_uploaded": "示例/公布数据"}
SUMMARY_HEADERS = {"region_name": "地区", "expected": "应报", **STATE_LABELS}


def expected_indicators(config: Config, month: str) -> list[str]:
    """The stored indicators due for a month: monthly ones every month, annual ones in December."""
    december = parse_month(month).endswith("-12")
    return [i.id for i in config.indicators
            if i.kind != "derived" and (i.frequency == "monthly" or december)]


def completeness(store: Store, config: Config, regions, scope: str, month: str) -> Completeness:
    """Who has reported what for ``month`` in ``scope`` (the region itself and the regions directly
    below it): reported on time, late (after the indicator's due date in the reporting calendar,
    indicators.yaml ``reporting``), or missing."""
    month = parse_month(month)
    region_list = [regions[scope], *(r for r in regions.children(scope) if not r.is_grouping)]
    indicators = expected_indicators(config, month)
    # each indicator's own due date (reporting calendar, indicators.yaml), to the end of that day
    dues = {i: datetime.combine(config.reporting.due_date(config.indicator(i), month), time(23, 59, 59))
            for i in indicators}
    grid = pd.DataFrame([(r.code, r.name, i, config.indicator(i).name, dues[i]) for r in region_list
                         for i in indicators],
                        columns=["region_code", "region_name", "indicator_id", "indicator_name", "due"])
    # the first upload of each value that still stands (a rolled-back upload does not count)
    first = store.query(
        """
        SELECT l.region_code, replace(l.indicator_id, ?, '') AS indicator_id,
               min(l.recorded_at) FILTER (WHERE l.origin = 'upload' AND b.status = 'committed') AS first_reported,
               arg_min(l.batch_id, l.seq) FILTER (WHERE l.origin = 'upload' AND b.status = 'committed') AS batch_id
        FROM observation_log l JOIN load_batches b ON b.id = l.batch_id
        WHERE l.month = ? AND l.value IS NOT NULL AND b.kind = 'load' AND l.region_code IN (SELECT unnest(?))
        GROUP BY 1, 2
        """,
        [YTD_SUFFIX, month, [r.code for r in region_list]],
    )
    # a 1–N月累计 value reports the month as well as the month's own amount does (monitor/domain/yeartodate.py)
    current = store.query("SELECT region_code, replace(indicator_id, ?, '') AS indicator_id, "
                          "min(origin) AS current_origin FROM observations "
                          "WHERE month = ? AND region_code IN (SELECT unnest(?)) GROUP BY 1, 2",
                          [YTD_SUFFIX, month, [r.code for r in region_list]])
    cells = grid.merge(first, on=["region_code", "indicator_id"], how="left").merge(
        current, on=["region_code", "indicator_id"], how="left")
    present = cells["current_origin"].notna()
    uploaded = cells["first_reported"].notna()
    late = uploaded & (pd.to_datetime(cells["first_reported"]) > pd.to_datetime(cells["due"]))
    cells["state"] = "owed"
    cells.loc[present & ~uploaded, "state"] = "not_uploaded"  # demo or published values, not reports
    cells.loc[present & uploaded & ~late, "state"] = "on_time"
    cells.loc[present & uploaded & late, "state"] = "late"
    cells = cells.drop(columns=["current_origin"])
    summary = (cells.assign(n=1).pivot_table(index=["region_code", "region_name"], columns="state", values="n",
                                             aggfunc="sum", fill_value=0)
               .reindex(columns=list(Completeness.STATES), fill_value=0).reset_index())
    summary.columns.name = None
    summary.insert(2, "expected", len(indicators))
    summary = summary.sort_values(["owed", "late", "region_code"], ascending=[False, False, True])
    return Completeness(month, min(dues.values()), cells, summary.reset_index(drop=True))
