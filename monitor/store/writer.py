"""The one writer of observations: every value the store holds, and every entry of its history,
is written here and nowhere else.

Four writes change observations, observation_log, observation_confirmations and the batches
(load_batches, upload_files) that record them:
- ``commit``: an upload's rows as one batch (etl/loader.py plans them; ``python -m etl load`` and
  the upload page commit them);
- ``rollback_batch`` / ``rollback_in``: undo a batch (monitor/store/history.py says what that restores);
  a reviewer's return (``return_in``, monitor/store/approval.py) is a rollback too, and an approval
  (``approve_in``) marks the batch published;
- ``load_demo`` / ``reset_demo``: the generated demo data (monitor/demo/generator.py), the reset erasing
  everything first;
- ``bulk_load``: a benchmark's national store (bench/national.py), DuckDB's bulk insert.

Each takes who writes (a ``Writer``) and, so that no door can forget either:
- re-checks the writer's region scope itself: rows of a region outside it are refused with a
  ``ScopeError`` naming the regions, before anything is written;
- stages the write's audit record in the same transaction (monitor/store/outbox.py), with the batch
  as its target; the door only drains the outbox after the commit.

Since schema 3 observations has no primary key (monitor/store/sql/003_*.sql says why): one row per key
is kept here, by deleting a key's old row before inserting its new one (``_remove_observations``),
and every transaction bumps ``data_version`` (monitor/store/database.py), so of two overlapping writers the
later one fails and rolls back.
"""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monitor.domain import clock
from monitor.domain.config import closes_on, due_on
from monitor.domain.periods import format_month_cn
from monitor.domain.yeartodate import YTD_SUFFIX
from monitor.errors import ClosedPeriodError, ScopeError
from monitor.store import outbox
from monitor.store.database import Store
from monitor.store.history import check_rollback, rollback_preview_of, rollback_rows
from monitor.store.keys import KEY, KeyCodes, StoredValues, first_rows
from monitor.store.outbox import AuditEntry

DEMO_NOTES = {"published": "公布值直接引用", "demo": "示例数据（虚构，仅供演示）"}
# the demo's batches: the published values (with the counts estimated from a published ratio,
# origin ``estimated``), then the invented ones
DEMO_BATCHES = (("published", ("published", "estimated")), ("demo", ("demo",)))
DEMO_AUDIT_DETAIL = "示例数据"
RESET_AUDIT_DETAIL = "清空观测值、批次和历史，重新载入示例数据"


def current_user() -> str:
    """The operating-system user (a batch's loaded_by when a script gives no name)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


@dataclass(frozen=True)
class Writer:
    """Who writes: the name recorded on the batch (``loaded_by``, the rollback's or review's ``by``),
    the region codes they may write (each scope region and every region below it,
    monitor.accounts.users.allowed_regions; None: every region), and what the audit trail records:
    ``actor`` (the name, unless the door says otherwise: the CLI records ``cli:<user>``), ``client``
    and ``via``.

    ``audited`` False: a write no person asks for at a door (a benchmark's store, the demo a test
    builds), which leaves no audit record: ``Writer.internal``."""

    name: str
    regions: frozenset[str] | None = None
    actor: str | None = None
    client: str | None = None
    via: str | None = None
    audited: bool = True

    def __post_init__(self) -> None:
        if self.regions is not None:  # a set from monitor.accounts.users.allowed_regions, kept frozen
            object.__setattr__(self, "regions", frozenset(self.regions))

    @classmethod
    def internal(cls, name: str | None = None) -> Writer:
        """Every region, no audit record; the name defaults to the operating-system user."""
        return cls(name or current_user(), audited=False)

    def entry(self, action: str, *, target: str | None = None, detail: str | None = None) -> AuditEntry:
        return AuditEntry(action, actor=self.actor or self.name, target=target, detail=detail, client=self.client,
                          via=self.via)

    def stage(self, con: duckdb.DuckDBPyConnection, action: str, *, at: datetime, target: str | None = None,
              detail: str | None = None) -> None:
        """Add this write's audit record to the outbox, inside the write's transaction."""
        if self.audited:
            outbox.stage(con, self.entry(action, target=target, detail=detail), at=at)

    def check_scope(self, codes: Iterable[str], what: str) -> None:
        """Refuse a write touching a region outside the scope; ``what``: what is refused, for the message."""
        if self.regions is None:
            return
        outside = sorted({c for c in codes if isinstance(c, str)} - self.regions)
        if outside:
            shown = "、".join(outside[:10]) + (f" 等 {len(outside)} 个地区" if len(outside) > 10 else "")
            raise ScopeError(f"{what}含有您地区范围以外的地区（{shown}），未写入任何数据；"
                             "请只提交您负责地区的数值，或请负责这些地区的人员或管理员操作", outside)


# --------------------------------------------------------------------------- the diff


def diff_against_store(store_or_con, staged: pd.DataFrame) -> pd.DataFrame:
    """Each staged row with the value it would replace: change is new / changed / unchanged.
    ``store_or_con``: a Store, or an open connection (a commit's transaction)."""
    if staged.empty:
        return diff_stored(staged, np.empty(0, dtype="int64"), None)
    keys = KeyCodes()
    codes = keys.encode_frame(staged)
    return diff_stored(staged, codes, StoredValues.read(store_or_con, keys, pd.unique(codes)))


def diff_stored(staged: pd.DataFrame, codes: np.ndarray, stored: StoredValues | None, *,
                index: pd.Index | None = None) -> pd.DataFrame:
    """``diff_against_store`` with the stored values already read (``codes``: the rows' keys;
    ``index``: the same as an Index, when the caller has made one, ``KeyCodes.index``)."""
    if staged.empty:
        return staged.assign(old_value=pd.Series(dtype="float64"), old_origin=pd.Series(dtype=object),
                             change=pd.Series(dtype=str))
    own = index if index is not None else pd.Index(codes)
    if not (stored.index.is_unique and own.is_unique):
        # a key twice (stored twice, or staged twice by a caller): join as SQL and merge do, row by row
        # DuckDB hands text to pandas as ``str``, or as objects when no row is found at all: the
        # column of old origins keeps the type the join of the staged keys alone would have given
        matched = pd.Series(stored.codes).isin(codes).to_numpy() if len(stored.codes) else np.zeros(0, dtype=bool)
        origin_type = "str" if matched.any() else object
        old = pd.DataFrame({"__key__": stored.codes[matched], "old_value": stored.values[matched],
                            "old_origin": pd.Series(stored.origins[matched], dtype=origin_type)})
        old = pd.DataFrame({"__key__": codes}).merge(old, on="__key__")
        merged = staged.assign(__key__=codes).merge(old, on="__key__", how="left").drop(columns="__key__")
        merged["old_value"] = merged["old_value"].astype("float64")
    else:
        # a left merge on the key: every staged row once, in order, with the stored row of its key
        at = first_rows(stored.index, codes)
        found = at >= 0
        old_value = np.full(len(staged), np.nan)
        old_value[found] = stored.values[at[found]]
        old_origin = np.full(len(staged), np.nan, dtype=object)
        old_origin[found] = stored.origins[at[found]]
        merged = staged.reset_index(drop=True)
        merged = merged.assign(old_value=old_value,
                               old_origin=pd.Series(old_origin, dtype="str" if found.any() else object))
    same = np.isclose(merged["value"], merged["old_value"], rtol=0, atol=1e-9)
    change = np.where(merged["old_value"].isna(), 0, np.where(same, 1, 2))
    # as pandas text (``str``), built by pyarrow: a numpy array of strings converts row by row
    merged["change"] = pd.Series(pa.array(["new", "unchanged", "changed"]).take(pa.array(change)), index=merged.index,
                                 dtype="str")
    return merged


# --------------------------------------------------------------------------- commit


@dataclass(frozen=True)
class BatchSource:
    """Where a batch's rows come from, as its load_batches row records it (and upload_files keeps
    ``data``, the file as received, once per content)."""

    file_name: str
    file_hash: str
    origin: str = "upload"
    note: str | None = None
    warnings: int = 0  # the warnings accepted
    sheet: str | None = None
    period: str | None = None
    file_format: str | None = None
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PlannedDiff:
    """A diff of the rows a commit writes computed before it (a plan's preview), with the store and
    the data_version its stored values were read at. Every write bumps data_version
    (monitor/store/database.py), so a commit that finds the store still at that version would
    compute exactly this diff again and uses it instead (a second read and join of every key)."""

    store: str  # Store.identity
    version: int
    diff: pd.DataFrame


def commit(store: Store, rows: pd.DataFrame, source: BatchSource, *, by: Writer, at: datetime | None = None,
           review: bool | None = None, detail: str | None = None, reason: str | None = None,
           planned: PlannedDiff | None = None) -> int | None:
    """Write staged rows (region_code, indicator_id, month, value, origin, source_url, note) in one
    transaction: all rows or none. Returns the new batch id, or None when nothing would change (an
    identical re-upload writes nothing).

    The diff is computed again inside the transaction, so a commit made by someone else between
    preview and commit is neither overwritten blindly nor miscounted. Keys reported with the value
    already stored are not rewritten but recorded as the batch's confirmations: rolling back the
    batch that wrote the value keeps it (monitor/store/history.py).

    ``at``: the time recorded (now, unless a test or an import of historical batches says otherwise).
    ``review``: whether the batch waits for a reviewer before the official view shows it
    (monitor/store/approval.py); None: an upload does when the deployment requires approval.
    ``detail``: what the audit record says (its target: 「批次 N」).

    A commit that changes values of closed periods (``closed_changes``) is a correction (更正): it
    needs ``reason``, or raises ClosedPeriodError naming the periods and nothing is written; with
    one, the batch waits for a reviewer whatever ``review`` says (monitor/store/approval.py), keeps
    the reason and the values it corrects (observation_corrections), and is audited as 更正.

    ``planned``: the diff of ``rows`` as a preview computed it (``PlannedDiff``), used when the
    store has not changed since."""
    by.check_scope(pd.unique(rows["region_code"]) if len(rows) else [], f"{source.file_name} ")
    loaded_at = at or clock.now()
    if planned is not None and (planned.store != store.identity or len(planned.diff) != len(rows)):
        planned = None
    with store.transaction() as con:
        return _commit_in(con, rows, source, by=by, loaded_at=loaded_at, review=review, detail=detail, reason=reason,
                          planned=planned)


def _same_keys_and_values(rows: pd.DataFrame, diff: pd.DataFrame) -> bool:
    """Whether ``diff`` is of these keys and values, row by row (a plan's diff shares its rows'
    columns, so this costs little)."""
    return len(rows) == len(diff) and all(rows[c].reset_index(drop=True).equals(diff[c]) for c in [*KEY, "value"])


def read_version(con) -> int:
    """The store's data_version as this connection (or transaction) sees it."""
    return int(con.execute("SELECT value FROM store_meta WHERE key = 'data_version'").fetchall()[0][0])


def _commit_in(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, source: BatchSource, *, by: Writer,
               loaded_at: datetime, review: bool | None, detail: str | None, reason: str | None = None,
               closing: bool = True, planned: PlannedDiff | None = None) -> int | None:
    """``commit`` inside its transaction. ``closing`` False: the demo generator's load, which
    replaces whatever it finds and corrects no report, so closed periods do not apply to it."""
    if planned is not None and read_version(con) == planned.version and _same_keys_and_values(rows, planned.diff):
        # the rows as given, with what the diff found for each (a caller's later change to another
        # column is written; one to a key or value is diffed again)
        diff = rows.reset_index(drop=True).assign(old_value=planned.diff["old_value"],
                                                  old_origin=planned.diff["old_origin"],
                                                  change=planned.diff["change"])
    else:
        diff = diff_against_store(con, rows)
    written = diff[diff["change"] != "unchanged"]
    if written.empty:
        by.stage(con, "commit", at=loaded_at, detail=detail)
        return None  # the transaction still commits, harmlessly; no value was written
    corrected = closed_changes(con, written if closing else written.head(0), loaded_at.date())
    reason = (reason or "").strip() or None
    if not corrected.empty:
        if reason is None:
            raise ClosedPeriodError(closed_message(corrected), sorted(
                set(zip(corrected["indicator_id"], corrected["month"], corrected["closed_on"], strict=True))))
        review = True  # a correction is never official before a reviewer approves it
    if source.data is not None:
        _keep_file(con, source, loaded_at)
    if review is None:
        from monitor.store.approval import (
            approval_required,  # monitor.store.approval returns batches through this module
        )

        review = source.origin == "upload" and approval_required(con)
    batch_id = con.execute(
        "INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, rows_inserted, "
        "rows_updated, rows_unchanged, note, kind, rows_warnings, sheet, period, file_format, review, "
        "correction_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'load', ?, ?, ?, ?, ?, ?) RETURNING id",
        [source.file_name, source.file_hash, loaded_at, by.name, source.origin, len(diff),
         int((diff["change"] == "new").sum()), int((diff["change"] == "changed").sum()),
         int((diff["change"] == "unchanged").sum()), source.note, source.warnings, source.sheet, source.period,
         source.file_format, "pending" if review else None, None if corrected.empty else reason],
    ).fetchall()[0][0]
    incoming = _store_rows(written, source.origin)
    changed = written["change"].to_numpy() == "changed"
    # registrations live as long as the transaction's short connection (an aborted transaction
    # refuses even unregister, so none is attempted on failure)
    # a changed key's old row goes first, so each key keeps exactly one row; new keys have no row
    # in this transaction's view of the store
    if changed.any():
        con.register("changed_keys", incoming.filter(changed).select(KEY))
        _remove_observations(con, "changed_keys")
    if isinstance(con, duckdb.DuckDBPyConnection) or loaded_at.tzinfo is not None:
        con.register("incoming", incoming)
        con.execute("INSERT INTO observations SELECT region_code, indicator_id, month, value, origin, ?, "
                    "source_url, note FROM incoming", [batch_id])
        con.execute("INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, "
                    "source_batch, source_url, note, recorded_at) SELECT ?, region_code, indicator_id, month, "
                    "value, origin, ?, source_url, note, ? FROM incoming", [batch_id, batch_id, loaded_at])
    else:
        _copy_written(con, incoming, batch_id=int(batch_id), recorded_at=loaded_at)
    confirmed = diff[diff["change"] == "unchanged"]
    if not confirmed.empty:
        con.register("confirmed", _store_rows(confirmed, source.origin))
        con.execute("INSERT INTO observation_confirmations (batch_id, region_code, indicator_id, month, value, "
                    "origin, source_url, note, recorded_at) SELECT ?, region_code, indicator_id, month, value, "
                    "origin, source_url, note, ? FROM confirmed", [batch_id, loaded_at])
    if corrected.empty:
        by.stage(con, "commit", at=loaded_at, target=f"批次 {batch_id}", detail=detail)
    else:
        con.register("corrected", corrected[["region_code", "indicator_id", "month", "old_value", "value",
                                             "closed_on"]])
        con.execute("INSERT INTO observation_corrections SELECT ?, region_code, indicator_id, month, old_value, value, "
                    "closed_on FROM corrected", [batch_id])
        by.stage(con, "correction", at=loaded_at, target=f"批次 {batch_id}",
                 detail=f"更正理由：{reason}；{closed_summary(corrected)}" + (f"；{detail}" if detail else ""))
    return int(batch_id)


def _keep_file(con: duckdb.DuckDBPyConnection, source: BatchSource, at: datetime) -> None:
    """The file as received, once per content (upload_files), in the commit's transaction. NOT
    EXISTS rather than INSERT OR IGNORE, which takes twice as long with a file of several MB."""
    insert = ("INSERT INTO upload_files SELECT ?, ?, ?, {content}, ? {source} "
              "WHERE NOT EXISTS (SELECT 1 FROM upload_files WHERE file_hash = ?)")
    keys = [source.file_hash, source.file_name, len(source.data)]
    if isinstance(con, duckdb.DuckDBPyConnection):
        # DuckDB reads a file of several MB as a parameter ~5× slower than as a column it scans:
        # an Arrow column over the bytes themselves (no copy)
        content = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [
            None, pa.array([0, len(source.data)], pa.int64()).buffers()[1], pa.py_buffer(source.data)])
        con.register("kept_file", pa.table({"content": content}))
        con.execute(insert.format(content="content", source="FROM kept_file"), [*keys, at, source.file_hash])
        con.unregister("kept_file")
    else:
        con.execute(insert.format(content="?", source=""), [*keys, source.data, at, source.file_hash])


def pending_corrections(store: Store, rows: pd.DataFrame, day: date | None = None) -> pd.DataFrame:
    """What a commit of ``rows`` on ``day`` (today) would correct (``closed_changes``), read
    without writing: for a preview that asks for the reason before the commit does."""
    if rows.empty:
        return rows.assign(closed_on=pd.Series(dtype=object))
    with store.connect() as con:
        diff = diff_against_store(con, rows)
        return closed_changes(con, diff[diff["change"] != "unchanged"], day or clock.today())


# values of these origins are example data, not reports: replacing them corrects nothing
EXAMPLE_ORIGINS = ("demo", "estimated")


def closed_changes(con: duckdb.DuckDBPyConnection, written: pd.DataFrame, day) -> pd.DataFrame:
    """The rows of ``written`` (a diff's new and changed rows) that change a reported value of a
    period closed on ``day``, by the reporting calendar the store mirrors from indicators.yaml
    (monitor/store/sql/008_corrections.sql), with ``closed_on``, the day each period closed.
    Adding a value a closed period lacked is a late report, not a correction (报送情况 shows it
    as 逾期); replacing an example value (EXAMPLE_ORIGINS) corrects no report."""
    changed = written[(written["change"] == "changed") & ~written["old_origin"].isin(EXAMPLE_ORIGINS)]
    if changed.empty:
        return changed.assign(closed_on=pd.Series(dtype=object))
    calendar = {i: (rule, days) for i, rule, days in
                con.execute("SELECT indicator_id, due_rule, close_after_days FROM reporting_calendar").fetchall()}
    closing: dict[tuple[str, str], date | None] = {}
    for indicator_id, month in set(zip(changed["indicator_id"], changed["month"], strict=True)):
        rule, days = calendar.get(indicator_id.removesuffix(YTD_SUFFIX), (None, None))
        if rule is None or days is None:
            closing[(indicator_id, month)] = None
            continue
        closing[(indicator_id, month)] = closes_on(int(days), due_on(int(rule) if rule.isdigit() else rule, month))
    closed_on = pd.Series([closing[k] for k in zip(changed["indicator_id"], changed["month"], strict=True)],
                          index=changed.index, dtype=object)
    is_closed = closed_on.map(lambda d: d is not None and d <= day).astype(bool)
    return changed[is_closed].assign(closed_on=closed_on[is_closed])


def closed_summary(corrected: pd.DataFrame) -> str:
    """「更正 3 个值：2026年9月（2026年11月14日关账）」: how many values of which closed periods."""
    periods = corrected.groupby("month")["closed_on"].min().sort_index()
    listed = "、".join(f"{format_month_cn(m)}（{d:%Y年%-m月%-d日}关账）" for m, d in periods.items())
    return f"更正已关账期间的 {len(corrected)} 个值：{listed}"


def closed_periods(corrected: pd.DataFrame) -> str:
    """「2026年9月自 2026年11月14日 起已关账」, one per closed period the values belong to."""
    periods = corrected.groupby("month")["closed_on"].min().sort_index()
    return "、".join(f"{format_month_cn(m)}自 {d:%Y年%-m月%-d日} 起已关账" for m, d in periods.items())


def closed_message(corrected: pd.DataFrame) -> str:
    """What a person reads when a correction comes without a reason: which periods are closed, since
    when, which values it would change, and what to do."""
    return (f"本次提交会修改已关账期间的 {len(corrected)} 个数值（{closed_periods(corrected)}），属于更正；未写入任何数据。"
            "请填写更正理由后重新提交（命令行用 --reason），更正须经管理员或审核员审核通过后才会发布。")


def rollback_closed_changes(corrected: pd.DataFrame) -> str:
    """「会修改已关账期间的 2 个数值（其中 1 个将被删除），2024年6月自 2024年8月14日 起已关账」:
    what a rollback (``rollback_corrections``) would correct, for its form and its refusal."""
    removed = int(corrected["value"].isna().sum())
    return (f"会修改已关账期间的 {len(corrected)} 个数值" + (f"（其中 {removed} 个将被删除）" if removed else "")
            + f"，{closed_periods(corrected)}")


def rollback_closed_message(batch_id: int, corrected: pd.DataFrame) -> str:
    """What a person reads when a rollback that changes closed periods comes without a reason."""
    return (f"回滚批次 {batch_id} {rollback_closed_changes(corrected)}，属于更正；未做任何更改。"
            "请填写更正理由后再回滚（命令行用 --reason），回滚即生效，各页面和简报会标注「更正」。")


def _store_rows(rows: pd.DataFrame, origin: str) -> pa.Table:
    """The rows to write, typed as the store's columns. DuckDB scans an Arrow table column by
    column; a pandas object column it has to read one Python object at a time. Missing values
    (None, NaN) become NULL, so a missing key or value fails the NOT NULL constraints."""
    def text(column: pd.Series) -> pa.Array:
        return pa.array(column, pa.string())

    return pa.table({
        "region_code": text(rows["region_code"]),
        "indicator_id": text(rows["indicator_id"]),
        "month": text(rows["month"]),
        "value": pa.array(rows["value"], pa.float64()),
        "origin": pc.fill_null(text(rows["origin"]), origin),  # as Arrow: a pandas fillna of objects is slower
        "source_url": text(rows["source_url"]),
        "note": text(rows["note"]),
    })


def _copy_written(con, incoming: pa.Table, *, batch_id: int, recorded_at: datetime) -> None:
    """On PostgreSQL (monitor/store/pg.py), the rows DuckDB's two INSERT … SELECT write, COPYed
    straight into observations and observation_log: a registered frame would be COPYed into a
    temporary table first and then read again by each INSERT."""
    n = incoming.num_rows
    batch = pa.array(np.full(n, batch_id, dtype="int64"))
    con.copy_into("observations", incoming.append_column("batch_id", batch).select(
        ["region_code", "indicator_id", "month", "value", "origin", "batch_id", "source_url", "note"]))
    con.copy_into("observation_log", incoming.append_column("batch_id", batch).append_column("source_batch", batch)
                  .append_column("recorded_at", pa.repeat(pa.scalar(recorded_at, pa.timestamp("us")), n)).select(
        ["batch_id", "region_code", "indicator_id", "month", "value", "origin", "source_batch", "source_url",
         "note", "recorded_at"]))


def _remove_observations(con: duckdb.DuckDBPyConnection, keys: str) -> None:
    """Delete the observations of every (region_code, indicator_id, month) in relation ``keys``,
    before inserting those keys' new rows: what keeps one row per key. ``keys`` is a relation
    name registered here, never user text."""
    con.execute(f"DELETE FROM observations o USING {keys} k WHERE o.region_code = k.region_code "
                "AND o.indicator_id = k.indicator_id AND o.month = k.month")


# --------------------------------------------------------------------------- rollback and review


def rollback_batch(store: Store, batch_id: int, *, by: Writer, note: str | None = None,
                   at: datetime | None = None, reason: str | None = None) -> int:
    """Restore exactly the values batch ``batch_id`` replaced (removing the keys it added), except
    those a later committed batch re-reported unchanged, which stay (now that batch's).

    One transaction; returns the id of the rollback batch. Raises HistoryError when the batch
    cannot be rolled back (unknown, already rolled back, itself a rollback, or superseded),
    ScopeError when it holds values of a region outside ``by``'s scope. The audit record's target
    is 「批次 N」, its detail names the rollback batch.

    A rollback that changes official values of closed periods (``rollback_corrections``) is a
    correction (更正), as a commit's is (docs/decisions.md D17): without ``reason`` it raises
    ClosedPeriodError and nothing is written; with one, the rollback batch keeps the reason and the
    values it corrects (observation_corrections: the value now → the value restored; a value the
    rollback removes has no row there, the table's value being NOT NULL, and is named in the
    batch's note and the audit record instead), and is audited as 更正. The person rolling back
    is its approval: the restored values are official at once."""
    with store.transaction() as con:
        return rollback_in(con, batch_id, by=by, note=note, at=at, reason=reason)


def rollback_in(con: duckdb.DuckDBPyConnection, batch_id: int, *, by: Writer, note: str | None = None,
                at: datetime | None = None, reason: str | None = None) -> int:
    """``rollback_batch`` inside a caller's open transaction."""
    now = at or clock.now()
    rollback_id, kept_note, corrected = _rollback(con, batch_id, by=by, note=note, now=now, reason=reason)
    done = f"回滚记录为批次 {rollback_id}" + (f"；{kept_note}" if kept_note else "")
    if corrected.empty:
        by.stage(con, "rollback", at=now, target=f"批次 {batch_id}", detail=done)
    else:
        by.stage(con, "correction", at=now, target=f"批次 {batch_id}",
                 detail=f"更正理由：{(reason or '').strip()}；回滚批次 {batch_id}，{_rollback_summary(con, corrected)}；{done}")
    return rollback_id


def rollback_corrections(store: Store, batch_id: int, day: date | None = None) -> pd.DataFrame:
    """What rolling back batch ``batch_id`` on ``day`` (today) would correct, read without writing
    (for the rollback form, which asks for the reason first): region_code, indicator_id, month,
    old_value (the official value now), value (the value restored; NaN: removed), closed_on."""
    with store.connect() as con:
        check_rollback(con, batch_id)
        return _rollback_changes(con, batch_id, rollback_rows(con, batch_id), day or clock.today())


def _rollback_changes(con: duckdb.DuckDBPyConnection, batch_id: int, restored: pd.DataFrame, day) -> pd.DataFrame:
    """The rows of ``restored`` (history.rollback_rows) that change a reported value of a period
    closed on ``day`` (``closed_changes``), the current value as ``old_value``; a removed value
    counts as changed. Rolling back a pending batch corrects nothing: its values were never
    official, and the official view already shows the ones the rollback restores (a reviewer's
    return, monitor/store/approval.py, is such a rollback)."""
    (review,) = con.execute("SELECT review FROM load_batches WHERE id = ?", [int(batch_id)]).fetchone()
    current = con.execute("SELECT region_code, indicator_id, month, value AS old_value, origin AS old_origin "
                          "FROM observations WHERE batch_id = ?", [int(batch_id)]).df()
    written = restored[KEY + ["value"]].merge(current, on=KEY)
    if review == "pending":
        written = written.head(0)
    same = np.isclose(written["value"], written["old_value"], rtol=0, atol=1e-9)
    written["change"] = np.where(same, "unchanged", "changed")
    corrected = closed_changes(con, written, day)
    return corrected[KEY + ["old_value", "value", "closed_on"]].reset_index(drop=True)


def _rollback_summary(con: duckdb.DuckDBPyConnection, corrected: pd.DataFrame) -> str:
    """「更正已关账期间的 2 个值：2024年6月（2024年8月14日关账），其中删除 1 个：晋城市有效发明专利拥有量2024年6月（原值 612）」:
    the removed values, which observation_corrections cannot hold, named with the store's names."""
    text = closed_summary(corrected)
    removed = corrected[corrected["value"].isna()]
    if removed.empty:
        return text
    regions = dict(con.execute("SELECT code, name FROM regions").fetchall())
    indicators = dict(con.execute("SELECT id, name FROM indicators").fetchall())
    named = []
    for r in removed.head(10).itertuples():
        indicator = indicators.get(r.indicator_id.removesuffix(YTD_SUFFIX), r.indicator_id)
        period = (f"{r.month[:4]}年1—{int(r.month[5:7])}月累计" if r.indicator_id.endswith(YTD_SUFFIX)
                  else format_month_cn(r.month))
        named.append(f"{regions.get(r.region_code, r.region_code)}{indicator}{period}（原值 {r.old_value:,.10g}）")
    more = f"等 {len(removed)} 个" if len(removed) > len(named) else ""
    return f"{text}，其中删除 {len(removed)} 个：{'、'.join(named)}{more}"


def _rollback(con: duckdb.DuckDBPyConnection, batch_id: int, *, by: Writer, note: str | None,
              now: datetime, reason: str | None = None) -> tuple[int, str, pd.DataFrame]:
    """The rollback's writes; returns its batch id, what it says of the values kept, and the values
    it corrects (``_rollback_changes``; empty: none)."""
    check_rollback(con, batch_id)
    if by.regions is not None:
        by.check_scope((r for (r,) in con.execute("SELECT DISTINCT region_code FROM observation_log "
                                                   "WHERE batch_id = ?", [int(batch_id)]).fetchall()),
                       f"批次 {batch_id} ")
    file_name, file_hash, origin = con.execute("SELECT file_name, file_hash, origin FROM load_batches WHERE id = ?",
                                               [int(batch_id)]).fetchone()
    restored = rollback_rows(con, batch_id)
    corrected = _rollback_changes(con, batch_id, restored, now.date())
    reason = (reason or "").strip() or None
    if not corrected.empty and reason is None:
        raise ClosedPeriodError(rollback_closed_message(batch_id, corrected), sorted(
            set(zip(corrected["indicator_id"], corrected["month"], corrected["closed_on"], strict=True))))
    preview = rollback_preview_of(batch_id, restored, con.execute("SELECT id, loaded_at FROM load_batches").df())
    kept_note = "；".join(preview.sentences())
    if not note:
        note = f"回滚批次 {batch_id}" + (f"（{kept_note}）" if kept_note else "")
        if not corrected.empty:
            note += f"；{_rollback_summary(con, corrected)}"
    rollback_id = con.execute(
        "INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, rows_inserted, "
        "rows_updated, rows_unchanged, note, kind, rolls_back, correction_reason) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 'rollback', ?, ?) RETURNING id",
        [file_name, file_hash, now, by.name, origin, len(restored), preview.restored,
         int(restored["kept_by"].notna().sum()), note, int(batch_id), None if corrected.empty else reason],
    ).fetchone()[0]
    # typed, so an empty column still reads as a number (PostgreSQL types a registered frame's columns)
    restored = restored.drop(columns="kept_by").astype({"source_batch": "Int64"})
    restored["batch_id"] = rollback_id
    restored["recorded_at"] = now
    con.register("restored", restored)
    # every key the batch holds loses its row and gets back the one before it, if any
    _remove_observations(con, "restored")
    con.execute("INSERT INTO observations (region_code, indicator_id, month, value, origin, batch_id, source_url, "
                "note) SELECT region_code, indicator_id, month, value, origin, source_batch, source_url, note "
                "FROM restored WHERE value IS NOT NULL")
    con.execute("INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, source_batch, "
                "source_url, note, recorded_at) SELECT batch_id, region_code, indicator_id, month, value, origin, "
                "source_batch, source_url, note, recorded_at FROM restored")
    con.unregister("restored")
    if not corrected.empty:
        # a removed value has no row: observation_corrections.value is NOT NULL (008_corrections.sql)
        con.register("corrected", corrected[corrected["value"].notna()])
        con.execute("INSERT INTO observation_corrections SELECT ?, region_code, indicator_id, month, old_value, value, "
                    "closed_on FROM corrected", [rollback_id])
        con.unregister("corrected")
    con.execute("UPDATE load_batches SET status = 'rolled_back', rolled_back_by = ? WHERE id = ?",
                [rollback_id, int(batch_id)])
    return int(rollback_id), kept_note, corrected


def approve_in(con: duckdb.DuckDBPyConnection, batch_id: int, *, by: Writer, at: datetime,
               detail: str | None = None) -> None:
    """Mark a pending batch published (monitor/store/approval.py checks that it may be), inside the
    reviewer's transaction."""
    con.execute("UPDATE load_batches SET review = 'approved', reviewed_by = ?, reviewed_at = ? WHERE id = ?",
                [by.name, at, int(batch_id)])
    by.stage(con, "approve", at=at, target=f"批次 {batch_id}", detail=detail)


def return_in(con: duckdb.DuckDBPyConnection, batch_id: int, *, by: Writer, reason: str, at: datetime) -> int:
    """Return a pending batch with ``reason``: rolled back and marked returned, inside the
    reviewer's transaction (monitor/store/approval.py checks that it may be). Returns the rollback's id."""
    rollback_id, _, _ = _rollback(con, batch_id, by=by, note=f"退回批次 {batch_id}：{reason}", now=at)
    con.execute("UPDATE load_batches SET review = 'returned', reviewed_by = ?, reviewed_at = ?, review_note = ? "
                "WHERE id = ?", [by.name, at, reason, int(batch_id)])
    by.stage(con, "return", at=at, target=f"批次 {batch_id}", detail=f"理由：{reason}；回滚记录为批次 {rollback_id}")
    return rollback_id


# --------------------------------------------------------------------------- the demo


def load_demo(store: Store, frame: pd.DataFrame, *, by: Writer, at: datetime | None = None) -> int:
    """Load generated demo observations (monitor/demo/generator.py generate_demo) as two batches, published
    and demo, in one transaction; returns the number of rows written. Each batch is audited as a
    commit of 「示例数据」; its loaded_by is ``by``'s name."""
    by.check_scope(pd.unique(frame["region_code"]) if len(frame) else [], "示例数据")
    with store.transaction() as con:
        return _load_demo_in(con, frame, by=by, at=at)


def reset_demo(store: Store, frame: pd.DataFrame, *, by: Writer, at: datetime | None = None) -> int:
    """Erase every observation, batch, history entry and kept file, and load the demo anew, in one
    transaction, audited as a reset (and each demo batch as a commit). Only a writer of every
    region may: the reset erases all of them."""
    if by.regions is not None:
        raise ScopeError("重置示例数据会清空全部地区的数据，只有不限地区范围的账户可以操作；未做任何更改", [])
    now = at or clock.now()
    with store.transaction() as con:
        _erase(con)
        by.stage(con, "demo_reset", at=now, detail=RESET_AUDIT_DETAIL)
        return _load_demo_in(con, frame, by=by, at=at)


def _erase(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("observations", "observation_log", "observation_confirmations", "observation_corrections",
                  "load_batches", "upload_files"):
        con.execute(f"DELETE FROM {table}")  # constant table names


def _load_demo_in(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *, by: Writer, at: datetime | None) -> int:
    written = 0
    for origin, kept in DEMO_BATCHES:
        part = frame[frame["origin"].isin(kept)].copy()
        part["line"] = range(1, len(part) + 1)
        digest = hashlib.sha256(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes()).hexdigest()
        source = BatchSource(f"示例数据生成器（{origin}）", digest, origin=origin, note=DEMO_NOTES[origin])
        _commit_in(con, part, source, by=by, loaded_at=at or clock.now(), review=None, detail=DEMO_AUDIT_DETAIL,
                   closing=False)
        written += len(part)
    return written


# --------------------------------------------------------------------------- bulk load


WRITTEN_BY_BULK_LOAD = ("observations", "observation_log")


def _copy_bulk_part(con, part: pd.DataFrame, *, batch_id: int, origin: str, row_note: str) -> None:
    """One part of a bulk load on PostgreSQL: the rows DuckDB's two INSERT … SELECT write, as Arrow
    columns COPYed into observations and observation_log (seq from its sequence, in row order)."""
    n = len(part)
    (recorded_at,) = con.execute("SELECT CAST(now() AS TIMESTAMP)").fetchone()  # the transaction's start
    keys = {c: pa.array(part[c].astype(str), pa.string()) for c in ("region_code", "indicator_id", "month")}
    value = pa.array(part["value"].astype("float64"), pa.float64())
    same = {"origin": pa.repeat(origin, n).cast(pa.string()), "batch": pa.repeat(int(batch_id), n).cast(pa.int64()),
            "url": pa.nulls(n, pa.string()), "note": pa.repeat(row_note, n).cast(pa.string())}
    con.copy_into("observations", pa.table({**keys, "value": value, "origin": same["origin"],
                                            "batch_id": same["batch"], "source_url": same["url"],
                                            "note": same["note"]}))
    con.copy_into("observation_log", pa.table({
        "batch_id": same["batch"], **keys, "value": value, "origin": same["origin"], "source_batch": same["batch"],
        "source_url": same["url"], "note": same["note"],
        "recorded_at": pa.repeat(pa.scalar(recorded_at, pa.timestamp("us")), n)}))


def bulk_load(store: Store, parts: Iterable[pd.DataFrame], *, by: Writer, file_name: str, file_key: str,
              note: str, row_note: str, origin: str = "demo") -> int:
    """Write observations (region_code, indicator_id, month, value; frames, e.g. one per indicator
    as they are generated) into the store as one batch with DuckDB's own bulk insert (observations
    and their history), as a commit would record them; returns the batch id. The batch's file_hash
    is ``file_key`` and the number of rows (「national-4000000」); ``row_note``: each value's note.

    One transaction, written a part at a time: only the current part is held as a frame (DuckDB
    writes a large transaction's rows to the file as it goes). Each key must be new to the store
    and appear once in ``parts``: there is no diff (a benchmark loads a new, empty store)."""
    now = clock.now()
    with store.transaction() as con:
        batch_id = con.execute(
            "INSERT INTO load_batches (file_name, file_hash, loaded_at, loaded_by, origin, rows_total, rows_inserted, "
            "rows_updated, rows_unchanged, note, kind, rows_warnings) "
            "VALUES (?, '', now(), ?, ?, 0, 0, 0, 0, ?, 'load', 0) RETURNING id",
            [file_name, by.name, origin, note],
        ).fetchall()[0][0]
        written = 0
        # PostgreSQL (monitor/store/pg.py): COPY straight into both tables, their indexes built
        # once after the load; DuckDB: its own bulk insert from the registered frame
        postgresql = store.url is not None
        with con.indexes_rebuilt(*WRITTEN_BY_BULK_LOAD) if postgresql else nullcontext():
            for part in parts:
                if by.regions is not None:
                    by.check_scope(pd.unique(part["region_code"].astype(str)), f"{file_name} ")
                if postgresql:
                    _copy_bulk_part(con, part, batch_id=batch_id, origin=origin, row_note=row_note)
                    written += len(part)
                    continue
                con.register("incoming", part[["region_code", "indicator_id", "month", "value"]])
                con.execute("INSERT INTO observations SELECT region_code::VARCHAR, indicator_id::VARCHAR, "
                            "month::VARCHAR, value, ?, ?, NULL, ? FROM incoming", [origin, batch_id, row_note])
                con.execute("INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, "
                            "source_batch, source_url, note, recorded_at) SELECT ?, region_code::VARCHAR, "
                            "indicator_id::VARCHAR, month::VARCHAR, value, ?, ?, NULL, ?, now() FROM incoming",
                            [batch_id, origin, batch_id, row_note])
                con.unregister("incoming")
                written += len(part)
        con.execute("UPDATE load_batches SET file_hash = ?, rows_total = ?, rows_inserted = ? WHERE id = ?",
                    [f"{file_key}-{written}", written, written, batch_id])
        by.stage(con, "commit", at=now, target=f"批次 {batch_id}", detail=note)
    return int(batch_id)
