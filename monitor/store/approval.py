"""Approval before publish (docs/decisions.md D6): 报送 → 审核 → 发布.

When approval is required, an upload's commit writes its values to the store as always but marks
the batch 待审核 (``load_batches.review = 'pending'``, schema 7). The official view
(``official_observations``, monitor/store/sql/007_approval.sql), which every page, export and evaluation
reads, leaves those values out: a key the batch changed keeps showing the value it had before. The
uploader and the reviewers see the pending values marked 待审核 (``pending_values``).

A reviewer (role 审核员, or an admin) whose regions cover the batch then either
- approves it (``approve``): the batch becomes 已发布 and the official view shows it; or
- returns it with a reason (``return_batch``): the batch is rolled back in the same transaction
  (monitor/store/writer.py), so nothing of it stays, and the uploader reads the reason on 导入记录.
Nobody reviews their own batch. Each step's audit record is committed with it (monitor/store/writer.py, monitor/store/outbox.py).

Whether approval is required is a deployment setting, ``IPMON_APPROVAL``:
``on`` / ``off``; unset: on, except in a demo deployment, i.e. a store holding the demo data
(a batch of origin ``demo``), where a visitor's upload shows at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

from monitor import settings
from monitor.domain import clock
from monitor.errors import HistoryError, PermissionDenied
from monitor.store import writer
from monitor.store.database import Store, key_filter

REVIEW_LABELS = {"pending": "待审核", "approved": "已发布", "returned": "已退回"}
PENDING_LABEL = REVIEW_LABELS["pending"]


def approval_setting() -> bool | None:
    """IPMON_APPROVAL: True (on), False (off) or None (unset: decided by the store)."""
    return settings.approval()


def approval_required(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether an upload committed now waits for a reviewer: IPMON_APPROVAL, or when it is unset,
    yes unless the store holds the demo data."""
    setting = approval_setting()
    if setting is not None:
        return setting
    return con.execute("SELECT count(*) FROM load_batches WHERE origin = 'demo'").fetchone()[0] == 0


def pending_batches(store: Store) -> pd.DataFrame:
    """Batches waiting for a reviewer, oldest first: batch_id, file_name, loaded_at, loaded_by,
    rows_total, regions (the region codes of its values, sorted)."""
    return store.query(
        """
        SELECT b.id AS batch_id, b.file_name, b.loaded_at, b.loaded_by, b.rows_total,
               list_sort(list(DISTINCT l.region_code)) AS regions
        FROM load_batches b LEFT JOIN observation_log l ON l.batch_id = b.id
        WHERE b.review = 'pending'
        GROUP BY ALL ORDER BY b.id
        """)


def pending_values(store: Store, indicator_ids: Iterable[str] | None = None,
                   region_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The values of pending batches that are current in the store (what the official view leaves
    out): region_code, indicator_id, month, value, batch_id, loaded_by, loaded_at."""
    sql = ("SELECT o.region_code, o.indicator_id, o.month, o.value, o.batch_id, b.loaded_by, b.loaded_at "
           "FROM observations o JOIN load_batches b ON b.id = o.batch_id WHERE b.review = 'pending'")
    filters, params = key_filter(region_codes, indicator_ids, "o.")
    return store.query(sql + filters + " ORDER BY o.region_code, o.indicator_id, o.month", params)


def _check_review(con: duckdb.DuckDBPyConnection, batch_id: int, by: str, allowed: frozenset[str] | None) -> None:
    found = con.execute("SELECT review, loaded_by, kind, status FROM load_batches WHERE id = ?",
                        [int(batch_id)]).fetchone()
    if found is None:
        raise HistoryError(f"没有批次 {batch_id}")
    review, loaded_by, _kind, status = found
    if review != "pending":
        state = REVIEW_LABELS.get(review, "已回滚" if status == "rolled_back" else "无需审核")
        raise HistoryError(f"批次 {batch_id} 不在待审核状态（{state}），无需审核")
    if loaded_by == by:
        raise PermissionDenied(f"批次 {batch_id} 是您本人上传的，不能由您审核；请另一位审核员审核")
    if allowed is not None:
        regions = {r for (r,) in con.execute("SELECT DISTINCT region_code FROM observation_log WHERE batch_id = ?",
                                             [int(batch_id)]).fetchall()}
        outside = sorted(regions - allowed)
        if outside:
            raise PermissionDenied(f"批次 {batch_id} 含有您地区范围以外的数值（{'、'.join(outside[:5])}），"
                                   "请由负责这些地区的审核员审核")


def approve(store: Store, batch_id: int, *, by: writer.Writer, at: datetime | None = None,
            detail: str | None = None) -> None:
    """Publish a pending batch. ``by``: the reviewer, whose regions (``by.regions``; None = every
    region) must cover the batch. Raises PermissionDenied (own batch, regions outside the scope) or
    HistoryError (not pending). ``detail``: what the audit record adds (target 「批次 N」)."""
    now = at or clock.now()
    with store.transaction() as con:
        _check_review(con, batch_id, by.name, by.regions)
        writer.approve_in(con, batch_id, by=by, at=now, detail=detail)


def return_batch(store: Store, batch_id: int, *, by: writer.Writer, reason: str, at: datetime | None = None) -> int:
    """Return a pending batch to its uploader with ``reason`` (required): the batch is rolled back
    in the same transaction, so nothing of it stays. Returns the rollback batch's id."""
    reason = (reason or "").strip()
    if not reason:
        raise HistoryError("退回批次必须填写理由，上传人会在「导入记录」看到它")
    now = at or clock.now()
    with store.transaction() as con:
        _check_review(con, batch_id, by.name, by.regions)
        return writer.return_in(con, batch_id, by=by, reason=reason, at=now)
